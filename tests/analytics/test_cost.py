"""Spend analytics: robust z-scores, projection, burn rate and cost per correct route."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from scipy.stats import median_abs_deviation

from routelens.analytics.cost import (
    AttemptCost,
    CostCount,
    DaySpend,
    SpendGroup,
    attempt_anomalies,
    budget_burn,
    cost_report,
    cost_report_dict,
    day_points,
    modified_z_scores,
    monthly_projection,
    robust_scale,
    weighted_median,
)
from routelens.analytics.summary import TokenTotals

TODAY = date(2025, 3, 10)
NO_TOKENS = TokenTotals(0, 0, 0, 0)


def spend(days_ago: int, usd: float, attempts: int = 10) -> DaySpend:
    return DaySpend(TODAY - timedelta(days=days_ago), usd, attempts)


def test_modified_z_worked_example() -> None:
    # median 3; |x - 3| = 2, 1, 0, 1, 97 → MAD 1; z = 0.6745 (x - 3) / 1
    scores = modified_z_scores([1.0, 2.0, 3.0, 4.0, 100.0])
    assert scores == pytest.approx([-1.349, -0.6745, 0.0, 0.6745, 65.4265])
    assert [abs(z) > 3.5 for z in scores] == [False, False, False, False, True]


def test_modified_z_matches_scipy_normal_scaled_mad() -> None:
    values = np.random.default_rng(7).lognormal(-6, 0.4, size=501)
    values[::97] *= 20
    expected = (values - np.median(values)) / median_abs_deviation(values, scale="normal")
    # scale="normal" divides by Φ⁻¹(0.75) = 0.674490; Iglewicz & Hoaglin round it to 0.6745
    assert modified_z_scores(list(values)) == pytest.approx(list(expected), rel=1e-4)


def test_weighted_median_equals_the_median_of_the_expanded_sample() -> None:
    rng = np.random.default_rng(3)
    for size in (1, 2, 5, 40):
        values = rng.normal(size=size)
        weights = rng.integers(0, 5, size=size)
        weights[0] += 1
        expanded = np.repeat(values, weights)
        assert weighted_median(list(values), list(weights)) == pytest.approx(np.median(expanded))
    with pytest.raises(ValueError, match="no values"):
        weighted_median([1.0], [0])


def test_zero_mad_falls_back_to_the_mean_absolute_deviation() -> None:
    scale = robust_scale([5.0, 5.0, 5.0, 5.0, 9.0])
    assert scale.mad == 0.0
    # MeanAD = 4 / 5; z = (9 - 5) / (1.253314 * 0.8)
    assert scale.z(9.0) == pytest.approx(4 / (1.253314 * 0.8))
    assert abs(scale.z(9.0)) > 3.5
    assert modified_z_scores([2.0, 2.0, 2.0]) == [0.0, 0.0, 0.0]


def test_daily_spend_spike_is_an_anomaly() -> None:
    points = day_points([spend(i, 10.0 + i % 3) for i in range(1, 10)] + [spend(0, 80.0)])
    assert [p.day for p in points] == sorted(p.day for p in points)
    assert [p.anomaly for p in points] == [False] * 9 + [True]


def test_projection_is_the_last_seven_days_mean_times_thirty() -> None:
    days = [spend(0, 7.0), spend(3, 14.0), spend(6, 21.0), spend(7, 1000.0), spend(-1, 99.0)]
    projection = monthly_projection(days, TODAY)
    assert projection.last_days_usd == pytest.approx(42.0)  # days 7+ ago and the future are out
    assert projection.mean_daily_usd == pytest.approx(6.0)  # missing days count as $0
    assert projection.monthly_usd == pytest.approx(180.0)


def test_budget_burn_and_days_over_budget() -> None:
    burn = budget_burn([spend(0, 30.0), spend(1, 25.0), spend(2, 26.0)], TODAY, 25.0)
    assert burn.today_usd == 30.0
    assert burn.burn_rate == pytest.approx(1.2)
    assert burn.days_over_budget == (TODAY - timedelta(days=2), TODAY)  # 25.0 is not over
    assert budget_burn([], TODAY, 0.0).burn_rate is None


def test_attempt_anomalies_from_grouped_costs() -> None:
    counts = [CostCount(0.01, 50), CostCount(0.011, 30), CostCount(0.012, 19), CostCount(0.5, 1)]
    worst = [AttemptCost("r", "c1", 0, 0.5), AttemptCost("r", "c2", 0, 0.011)]
    outliers = attempt_anomalies(counts, worst)  # median 0.0105, MAD 0.0005
    assert outliers.scale is not None
    expanded = np.repeat([c.cost_usd for c in counts], [c.count for c in counts])
    assert outliers.scale.median == pytest.approx(np.median(expanded))
    assert outliers.scale.mad == pytest.approx(np.median(np.abs(expanded - np.median(expanded))))
    assert outliers.count == 1
    assert [(a.case_id, round(z)) for a, z in outliers.top] == [
        ("c1", round(0.6745 * (0.5 - 0.0105) / 0.0005))
    ]
    assert outliers.high_usd is not None
    assert 0.012 < outliers.high_usd < 0.5
    assert attempt_anomalies([]).count == 0


def test_cost_per_correct_route_and_report_dict() -> None:
    deploy = SpendGroup(
        "deploy", attempts=10, passed=4, cost_usd=2.0, tokens=TokenTotals(1, 2, 3, 4)
    )
    never = SpendGroup("review", attempts=3, passed=0, cost_usd=0.3, tokens=NO_TOKENS)
    assert deploy.cost_per_correct_route_usd == 0.5
    assert never.cost_per_correct_route_usd is None
    report = cost_report(
        [spend(0, 2.3)],
        [SpendGroup("m", 13, 4, 2.3, TokenTotals(1, 2, 3, 4))],
        [never, deploy],
        [CostCount(0.1, 13)],
        [],
        today=TODAY,
        daily_budget_usd=25.0,
    )
    data = cost_report_dict(report)
    assert data["total_cost_usd"] == 2.3
    assert data["tokens"] == {"input": 1, "output": 2, "cache_read": 3, "cache_write": 4}
    assert [s["skill"] for s in data["by_skill"]] == ["deploy", "review"]  # costliest first
    assert data["by_skill"][0]["cost_per_correct_route_usd"] == 0.5
    assert data["budget"]["burn_rate"] == pytest.approx(2.3 / 25)
    assert data["projection"]["monthly_usd"] == pytest.approx(2.3 / 7 * 30)
    assert data["anomalies"]["attempts"]["count"] == 0
