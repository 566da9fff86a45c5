"""Keeping the rollups current, in the same transaction as the attempts they sum.

Every write of attempts ends with one set-based step per rollup table (never one per row):
new attempts are aggregated by the table's key and added with an upsert (sums added,
minimums and maximums combined), so a batch of ten thousand attempts costs four statements.
An attempt overwritten in place (`record_attempt(replace=True)`) may leave a run's hour with
a minimum or maximum that no attempt holds any more, so the hours it left and entered are
recomputed from the run's attempts instead. Deleting runs deletes their rows (every key has
the run).

On PostgreSQL several processes may write one run at once (shards, queue workers); each
takes a transaction-level advisory lock per run before touching that run's rows, so a
recomputation never races an addition. SQLite writers are already one at a time.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import Connection, bindparam, delete, literal_column, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import BigInteger

from routelens.store import schema
from routelens.store.records import AttemptRecord
from routelens.store.rollup_schema import key_elements
from routelens.store.rollups import ROLLUPS, Conditions, Rollup
from routelens.store.sql_functions import Insert, insert_for, scalar_max, scalar_min, utc_hour

_RUN_LOCK_SPACE = 0x726C  # "rl": the advisory lock space of the per-run rollup locks
_IDS_PER_STATEMENT = 10_000


def add_attempts(connection: Connection, conditions: Conditions, run_ids: Iterable[str]) -> None:
    """Add the attempts matching `conditions` (not counted yet) to every rollup.

    `run_ids` are the runs those attempts belong to (locked first on PostgreSQL).
    """
    lock_runs(connection, run_ids)
    for rollup in ROLLUPS:
        _upsert(connection, rollup, conditions)


def add_attempts_by_id(
    connection: Connection, attempt_ids: Collection[int], run_ids: Iterable[str]
) -> None:
    """`add_attempts` for the attempts with these ids.

    The runner calls this once per attempt, so its statements are built once per process
    (`_upserts_by_id`) and only executed here: building five upserts with SQLAlchemy costs
    milliseconds, executing them tens of microseconds.
    """
    if not attempt_ids:
        return
    lock_runs(connection, run_ids)
    dialect = connection.dialect.name
    if len(attempt_ids) == 1 and dialect == "sqlite":  # the runner's: one per transaction
        [only] = attempt_ids
        for sql in _sqlite_upserts_of_one():
            connection.exec_driver_sql(sql, {"attempt_id": only})
        return
    if len(attempt_ids) == 1:
        [only] = attempt_ids
        for statement in _upserts_by_id(dialect, many=False):
            connection.execute(statement, {"attempt_id": only})
        return
    ids = sorted(attempt_ids)
    for start in range(0, len(ids), _IDS_PER_STATEMENT):
        chunk = ids[start : start + _IDS_PER_STATEMENT]
        for statement in _upserts_by_id(dialect, many=True):
            connection.execute(statement, {"attempt_ids": chunk})


@cache
def _sqlite_upserts_of_one() -> tuple[str, ...]:
    """Each rollup's upsert of one attempt as SQLite text, the attempt's id its parameter
    `:attempt_id`. Run as driver SQL: SQLAlchemy's work per execution (parameters, result
    set-up: about 40 µs a statement) would double what recording an attempt costs."""
    dialect = sqlite.dialect()
    condition = schema.attempts.c.attempt_id == literal_column(":attempt_id")
    return tuple(
        str(
            _upsert_statement("sqlite", rollup, [condition]).compile(
                dialect=dialect, compile_kwargs={"literal_binds": True}
            )
        )
        for rollup in ROLLUPS
    )


@cache
def _upserts_by_id(dialect: str, *, many: bool) -> tuple[Insert, ...]:
    """Each rollup's upsert of the attempts whose ids are the parameter `attempt_ids`
    (`many`), or of the one attempt whose id is the parameter `attempt_id`."""
    attempt_id = schema.attempts.c.attempt_id
    if not many:
        condition = attempt_id == bindparam("attempt_id")
    elif dialect == "postgresql":  # one array parameter, not thousands
        condition = attempt_id == bindparam("attempt_ids", type_=ARRAY(BigInteger)).any_()
    else:
        condition = attempt_id.in_(bindparam("attempt_ids", expanding=True))
    return tuple(_upsert_statement(dialect, rollup, [condition]) for rollup in ROLLUPS)


def refresh_hours(connection: Connection, run_id: str, hours: Collection[str]) -> None:
    """Recompute a run's rows of these hours (`utc_hour` text) from its attempts."""
    if not hours:
        return
    lock_runs(connection, [run_id])
    attempts = schema.attempts.c
    for rollup in ROLLUPS:
        table = rollup.table
        connection.execute(
            delete(table).where(table.c.run_id == run_id, table.c.hour.in_(sorted(hours)))
        )
        hour = utc_hour(attempts.started_at)
        _upsert(connection, rollup, [attempts.run_id == run_id, hour.in_(sorted(hours))])


