"""Per-day, per-release and per-skill aggregates of attempts, read by commands, the exporter and
summaries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from routelens.analytics.cost import DaySpend
from routelens.analytics.trend import DayCounts, GroupCounts, VerdictCounts
from routelens.analytics.window import AttemptFilter
from routelens.store import schema
from routelens.store.reads import attempts_select
from routelens.store.sql_functions import day_of, utc_day, verdict_sums


def _counts(passed: Any, failed: Any, errors: Any) -> VerdictCounts:
    return VerdictCounts(int(passed or 0), int(failed or 0), int(errors or 0))


def daily_verdicts(engine: Engine, attempt_filter: AttemptFilter) -> list[DayCounts]:
    """Verdict counts per UTC day of the attempts' start."""
    day = utc_day(schema.attempts.c.started_at)
    query = attempts_select([day, *verdict_sums()], attempt_filter).group_by(day)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [DayCounts(day_of(row[0]), _counts(*row[1:])) for row in rows]


def release_verdicts(
    engine: Engine, attempt_filter: AttemptFilter, *, label_key: str | None
) -> list[GroupCounts]:
    """Verdict counts per value of a run label (or per git commit when `label_key` is None).

    Runs without the label (or commit) are left out. The value is computed in a subquery
    so that its bound label key appears once: PostgreSQL would not match a SELECT and a
    GROUP BY expression carrying two different parameters.
    """
    runs, attempts = schema.runs.c, schema.attempts.c
    value = runs.git_commit if label_key is None else runs.labels[label_key].as_string()
    inner = attempts_select(
        [value.label("value"), attempts.started_at, attempts.verdict], attempt_filter
    ).subquery()
    query = (
        select(inner.c.value, func.min(inner.c.started_at), *verdict_sums(inner.c.verdict))
        .where(inner.c.value.is_not(None))
        .group_by(inner.c.value)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        GroupCounts(str(row[0]), _as_utc(row[1]), _counts(*row[2:]))
        for row in rows
        if row[1] is not None
    ]


def expected_skill_verdicts(
    engine: Engine, attempt_filter: AttemptFilter
) -> list[tuple[str | None, VerdictCounts]]:
    """Verdict counts per expected skill (None: cases whose right answer is to ask)."""
    skill = schema.attempts.c.expected_skill
    query = attempts_select([skill, *verdict_sums()], attempt_filter, attempts_only=True).group_by(
        skill
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [(row[0], _counts(*row[1:])) for row in rows]


def _as_utc(value: datetime | str) -> datetime:
    # MIN() over SQLite's text loses the column type, so the driver hands back text.
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def daily_spend(engine: Engine, attempt_filter: AttemptFilter) -> list[DaySpend]:
    """Spend and attempts per UTC day of the attempts' start."""
    attempts = schema.attempts.c
    day = utc_day(attempts.started_at)
    query = attempts_select(
        [day, func.sum(attempts.cost_usd), func.count()], attempt_filter, attempts_only=True
    ).group_by(day)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [DaySpend(day_of(row[0]), float(row[1] or 0.0), int(row[2])) for row in rows]
