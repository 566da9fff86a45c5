"""How far a run has got, for processes that share it: shards, queue workers, a submitter.

Several processes, on several machines, write one run. They coordinate through the run row
itself: `update_run_settings` changes the run's `settings` JSON in one write transaction
that holds the row (SELECT ... FOR UPDATE on PostgreSQL; SQLite's writes already begin
IMMEDIATE, which takes the database's one write lock), so concurrent read-modify-writes of
the same run happen one after another and none is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, select, tuple_

from routelens.store import schema
from routelens.store.records import AttemptRecord, RunStatus, Verdict
from routelens.store.sqlstore import Store

T = TypeVar("T")

SHARDS_SETTING = "shards"
"""The key of a sharded run's settings that its shards share: {"count": N, "attempts":
planned, "finished": [indices]} (see `runner/shards.py`); every shard records the same run
but for `finished`, which each store holds as far as it knows."""

AttemptKey = tuple[str, int]
"""(case_id, repeat_index): an attempt's place in its run."""

_KEYS_PER_QUERY = 500  # bound parameters per statement stay far below every driver's limit


@dataclass(frozen=True)
class SettingsChange:
    """What `update_run_settings` writes: new settings, and a new status when given."""

    settings: Mapping[str, Any]
    status: RunStatus | None = None


def update_run_settings(
    store: Store,
    run_id: str,
    change: Callable[[dict[str, Any], RunStatus], tuple[SettingsChange, T]],
) -> T:
    """Read a run's settings and status, hold the row, write what `change` returns.

    `change(settings, status)` returns (the change to write, a value to hand back); it runs
    inside the transaction, so two processes updating one run never overwrite each other.
    A new status also sets the run's finish time (now; none for `running`). LookupError if
    there is no such run.
    """

    def write(connection: Connection) -> T:
        table = schema.runs
        row = connection.execute(
            select(table.c.settings, table.c.status)
            .where(table.c.run_id == run_id)
            .with_for_update()
        ).first()
        if row is None:
            raise LookupError(f"no run {run_id!r} in {store.display_url}")
        update, result = change(dict(row.settings or {}), RunStatus(row.status))
        values: dict[str, Any] = {"settings": dict(update.settings)}
        if update.status is not None:
            values["status"] = str(update.status)
            running = update.status is RunStatus.RUNNING
            values["finished_at"] = None if running else datetime.now(UTC)
        connection.execute(table.update().where(table.c.run_id == run_id).values(**values))
        return result

    return store.execute_write(write)


@dataclass(frozen=True)
class AttemptState:
    """Where one stored attempt stands: its verdict and the sequence number it was given."""

    verdict: Verdict
    sequence_number: int


def attempt_states(store: Store, run_id: str) -> dict[AttemptKey, AttemptState]:
    """Every stored attempt of a run by (case, repeat): verdict and sequence number only,
    so a process watching a run reads a few small columns, not whole attempts."""
    table = schema.attempts
    statement = select(
        table.c.case_id, table.c.repeat_index, table.c.verdict, table.c.sequence_number
    ).where(table.c.run_id == run_id)
    with store.engine.connect() as connection:
        return {
            (case_id, repeat): AttemptState(Verdict(verdict), sequence)
            for case_id, repeat, verdict, sequence in connection.execute(statement)
        }


def attempt_state(store: Store, run_id: str, key: AttemptKey) -> AttemptState | None:
    """The state of one attempt, or None when the run does not have it yet."""
    table = schema.attempts
    statement = select(table.c.verdict, table.c.sequence_number).where(
        table.c.run_id == run_id, table.c.case_id == key[0], table.c.repeat_index == key[1]
    )
    with store.engine.connect() as connection:
        row = connection.execute(statement).first()
    return None if row is None else AttemptState(Verdict(row.verdict), row.sequence_number)


def attempts_with_keys(
    store: Store, run_id: str, keys: Collection[AttemptKey]
) -> list[AttemptRecord]:
    """The stored attempts of a run at these (case, repeat) places, in sequence order."""
    table = schema.attempts
    found: list[AttemptRecord] = []
    with store.engine.connect() as connection:
        for chunk in _chunks(sorted(keys), _KEYS_PER_QUERY):
            statement = select(table).where(
                table.c.run_id == run_id,
                tuple_(table.c.case_id, table.c.repeat_index).in_(chunk),
            )
            rows = connection.execute(statement).mappings().all()
            found += [schema.attempt_from_row(row) for row in rows]
    return sorted(found, key=lambda a: (a.sequence_number, a.case_id, a.repeat_index))


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
