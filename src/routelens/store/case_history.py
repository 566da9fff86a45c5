"""One case across runs: its newest attempts, its verdicts per setup, two attempts in full.

Every read goes through the `(case_id, started_at)` index or the flaky history index, so a
case page costs the same on a store of a thousand attempts or of millions. The flaky
statistics of a case fold its verdict letters in time order with the functions
`routelens flaky` uses (`store.flaky_history.fold_history`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from routelens.analytics.flaky import CaseKey, FlakyAggregate
from routelens.analytics.window import AttemptFilter
from routelens.store import schema
from routelens.store.flaky_history import fold_history
from routelens.store.period_reads import as_utc
from routelens.store.records import AttemptRecord, Verdict
from routelens.store.sql_functions import verdict_sums

STRIP_LENGTH = 200
"""How many of a case's newest attempts the strip shows."""


@dataclass(frozen=True)
class StripAttempt:
    """One attempt of a case as its strip shows it."""

    attempt_id: int
    run_id: str
    repeat_index: int
    started_at: datetime
    verdict: str
    actual_skill: str | None
    asked_clarification: bool
    latency_s: float
    error_type: str | None


@dataclass(frozen=True)
class CaseTotals:
    """A case's attempts over all its history, by verdict, and when it was first and last run."""

    attempts: int
    passed: int
    failed: int
    errors: int
    first_seen: datetime | None
    last_seen: datetime | None


def case_totals(engine: Engine, case_id: str) -> CaseTotals:
    """Verdict counts and the first and last start of every attempt of the case."""
    attempts = schema.attempts.c
    query = select(
        func.count(),
        *verdict_sums(),
        func.min(attempts.started_at),
        func.max(attempts.started_at),
    ).where(attempts.case_id == case_id)
    with engine.connect() as connection:
        row = connection.execute(query).one()
    return CaseTotals(
        attempts=int(row[0]),
        passed=int(row[1] or 0),
        failed=int(row[2] or 0),
        errors=int(row[3] or 0),
        first_seen=_as_datetime(row[4]),
        last_seen=_as_datetime(row[5]),
    )


def _as_datetime(value: Any) -> datetime | None:
    # MIN()/MAX() over SQLite's text lose the column type.
    return None if value is None else as_utc(value)


def case_strip(engine: Engine, case_id: str, limit: int = STRIP_LENGTH) -> list[StripAttempt]:
    """The case's newest `limit` attempts, oldest first."""
    attempts = schema.attempts.c
    query = (
        select(
            attempts.attempt_id,
            attempts.run_id,
            attempts.repeat_index,
            attempts.started_at,
            attempts.verdict,
            attempts.actual_skill,
            attempts.asked_clarification,
            attempts.latency_s,
            attempts.error_type,
        )
        .where(attempts.case_id == case_id)
        .order_by(attempts.started_at.desc(), attempts.attempt_id.desc())
        .limit(limit)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        StripAttempt(
            attempt_id=int(row[0]),
            run_id=row[1],
            repeat_index=int(row[2]),
            started_at=row[3],
            verdict=row[4],
            actual_skill=row[5],
            asked_clarification=bool(row[6]),
            latency_s=float(row[7]),
            error_type=row[8],
        )
        for row in reversed(rows)
    ]


def case_flaky_aggregates(
    engine: Engine, case_id: str, attempt_filter: AttemptFilter
) -> list[FlakyAggregate]:
    """The case's flaky groups (input, skills hash, router, model) within the filter's window.

    Reads the case's verdicts in time order (start, sequence number, insertion) and folds
    each group's letters as `routelens flaky` does.
    """
    attempts, runs = schema.attempts.c, schema.runs.c
    query = (
        select(
            attempts.input,
            runs.skills_hash,
            runs.router,
            runs.model,
            func.substr(attempts.verdict, 1, 1),
        )
        .select_from(schema.attempts.join(schema.runs, runs.run_id == attempts.run_id))
        .where(attempts.case_id == case_id)
        .order_by(attempts.started_at, attempts.sequence_number, attempts.attempt_id)
    )
    since = attempt_filter.since
    if since is not None:
        query = query.where(attempts.started_at.between(since, attempt_filter.now))
    letters: defaultdict[CaseKey, list[str]] = defaultdict(list)
    with engine.connect() as connection:
        for input_text, skills_hash, router, model, letter in connection.execute(query):
            letters[CaseKey(case_id, input_text, skills_hash, router, model)].append(letter)
    return [fold_history(key, "".join(verdicts)) for key, verdicts in letters.items()]


def case_attempt(engine: Engine, case_id: str, attempt_id: int) -> AttemptRecord | None:
    """One attempt of the case in full, or None when the case has no such attempt."""
    table = schema.attempts
    query = select(table).where(table.c.attempt_id == attempt_id, table.c.case_id == case_id)
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    return None if row is None else schema.attempt_from_row(row)


def latest_attempt_id(engine: Engine, case_id: str, verdict: Verdict) -> int | None:
    """The id of the case's newest attempt with this verdict."""
    attempts = schema.attempts.c
    query = (
        select(attempts.attempt_id)
        .where(attempts.case_id == case_id, attempts.verdict == str(verdict))
        .order_by(attempts.started_at.desc(), attempts.attempt_id.desc())
        .limit(1)
    )
    with engine.connect() as connection:
        found = connection.execute(query).scalar()
    return None if found is None else int(found)


def latest_case_definition(engine: Engine, case_id: str) -> dict[str, Any] | None:
    """The case's definition as recorded by the run of its newest attempt.

    The run is found through the attempts' case index; `run_cases` is keyed by run first.
    """
    attempts, cases = schema.attempts.c, schema.run_cases.c
    newest_run = (
        select(attempts.run_id)
        .where(attempts.case_id == case_id)
        .order_by(attempts.started_at.desc(), attempts.attempt_id.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = select(cases.definition).where(cases.run_id == newest_run, cases.case_id == case_id)
    with engine.connect() as connection:
        definition = connection.execute(query).scalar()
    return definition if isinstance(definition, dict) else None
