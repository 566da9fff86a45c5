"""Find runs the way people name them, list them with filters, and delete them.

A run is named by its full id, a unique prefix of it, or `latest`; deleting a run deletes
its skills, cases and attempts with it (the schema cascades) in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, delete, func, select

from routelens.errors import InputError
from routelens.store import schema
from routelens.store.records import RunRecord
from routelens.store.rollup_schema import ROLLUP_TABLES
from routelens.store.sqlstore import Store

LATEST = "latest"


def find_run(store: Store, reference: str) -> RunRecord:
    """The run `reference` names: an id, a unique id prefix, or `latest`; else InputError."""
    table = schema.runs
    if reference == LATEST:
        statement = select(table).order_by(table.c.started_at.desc(), table.c.run_id.desc())
    else:
        escaped = reference.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = (
            select(table)
            .where(table.c.run_id.like(f"{escaped}%", escape="\\"))
            .order_by(table.c.run_id)
        )
    with store.engine.connect() as connection:
        rows = connection.execute(statement.limit(6)).mappings().all()
    runs = [schema.run_from_row(row) for row in rows]
    exact = [run for run in runs if run.run_id == reference]
    if exact:
        return exact[0]
    if not runs:
        what = "no runs in this store" if reference == LATEST else f"no run {reference!r}"
        raise InputError(store.display_url, what, field="run_id")
    if reference != LATEST and len(runs) > 1:
        shown = ", ".join(run.run_id for run in runs[:5])
        raise InputError(
            store.display_url,
            f"{reference!r} names more than one run ({shown}{', ...' if len(runs) > 5 else ''});"
            " give more of the id",
            field="run_id",
        )
    return runs[0]


@dataclass(frozen=True)
class RunQuery:
    """Which runs to list: by label values, status, router; newest `limit` of them."""

    labels: Mapping[str, str] | None = None
    status: str | None = None
    router: str | None = None
    limit: int | None = None
    started_before: datetime | None = None
    offset: int = 0


def _matching(statement: Select[Any], query: RunQuery) -> Select[Any]:
    table = schema.runs
    for key, value in (query.labels or {}).items():
        statement = statement.where(table.c.labels[key].as_string() == value)
    if query.status is not None:
        statement = statement.where(table.c.status == query.status)
    if query.router is not None:
        statement = statement.where(table.c.router == query.router)
    if query.started_before is not None:
        statement = statement.where(table.c.started_at < query.started_before)
    return statement


def list_runs(store: Store, query: RunQuery) -> list[RunRecord]:
    """Runs matching `query`, newest first (skipping `offset` of them)."""
    table = schema.runs
    statement = _matching(select(table), query).order_by(
        table.c.started_at.desc(), table.c.run_id.desc()
    )
    statement = statement.limit(query.limit).offset(query.offset or None)
    with store.engine.connect() as connection:
        rows = connection.execute(statement).mappings().all()
    return [schema.run_from_row(row) for row in rows]


def count_runs(store: Store, query: RunQuery) -> int:
    """How many runs match `query` (ignoring its limit and offset)."""
    statement = _matching(select(func.count()).select_from(schema.runs), query)
    with store.engine.connect() as connection:
        return int(connection.execute(statement).scalar_one())


@dataclass(frozen=True)
class Deleted:
    """What a deletion removed."""

    runs: int
    attempts: int


def delete_runs(store: Store, run_ids: Sequence[str]) -> Deleted:
    """Delete these runs with their skills, cases and attempts, in one transaction."""
    ids = list(dict.fromkeys(run_ids))

    def write(connection: Connection) -> Deleted:
        attempts = 0
        runs = 0
        # chunks keep the IN list under SQLite's bound-parameter limit
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            count = select(func.count()).where(schema.attempts.c.run_id.in_(chunk))
            attempts += int(connection.execute(count).scalar_one())
            # the cascade would remove these too; explicit deletes keep it fast without
            # depending on the database enforcing foreign keys
            for child in (*ROLLUP_TABLES, schema.attempts, schema.run_cases, schema.run_skills):
                connection.execute(delete(child).where(child.c.run_id.in_(chunk)))
            result = connection.execute(delete(schema.runs).where(schema.runs.c.run_id.in_(chunk)))
            runs += result.rowcount
        return Deleted(runs=runs, attempts=attempts)

    return store.execute_write(write)
