"""analytics/power.py against statsmodels' NormalIndPower and Cohen's tables."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from routelens.analytics.power import (
    arcsine_effect_size,
    design_effect,
    effective_attempts,
    minimum_detectable_difference,
    plan_power,
    repeats_for,
    required_group_size,
    two_sample_power,
)

GRID_P = [(0.85, 0.75), (0.9, 0.8), (0.5, 0.4), (0.95, 0.6), (0.3, 0.35)]


@pytest.mark.parametrize(("p1", "p2"), GRID_P)
def test_effect_size_matches_statsmodels(p1: float, p2: float) -> None:
    assert arcsine_effect_size(p1, p2) == pytest.approx(proportion_effectsize(p1, p2), abs=1e-12)


@pytest.mark.parametrize("effect", [0.05, 0.2, 0.5, -0.3, 1.1])
@pytest.mark.parametrize("n", [5.0, 40.0, 333.3])
@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.1])
def test_power_matches_statsmodels(effect: float, n: float, alpha: float) -> None:
    expected = NormalIndPower().power(effect, n, alpha, ratio=1.0, alternative="two-sided")
    assert two_sample_power(effect, n, alpha) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("effect", [0.1, 0.3, 0.8])
@pytest.mark.parametrize("power", [0.7, 0.8, 0.9])
def test_group_size_matches_statsmodels(effect: float, power: float) -> None:
    expected = NormalIndPower().solve_power(effect_size=effect, alpha=0.05, power=power)
    assert required_group_size(effect, 0.05, power) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(("effect", "n"), [(0.2, 392), (0.5, 63), (0.8, 25)])
def test_group_size_cohen_table(effect: float, n: int) -> None:
    # Cohen J (1988) Statistical Power Analysis for the Behavioral Sciences, 2nd ed.,
    # Table 6.4.1 (two-tailed a = .05, power .80): n per sample 392 at h = .2, 63 at .5,
    # 25 at .8.
    assert round(required_group_size(effect, 0.05, 0.8)) == n


@pytest.mark.parametrize(("baseline", "n"), [(0.85, 105.0), (0.7, 400.0), (0.95, 30.0)])
def test_minimum_detectable_difference_inverts_statsmodels(baseline: float, n: float) -> None:
    drop = minimum_detectable_difference(baseline, n, 0.05, 0.8)
    assert drop is not None
    h = proportion_effectsize(baseline, baseline - drop)
    assert NormalIndPower().power(h, n, 0.05) == pytest.approx(0.8, abs=1e-8)


def test_minimum_detectable_difference_none_when_even_zero_accuracy_is_not_detected() -> None:
    assert minimum_detectable_difference(0.1, 2.0, 0.05, 0.8) is None


def test_design_effect_kish() -> None:
    # Kish (1965) Survey Sampling: deff = 1 + (m - 1) rho; 3 repeats at rho 0.5 -> 2.
    assert design_effect(3, 0.5) == 2.0
    assert effective_attempts(70, 3, 0.5) == 105.0
    assert effective_attempts(70, 3, 0.0) == 210.0
    assert effective_attempts(70, 3, 1.0) == 70.0


@pytest.mark.parametrize("icc", [0.0, 0.2, 0.5, 0.9])
@pytest.mark.parametrize("needed", [50.0, 120.0, 333.0])
def test_repeats_for_is_the_fewest_that_reach(icc: float, needed: float) -> None:
    cases = 100
    repeats = repeats_for(cases, needed, icc)
    if repeats is None:
        assert needed * icc >= cases
        return
    assert effective_attempts(cases, repeats, icc) >= needed - 1e-9
    if repeats > 1:
        assert effective_attempts(cases, repeats - 1, icc) < needed


def test_plan_with_difference() -> None:
    plan = plan_power(cases=200, repeats=3, baseline_accuracy=0.85, icc=0.5, difference=0.1)
    h = proportion_effectsize(0.85, 0.75)
    needed = NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8)
    assert plan.effective_attempts == 300.0
    assert plan.power_at_difference == pytest.approx(NormalIndPower().power(h, 300.0, 0.05))
    assert plan.repeats_needed == repeats_for(200, needed, 0.5)
    assert plan.repeats_needed is not None
    assert effective_attempts(200, plan.repeats_needed, 0.5) >= needed
    assert plan.cases_needed_at_repeats == math.ceil(needed * 2.0 / 3)
    assert plan.minimum_detectable_difference is not None
    assert plan.minimum_detectable_difference < 0.1


def test_plan_reports_unreachable_repeats() -> None:
    plan = plan_power(cases=10, repeats=3, difference=0.05)
    assert plan.repeats_needed is None
    assert plan.cases_needed_at_repeats is not None
    assert plan.cases_needed_at_repeats > 10


def test_plan_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="difference"):
        plan_power(cases=10, repeats=3, baseline_accuracy=0.5, difference=0.6)
    with pytest.raises(ValueError, match="icc"):
        plan_power(cases=10, repeats=3, icc=1.5)
