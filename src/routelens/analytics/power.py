"""How big a drop in accuracy a suite of N cases x R repeats can detect, and what it would take.

The model (docs/statistics.md, "Power"): two runs are compared as two samples of attempts
with a two-sided test of two proportions on Cohen's arcsine effect size
h = 2 asin(sqrt(p1)) - 2 asin(sqrt(p2)) (Cohen 1988, ch. 6), the test statsmodels'
`NormalIndPower` computes. Repeats of one case are not independent: with intra-case
correlation `icc`, R repeats of N cases carry the information of
N R / (1 + (R - 1) icc) independent attempts (Kish's design effect, Kish 1965). The pairing
of cases across the two runs is ignored, which makes the answer conservative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist


def arcsine_effect_size(p1: float, p2: float) -> float:
    """Cohen's h between two proportions: 2 asin(sqrt(p1)) - 2 asin(sqrt(p2))."""
    return 2.0 * math.asin(math.sqrt(p1)) - 2.0 * math.asin(math.sqrt(p2))


def design_effect(repeats: int, icc: float) -> float:
    """Kish's design effect 1 + (R - 1) icc for R correlated repeats of each case."""
    return 1.0 + (repeats - 1) * icc


def effective_attempts(cases: int, repeats: int, icc: float) -> float:
    """How many independent attempts N cases x R repeats are worth."""
    return cases * repeats / design_effect(repeats, icc)


def two_sample_power(effect_size: float, n_per_group: float, alpha: float) -> float:
    """Power of the two-sided two-sample z-test at effect size h with n per group.

    Both rejection tails count, as in statsmodels' `NormalIndPower.power`.
    """
    z_crit = NormalDist().inv_cdf(1.0 - alpha / 2.0)
    shift = abs(effect_size) * math.sqrt(n_per_group / 2.0)
    normal = NormalDist()
    return normal.cdf(shift - z_crit) + normal.cdf(-shift - z_crit)


def required_group_size(effect_size: float, alpha: float, power: float) -> float:
    """Attempts per run (independent) for the two-sample test to reach `power` at h."""
    if effect_size == 0:
        return math.inf

    def shortfall(n: float) -> float:
        return two_sample_power(effect_size, n, alpha) - power

    upper = 2.0
    while shortfall(upper) < 0:
        upper *= 2.0
    from scipy import optimize  # imported on use: scipy is slow to import

    return float(optimize.brentq(shortfall, 1e-9, upper, xtol=1e-10))


@dataclass(frozen=True)
class PowerPlan:
    """What a suite of `cases` x `repeats` can detect, and (given a difference) what it needs.

    Example::

        plan = plan_power(cases=70, repeats=3, baseline_accuracy=0.85, difference=0.1)
        plan.minimum_detectable_difference, plan.repeats_needed
    """

    cases: int
    repeats: int
    alpha: float
    power: float
    baseline_accuracy: float
    icc: float
    design_effect: float
    effective_attempts: float
    minimum_detectable_difference: float | None
    difference: float | None
    power_at_difference: float | None
    repeats_needed: int | None
    cases_needed_at_repeats: int | None


def minimum_detectable_difference(
    baseline_accuracy: float, n_per_group: float, alpha: float, power: float
) -> float | None:
    """The smallest drop from `baseline_accuracy` detected with `power`; None if none is."""

    def shortfall(drop: float) -> float:
        h = arcsine_effect_size(baseline_accuracy, baseline_accuracy - drop)
        return two_sample_power(h, n_per_group, alpha) - power

    if shortfall(baseline_accuracy) < 0:
        return None
    from scipy import optimize

    return float(optimize.brentq(shortfall, 0.0, baseline_accuracy, xtol=1e-12))


def repeats_for(cases: int, needed_effective: float, icc: float) -> int | None:
    """Fewest repeats R with N R / (1 + (R - 1) icc) >= needed; None when no R suffices.

    More repeats never take N cases past N / icc effective attempts, because repeats of
    one case share what makes that case hard.
    """
    if needed_effective <= 0:
        return 1
    denominator = cases - needed_effective * icc
    if denominator <= 0:
        return None
    exact = needed_effective * (1.0 - icc) / denominator
    return max(1, math.ceil(exact - 1e-9))


def plan_power(
    *,
    cases: int,
    repeats: int,
    alpha: float = 0.05,
    power: float = 0.8,
    baseline_accuracy: float = 0.85,
    icc: float = 0.5,
    difference: float | None = None,
) -> PowerPlan:
    """Minimum detectable drop for N cases x R repeats, and repeats needed for `difference`."""
    _check(cases, repeats, alpha, power, baseline_accuracy, icc, difference)
    n_eff = effective_attempts(cases, repeats, icc)
    power_at: float | None = None
    repeats_needed: int | None = None
    cases_needed: int | None = None
    if difference is not None:
        h = arcsine_effect_size(baseline_accuracy, baseline_accuracy - difference)
        power_at = two_sample_power(h, n_eff, alpha)
        needed = required_group_size(h, alpha, power)
        repeats_needed = repeats_for(cases, needed, icc)
        cases_needed = math.ceil(needed * design_effect(repeats, icc) / repeats - 1e-9)
    return PowerPlan(
        cases=cases,
        repeats=repeats,
        alpha=alpha,
        power=power,
        baseline_accuracy=baseline_accuracy,
        icc=icc,
        design_effect=design_effect(repeats, icc),
        effective_attempts=n_eff,
        minimum_detectable_difference=minimum_detectable_difference(
            baseline_accuracy, n_eff, alpha, power
        ),
        difference=difference,
        power_at_difference=power_at,
        repeats_needed=repeats_needed,
        cases_needed_at_repeats=cases_needed,
    )


def _check(
    cases: int,
    repeats: int,
    alpha: float,
    power: float,
    baseline_accuracy: float,
    icc: float,
    difference: float | None,
) -> None:
    if cases < 1 or repeats < 1:
        raise ValueError("cases and repeats must be >= 1")
    if not 0 < alpha < 1 or not alpha / 2 < power < 1:
        raise ValueError("alpha must be in (0, 1) and power in (alpha/2, 1)")
    if not 0 < baseline_accuracy <= 1:
        raise ValueError("baseline_accuracy must be in (0, 1]")
    if not 0 <= icc <= 1:
        raise ValueError("icc must be in [0, 1]")
    if difference is not None and not 0 < difference <= baseline_accuracy:
        raise ValueError("difference must be in (0, baseline_accuracy]")
