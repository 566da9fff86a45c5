"""Accuracy by day and ISO week, week over week, and releases, against hand computations."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from routelens.analytics.trend import (
    DayCounts,
    Direction,
    GroupCounts,
    VerdictCounts,
    daily_series,
    direction_of,
    iso_week_key,
    release_series,
    trend_report,
    trend_report_dict,
    week_over_week,
    weekly_series,
)


def day(text: str, passed: int, failed: int, errors: int = 0) -> DayCounts:
    return DayCounts(date.fromisoformat(text), VerdictCounts(passed, failed, errors))


# 2024-12-23 (Mon) .. 2024-12-29 is 2024-W52; 2024-12-30 (Mon) starts 2025-W01.
DAYS = [
    day("2024-12-23", 8, 2, 5),  # errors never count against accuracy
    day("2024-12-29", 9, 1),
    day("2024-12-30", 7, 3),
    day("2025-01-02", 9, 1),
]


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (None, None),
        (0.0, Direction.FLAT),
        (0.0099, Direction.FLAT),
        (-0.0099, Direction.FLAT),
        (0.01, Direction.UP),
        (-0.05, Direction.DOWN),
    ],
)
def test_direction_is_flat_under_one_point(delta: float | None, expected: Direction | None) -> None:
    assert direction_of(delta) is expected


def test_daily_series_deltas_against_the_previous_day() -> None:
    points = daily_series(reversed(DAYS))
    assert [p.key for p in points] == ["2024-12-23", "2024-12-29", "2024-12-30", "2025-01-02"]
    assert [p.counts.accuracy for p in points] == [0.8, 0.9, 0.7, 0.9]
    assert points[0].delta is None
    assert points[1].delta == pytest.approx(0.1)
    assert points[2].delta == pytest.approx(-0.2)
    assert [p.direction for p in points[1:]] == [Direction.UP, Direction.DOWN, Direction.UP]


def test_weekly_series_pools_days_by_iso_week_across_the_year_end() -> None:
    assert iso_week_key(date(2024, 12, 30)) == "2025-W01"
    weeks = weekly_series(DAYS)
    assert [w.key for w in weeks] == ["2024-W52", "2025-W01"]
    assert weeks[0].start == date(2024, 12, 23)
    assert weeks[0].counts == VerdictCounts(17, 3, 5)
    assert weeks[0].counts.accuracy == pytest.approx(17 / 20)
    assert weeks[1].counts.accuracy == pytest.approx(16 / 20)
    assert weeks[1].delta == pytest.approx(-0.05)
    wow = week_over_week(weeks)
    assert (wow.current_week, wow.previous_week) == ("2025-W01", "2024-W52")
    assert wow.delta == pytest.approx(-0.05)
    assert wow.direction is Direction.DOWN


def test_week_over_week_needs_the_calendar_week_before() -> None:
    weeks = weekly_series([day("2025-01-06", 1, 0), day("2025-01-20", 1, 1)])
    wow = week_over_week(weeks)
    assert wow.previous_week == "2025-W03"
    assert wow.previous_accuracy is None
    assert wow.delta is None
    assert wow.direction is None
    assert week_over_week(()).current_week is None


def test_a_day_with_only_errors_has_no_accuracy_and_is_skipped_for_deltas() -> None:
    points = daily_series(
        [day("2025-01-01", 8, 2), day("2025-01-02", 0, 0, 4), day("2025-01-03", 9, 1)]
    )
    assert points[1].counts.accuracy is None
    assert points[1].delta is None
    assert points[2].delta == pytest.approx(0.1)


def test_releases_are_ordered_by_first_seen() -> None:
    groups = [
        GroupCounts("2.0", datetime(2025, 2, 1, tzinfo=UTC), VerdictCounts(95, 5, 0)),
        GroupCounts("1.9", datetime(2025, 1, 1, tzinfo=UTC), VerdictCounts(90, 10, 0)),
        GroupCounts("1.10", datetime(2025, 1, 15, tzinfo=UTC), VerdictCounts(904, 96, 3)),
    ]
    points = release_series(groups)
    assert [p.key for p in points] == ["1.9", "1.10", "2.0"]
    assert points[1].direction is Direction.FLAT  # 90.4% vs 90%: under one point
    assert points[2].delta == pytest.approx(0.95 - 0.904)
    assert points[2].direction is Direction.UP


def test_report_dict_has_both_series_and_the_comparison() -> None:
    groups = [GroupCounts("abc", datetime(2025, 1, 1, tzinfo=UTC), VerdictCounts(1, 1, 0))]
    data = trend_report_dict(trend_report(DAYS, groups, compare_by="git_commit"))
    assert [d["day"] for d in data["days"]][:1] == ["2024-12-23"]
    assert [w["week"] for w in data["weeks"]] == ["2024-W52", "2025-W01"]
    assert data["week_over_week"]["direction"] == "down"
    assert data["comparison"]["by"] == "git_commit"
    assert data["comparison"]["groups"][0]["value"] == "abc"
    assert trend_report_dict(trend_report(DAYS))["comparison"] is None
