"""Accuracy over time: by day, by ISO week, week over week, and release against release.

Accuracy is passed ÷ decided (pass + fail) as everywhere in routelens; errors are counted
but never make a bucket worse. A delta is the change in accuracy against the previous
bucket, as a 0-1 fraction (0.02 is two percentage points); it is "flat" when its size is
below `FLAT_THRESHOLD` (one point), so noise of a few attempts does not draw an arrow.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from routelens.analytics.summary import DecidedAccuracy

FLAT_THRESHOLD = 0.01
"""A delta smaller than one percentage point (in size) is flat."""


class Direction(StrEnum):
    """Which way accuracy moved against the previous bucket."""

    UP = "up"
    DOWN = "down"
    FLAT = "flat"


ARROWS = {Direction.UP: "↑", Direction.DOWN: "↓", Direction.FLAT: "→"}
"""How a direction is drawn in tables."""


@dataclass(frozen=True)
class VerdictCounts(DecidedAccuracy):
    """Verdicts of the attempts in one group (a day, a week, a release)."""

    passed: int
    failed: int
    errors: int


@dataclass(frozen=True)
class DayCounts:
    """The verdicts of one UTC day (one SQL group)."""

    day: date
    counts: VerdictCounts


@dataclass(frozen=True)
class GroupCounts:
    """The verdicts of the runs sharing one label value or git commit, and when it appeared."""

    value: str
    first_seen: datetime
    counts: VerdictCounts


@dataclass(frozen=True)
class TrendPoint:
    """One bucket of a series with its accuracy change against the bucket before it."""

    key: str
    start: date | None
    counts: VerdictCounts
    delta: float | None
    direction: Direction | None


@dataclass(frozen=True)
class WeekOverWeek:
    """The latest week with data against the calendar week before it."""

    current_week: str | None
    previous_week: str | None
    current_accuracy: float | None
    previous_accuracy: float | None
    delta: float | None
    direction: Direction | None


def direction_of(delta: float | None, threshold: float = FLAT_THRESHOLD) -> Direction | None:
    """Up, down, or flat when |delta| < threshold; None when there is no delta."""
    if delta is None:
        return None
    if abs(delta) < threshold:
        return Direction.FLAT
    return Direction.UP if delta > 0 else Direction.DOWN


def accuracy_delta(current: float | None, previous: float | None) -> float | None:
    """current - previous, or None when either is unknown."""
    return None if current is None or previous is None else current - previous


def _with_deltas(
    items: Iterable[tuple[str, date | None, VerdictCounts]], threshold: float
) -> tuple[TrendPoint, ...]:
    points: list[TrendPoint] = []
    previous: float | None = None
    for key, start, counts in items:
        delta = accuracy_delta(counts.accuracy, previous)
        points.append(TrendPoint(key, start, counts, delta, direction_of(delta, threshold)))
        if counts.accuracy is not None:
            previous = counts.accuracy
    return tuple(points)


def _add(counts: Iterable[VerdictCounts]) -> VerdictCounts:
    rows = list(counts)
    return VerdictCounts(
        passed=sum(row.passed for row in rows),
        failed=sum(row.failed for row in rows),
        errors=sum(row.errors for row in rows),
    )


def iso_week_key(day: date) -> str:
    """`2025-W03`: the ISO year and week a day belongs to."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(day: date) -> date:
    """The Monday of a day's ISO week."""
    return day - timedelta(days=day.weekday())


def daily_series(
    days: Iterable[DayCounts], threshold: float = FLAT_THRESHOLD
) -> tuple[TrendPoint, ...]:
    """Accuracy per day (days with attempts only), each against the last day with a value."""
    ordered = sorted(days, key=lambda item: item.day)
    return _with_deltas(((d.day.isoformat(), d.day, d.counts) for d in ordered), threshold)


def weekly_series(
    days: Iterable[DayCounts], threshold: float = FLAT_THRESHOLD
) -> tuple[TrendPoint, ...]:
    """Accuracy per ISO week (Monday to Sunday, UTC), pooled from the days' counts."""
    weeks: dict[date, list[VerdictCounts]] = {}
    for item in days:
        weeks.setdefault(week_start(item.day), []).append(item.counts)
    return _with_deltas(
        ((iso_week_key(start), start, _add(weeks[start])) for start in sorted(weeks)), threshold
    )


