"""An always-valid confidence sequence for the mean of paired differences in [-1, 1].

Method: the two-sided normal-mixture boundary of Howard, Ramdas, McAuliffe and Sekhon (2021),
"Time-uniform, nonparametric, nonasymptotic confidence sequences", Annals of Statistics
49(2):1055-1080, after Robbins (1970),
"Statistical methods related to the law of the iterated logarithm".

Each paired difference D = treatment - control lies in [-1, 1], so by Hoeffding's lemma
D - μ is sub-Gaussian with variance proxy (b - a)² / 4 = 1. Then for every λ,
exp(λ S_t - λ² V_t / 2) with S_t = Σ (D_i - μ) and V_t = t is a nonnegative
supermartingale; mixing λ over N(0, 1/rho) gives

    M_t = sqrt(rho / (V_t + rho)) · exp(S_t² / (2 (V_t + rho))),

and Ville's inequality, P(∃ t: M_t ≥ 1/alpha) ≤ alpha, turns into: with probability at least
1 - alpha, for all t at once,

    |mean_t - μ| < sqrt((V_t + rho) · log((V_t + rho) / (rho alpha^2))) / t.

So the interval may be looked at after every pair, and the experiment stopped whenever it
excludes 0, without inflating the error rate. rho only sets where the boundary is tightest;
it is fixed in advance from the planned number of pairs (never from the data), minimising
the boundary at V = planned pairs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

DIFFERENCE_LOW = -1.0
DIFFERENCE_HIGH = 1.0
# Hoeffding's variance proxy for a variable in [a, b]: (b - a)² / 4.
VARIANCE_PROXY = (DIFFERENCE_HIGH - DIFFERENCE_LOW) ** 2 / 4
METHOD = "normal-mixture confidence sequence (Howard, Ramdas, McAuliffe & Sekhon 2021)"


@dataclass(frozen=True)
class ConfidenceSequenceInterval:
    """The confidence sequence at one look: after `pairs` paired differences."""

    estimate: float
    low: float
    high: float
    pairs: int
    alpha: float
    rho: float

    def excludes_zero(self) -> bool:
        """Whether the arms differ at level alpha (valid at any look, however many)."""
        return self.low > 0.0 or self.high < 0.0


def optimal_rho(planned_pairs: int, alpha: float) -> float:
    """The mixture precision rho that makes the boundary tightest after `planned_pairs` pairs.

    Setting d/drho of (V + rho) log((V + rho)/(rho alpha^2)) to 0 gives
    x = 2 log(1/alpha) + log(1 + x) with x = V / rho; solved here by fixed-point
    iteration (it contracts: the slope is < 1).
    """
    _check_alpha(alpha)
    intrinsic_time = VARIANCE_PROXY * max(planned_pairs, 1)
    x = 2 * math.log(1 / alpha)
    for _ in range(50):
        x = 2 * math.log(1 / alpha) + math.log1p(x)
    return intrinsic_time / x


def normal_mixture_radius(pairs: int, alpha: float, rho: float) -> float:
    """Half-width of the confidence sequence for the mean after `pairs` differences."""
    _check_alpha(alpha)
    if pairs <= 0:
        return math.inf
    intrinsic_time = VARIANCE_PROXY * pairs
    boundary = math.sqrt(
        (intrinsic_time + rho) * math.log((intrinsic_time + rho) / (rho * alpha * alpha))
    )
    return boundary / pairs


def confidence_sequence(
    differences: Sequence[float], alpha: float, planned_pairs: int
) -> ConfidenceSequenceInterval:
    """The confidence sequence for the mean of `differences` (each in [-1, 1]) at this look."""
    for difference in differences:
        if not DIFFERENCE_LOW <= difference <= DIFFERENCE_HIGH:
            raise ValueError(f"paired differences must lie in [-1, 1], got {difference}")
    rho = optimal_rho(planned_pairs, alpha)
    pairs = len(differences)
    if pairs == 0:
        return ConfidenceSequenceInterval(0.0, DIFFERENCE_LOW, DIFFERENCE_HIGH, 0, alpha, rho)
    estimate = math.fsum(differences) / pairs
    radius = normal_mixture_radius(pairs, alpha, rho)
    return ConfidenceSequenceInterval(
        estimate,
        max(DIFFERENCE_LOW, estimate - radius),
        min(DIFFERENCE_HIGH, estimate + radius),
        pairs,
        alpha,
        rho,
    )


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), not {alpha}")