def touched_hours(connection: Connection, attempt_ids: Collection[int]) -> set[tuple[str, str]]:
    """The (run, hour) pairs of these attempts."""
    attempts = schema.attempts.c
    found: set[tuple[str, str]] = set()
    ids = sorted(attempt_ids)
    for start in range(0, len(ids), _IDS_PER_STATEMENT):
        chunk = ids[start : start + _IDS_PER_STATEMENT]
        query = (
            schema.attempts.select()
            .with_only_columns(attempts.run_id, utc_hour(attempts.started_at))
            .where(attempts.attempt_id.in_(chunk))
            .distinct()
        )
        found.update((str(run_id), str(hour)) for run_id, hour in connection.execute(query))
    return found


def stored_hour(connection: Connection, attempt: AttemptRecord) -> set[tuple[str, str]]:
    """The (run, hour) of the stored attempt at `attempt`'s (run, case, repeat), if any."""
    attempts = schema.attempts.c
    query = (
        schema.attempts.select()
        .with_only_columns(utc_hour(attempts.started_at))
        .where(
            attempts.run_id == attempt.run_id,
            attempts.case_id == attempt.case_id,
            attempts.repeat_index == attempt.repeat_index,
        )
    )
    return {(attempt.run_id, str(hour)) for (hour,) in connection.execute(query)}


def fill_rollups(connection: Connection) -> None:
    """Sum every attempt of the store into the (empty) rollups: schema v8's migration."""
    for rollup in ROLLUPS:
        _upsert(connection, rollup, [])


def rebuild_rollups(connection: Connection) -> None:
    """Empty the rollups and sum every attempt again (after attempts were changed by hand)."""
    for rollup in ROLLUPS:
        connection.execute(delete(rollup.table))
    fill_rollups(connection)


def lock_runs(connection: Connection, run_ids: Iterable[str]) -> None:
    """Take PostgreSQL's per-run rollup locks (held to the end of the transaction), in order.

    Nothing on SQLite, whose writers already go one at a time.
    """
    if connection.dialect.name != "postgresql":
        return
    statement = text("SELECT pg_advisory_xact_lock(:space, hashtext(:run_id))")
    for run_id in sorted(set(run_ids)):
        connection.execute(statement, {"space": _RUN_LOCK_SPACE, "run_id": run_id})


def hour_start(hour: str) -> datetime:
    """The first instant of a `utc_hour` text."""
    return datetime.strptime(hour, "%Y-%m-%d %H").replace(tzinfo=UTC)


def next_hour(hour: str) -> datetime | None:
    """The first instant after a `utc_hour` text's hour (None past the last representable)."""
    try:
        return hour_start(hour) + timedelta(hours=1)
    except OverflowError:
        return None


def _upsert(connection: Connection, rollup: Rollup, conditions: Conditions) -> None:
    connection.execute(_upsert_statement(connection.dialect.name, rollup, conditions))


def _upsert_statement(dialect: str, rollup: Rollup, conditions: Conditions) -> Insert:
    """Add the facts of the attempts matching `conditions` to `rollup`'s rows: sums added,
    minimums and maximums combined."""
    table = rollup.table
    rows = rollup.aggregated(dialect, conditions)
    insert = insert_for(dialect, table).from_select([*rollup.keys, *rollup.measures], rows)
    current, offered = table.c, insert.excluded
    updates = {name: current[name] + offered[name] for name in rollup.sums}
    updates |= {name: scalar_min(current[name], offered[name]) for name in rollup.minimums}
    updates |= {name: scalar_max(current[name], offered[name]) for name in rollup.maximums}
    return insert.on_conflict_do_update(
        index_elements=key_elements(table, rollup.keys), set_=updates
    )