def week_over_week(weeks: Sequence[TrendPoint], threshold: float = FLAT_THRESHOLD) -> WeekOverWeek:
    """The latest week against the calendar week before it (None where that week is missing)."""
    if not weeks or weeks[-1].start is None:
        return WeekOverWeek(None, None, None, None, None, None)
    current = weeks[-1]
    assert current.start is not None
    previous_start = current.start - timedelta(weeks=1)
    previous = next((week for week in weeks if week.start == previous_start), None)
    previous_accuracy = None if previous is None else previous.counts.accuracy
    delta = accuracy_delta(current.counts.accuracy, previous_accuracy)
    return WeekOverWeek(
        current_week=current.key,
        previous_week=iso_week_key(previous_start),
        current_accuracy=current.counts.accuracy,
        previous_accuracy=previous_accuracy,
        delta=delta,
        direction=direction_of(delta, threshold),
    )


def release_series(
    groups: Iterable[GroupCounts],
    threshold: float = FLAT_THRESHOLD,
    order: Sequence[str] = (),
) -> tuple[TrendPoint, ...]:
    """Accuracy per release (label value or commit): in `order` (git ancestry, for
    commits), then the values `order` lacks in order of first appearance."""
    position = {value: index for index, value in enumerate(order)}
    ordered = sorted(
        groups,
        key=lambda group: (position.get(group.value, len(position)), group.first_seen, group.value),
    )
    return _with_deltas(
        ((g.value, g.first_seen.date(), g.counts) for g in ordered),
        threshold,
    )


@dataclass(frozen=True)
class TrendReport:
    """Everything `routelens trend` shows."""

    days: tuple[TrendPoint, ...]
    weeks: tuple[TrendPoint, ...]
    week_over_week: WeekOverWeek
    compare_by: str | None
    releases: tuple[TrendPoint, ...]
    threshold: float = FLAT_THRESHOLD


def trend_report(
    days: Sequence[DayCounts],
    releases: Sequence[GroupCounts] = (),
    *,
    compare_by: str | None = None,
    threshold: float = FLAT_THRESHOLD,
    release_order: Sequence[str] = (),
) -> TrendReport:
    """Daily and weekly series, the week-over-week change and the release comparison
    (in `release_order` first, see `release_series`)."""
    weeks = weekly_series(days, threshold)
    return TrendReport(
        days=daily_series(days, threshold),
        weeks=weeks,
        week_over_week=week_over_week(weeks, threshold),
        compare_by=compare_by,
        releases=release_series(releases, threshold, release_order) if compare_by else (),
        threshold=threshold,
    )


def _point_dict(point: TrendPoint, key_name: str) -> dict[str, Any]:
    return {
        key_name: point.key,
        "start": None if point.start is None else point.start.isoformat(),
        "passed": point.counts.passed,
        "failed": point.counts.failed,
        "errors": point.counts.errors,
        "accuracy": point.counts.accuracy,
        "delta": point.delta,
        "direction": None if point.direction is None else str(point.direction),
    }


def trend_report_dict(report: TrendReport) -> dict[str, Any]:
    """The JSON object of `routelens trend --json`."""
    wow = report.week_over_week
    return {
        "flat_threshold": report.threshold,
        "days": [_point_dict(point, "day") for point in report.days],
        "weeks": [_point_dict(point, "week") for point in report.weeks],
        "week_over_week": {
            "current_week": wow.current_week,
            "previous_week": wow.previous_week,
            "current_accuracy": wow.current_accuracy,
            "previous_accuracy": wow.previous_accuracy,
            "delta": wow.delta,
            "direction": None if wow.direction is None else str(wow.direction),
        },
        "comparison": None
        if report.compare_by is None
        else {
            "by": report.compare_by,
            "groups": [_point_dict(point, "value") for point in report.releases],
        },
    }
