"""Reading the rollups for a filter: whole hours from the tables, the rest from the attempts.

A window ends "now" and starts at any instant, so its first and last hours are usually only
partly inside it. `rollup_rows` answers for the hours wholly inside from a rollup table, and
aggregates the attempts of the partial hours at the edges with the same facts
(`store/rollups.py`); the union has the table's columns, and a reader groups it as it needs
(by day: the first ten characters of `hour`). A window shorter than an hour, or one that
holds no whole hour, reads attempts only. Labels join `runs`; run ids filter `run_id`.
Nothing is written: a read-only store reads this way too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, select, union_all

from routelens.analytics.window import AttemptFilter
from routelens.store import schema
from routelens.store.reads import label_conditions
from routelens.store.rollups import Rollup
from routelens.store.sql_functions import hour_key

_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Period:
    """Which attempts a rollup read covers: a start time, an end time (either may be open),
    run labels and run ids."""

    start: datetime | None = None
    end: datetime | None = None
    end_inclusive: bool = True
    labels: Mapping[str, str] = field(default_factory=dict)
    run_ids: tuple[str, ...] = ()

    @classmethod
    def of(cls, attempt_filter: AttemptFilter) -> Period:
        """What `attempt_filter` admits: its window up to now (inclusive), labels and runs;
        no time bounds at all without a window."""
        since = attempt_filter.since
        return cls(
            start=since,
            end=None if since is None else attempt_filter.now,
            labels=dict(attempt_filter.labels),
            run_ids=attempt_filter.run_ids,
        )


@dataclass(frozen=True)
class HourSplit:
    """Whole hours `[first_hour, end_hour)` served by a table (None: unbounded on that side;
    `tables` False: no whole hour), and the time ranges read from attempts."""

    tables: bool
    first_hour: str | None
    end_hour: str | None
    raw: tuple[tuple[datetime | None, datetime | None, bool], ...]
    """(start inclusive, end, end inclusive) ranges of attempts to aggregate."""


def split_hours(period: Period) -> HourSplit:
    """Which part of a period the tables answer, and which the attempts."""
    start, end = period.start, period.end
    first = None if start is None else _ceil_hour(start)
    last = None if end is None else _floor_hour(end)
    if start is not None and first is None:  # no hour starts after `start`
        return HourSplit(False, None, None, ((start, end, period.end_inclusive),))
    if first is not None and last is not None and first >= last:
        return HourSplit(False, None, None, ((start, end, period.end_inclusive),))
    raw: list[tuple[datetime | None, datetime | None, bool]] = []
    if start is not None and first is not None and start < first:
        raw.append((start, first, False))
    if end is not None and last is not None and (last < end or period.end_inclusive):
        raw.append((last, end, period.end_inclusive))
    return HourSplit(
        True,
        None if first is None else hour_key(first),
        None if last is None else hour_key(last),
        tuple(raw),
    )


def _floor_hour(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(minute=0, second=0, microsecond=0)


def _ceil_hour(moment: datetime) -> datetime | None:
    floor = _floor_hour(moment)
    if floor == moment:
        return floor
    try:
        return floor + _HOUR
    except OverflowError:
        return None


def rollup_rows(dialect: str, rollup: Rollup, period: Period) -> Subquery:
    """Rows of `rollup`'s shape (its keys and measures) that sum to the period's attempts.

    Several rows may share a key (one from the table, others from the partial hours): a
    reader always groups and sums them.
    """
    columns = [*rollup.keys, *rollup.measures]
    split = split_hours(period)
    parts: list[Select[Any]] = []
    if split.tables:
        table = rollup.table
        joined: Any = table
        if period.labels:
            joined = table.join(schema.runs, table.c.run_id == schema.runs.c.run_id)
        conditions: list[ColumnElement[bool]] = []
        if split.first_hour is not None:
            conditions.append(table.c.hour >= split.first_hour)
        if split.end_hour is not None:
            conditions.append(table.c.hour < split.end_hour)
        if period.run_ids:
            conditions.append(table.c.run_id.in_(period.run_ids))
        conditions += label_conditions(AttemptFilter(labels=period.labels))
        parts.append(
            select(*(table.c[name] for name in columns)).select_from(joined).where(*conditions)
        )
    attempts = schema.attempts.c
    for start, end, end_inclusive in split.raw:
        time: list[ColumnElement[bool]] = []
        if start is not None:
            time.append(attempts.started_at >= start)
        if end is not None:
            time.append(attempts.started_at <= end if end_inclusive else attempts.started_at < end)
        if period.run_ids:
            time.append(attempts.run_id.in_(period.run_ids))
        time += label_conditions(AttemptFilter(labels=period.labels))
        parts.append(rollup.aggregated(dialect, time, join_runs=bool(period.labels)))
    if not parts:  # cannot happen: a period always has whole hours or raw ranges
        raise AssertionError("a period with neither hours nor attempts")
    if len(parts) == 1:
        return parts[0].subquery(rollup.table.name)
    return union_all(*parts).subquery(rollup.table.name)
