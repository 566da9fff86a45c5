"""Per-day, per-release and per-skill aggregates of attempts, read by commands, the exporter and
summaries: sums of the attempt rollups (`store/rollup_reads.py`), never a scan of the window's
attempts beyond its partial first and last hours."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from routelens.analytics.cost import DaySpend
from routelens.analytics.trend import DayCounts, GroupCounts, VerdictCounts
from routelens.analytics.window import AttemptFilter
from routelens.store import schema
from routelens.store.rollup_reads import Period, rollup_rows
from routelens.store.rollups import ATTEMPTS, SPEND_DECIMALS
from routelens.store.sql_functions import day_of, day_of_hour, verdict_sums


def _counts(passed: Any, failed: Any, errors: Any) -> VerdictCounts:
    return VerdictCounts(int(passed or 0), int(failed or 0), int(errors or 0))


def daily_verdicts(engine: Engine, attempt_filter: AttemptFilter) -> list[DayCounts]:
    """Verdict counts per UTC day of the attempts' start."""
    rows = rollup_rows(engine.dialect.name, ATTEMPTS, Period.of(attempt_filter))
    day = day_of_hour(rows.c.hour)
    query = select(day, *verdict_sums(rows.c.verdict, rows.c.attempts)).group_by(day)
    with engine.connect() as connection:
        found = connection.execute(query).all()
    return [DayCounts(day_of(row[0]), _counts(*row[1:])) for row in found]


def release_verdicts(
    engine: Engine, attempt_filter: AttemptFilter, *, label_key: str | None
) -> list[GroupCounts]:
    """Verdict counts per value of a run label (or per git commit when `label_key` is None),
    with the first start among their attempts.

    Runs without the label (or commit) are left out. The value is computed in a subquery
    so that its bound label key appears once: PostgreSQL would not match a SELECT and a
    GROUP BY expression carrying two different parameters.
    """
    runs = schema.runs.c
    rows = rollup_rows(engine.dialect.name, ATTEMPTS, Period.of(attempt_filter))
    value = runs.git_commit if label_key is None else runs.labels[label_key].as_string()
    inner = (
        select(value.label("value"), rows.c.first_started_at, rows.c.verdict, rows.c.attempts)
        .select_from(rows.join(schema.runs, rows.c.run_id == runs.run_id))
        .subquery("valued")
    )
    query = (
        select(
            inner.c.value,
            func.min(inner.c.first_started_at),
            *verdict_sums(inner.c.verdict, inner.c.attempts),
        )
        .where(inner.c.value.is_not(None))
        .group_by(inner.c.value)
    )
    with engine.connect() as connection:
        found = connection.execute(query).all()
    return [
        GroupCounts(str(row[0]), as_utc(row[1]), _counts(*row[2:]))
        for row in found
        if row[1] is not None
    ]


def expected_skill_verdicts(
    engine: Engine, attempt_filter: AttemptFilter
) -> list[tuple[str | None, VerdictCounts]]:
    """Verdict counts per expected skill (None: cases whose right answer is to ask)."""
    rows = rollup_rows(engine.dialect.name, ATTEMPTS, Period.of(attempt_filter))
    skill = rows.c.expected_skill
    query = select(skill, *verdict_sums(rows.c.verdict, rows.c.attempts)).group_by(skill)
    with engine.connect() as connection:
        found = connection.execute(query).all()
    return [(row[0], _counts(*row[1:])) for row in found]


def as_utc(value: datetime | str) -> datetime:
    """A timestamp from an aggregate, aware and in UTC.

    MIN() over SQLite's text loses the column type, so the driver hands back text."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def daily_spend(engine: Engine, attempt_filter: AttemptFilter) -> list[DaySpend]:
    """Spend and attempts per UTC day of the attempts' start."""
    rows = rollup_rows(engine.dialect.name, ATTEMPTS, Period.of(attempt_filter))
    day = day_of_hour(rows.c.hour)
    query = select(day, func.sum(rows.c.cost_usd), func.sum(rows.c.attempts)).group_by(day)
    with engine.connect() as connection:
        found = connection.execute(query).all()
    return [
        DaySpend(day_of(row[0]), round(float(row[1] or 0.0), SPEND_DECIMALS), int(row[2]))
        for row in found
    ]
