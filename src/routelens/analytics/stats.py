"""Small-sample statistics for pass rates: intervals, paired tests, multiple testing.

Pure functions over counts. Every one is checked in tests/analytics/test_stats.py against
scipy or statsmodels and against a published worked example; docs/statistics.md says where
each method comes from and how to read it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist
from typing import NamedTuple


@lru_cache(maxsize=32)
def two_sided_z(confidence: float) -> float:
    """The normal quantile z with P(-z < Z < z) = `confidence` (1.96 for 0.95)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), not {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion `successes / n` (Wilson 1927).

    With no trials the proportion could be anything, so the interval is (0, 1).
    """
    if n < 0 or not 0 <= successes <= max(n, 0):
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return (0.0, 1.0)
    z = two_sided_z(confidence)
    p = successes / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half_width = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # At 0 and n the exact bound is 0 or 1; rounding would leave 1e-17 off it.
    low = 0.0 if successes == 0 else max(0.0, centre - half_width)
    high = 1.0 if successes == n else min(1.0, centre + half_width)
    return (low, high)


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: the binomial test of `b` against `b + c` at 1/2.

    `b` and `c` are the discordant pairs (first only, second only). With none the
    two sides never disagree, and the p-value is 1.
    """
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be >= 0, got b={b}, c={c}")
    if b + c == 0:
        return 1.0
    # scipy is imported where it is used: `import scipy.stats` costs most of a second, and
    # every routelens command would pay it at start-up
    from scipy import stats as scipy_stats

    return min(1.0, 2.0 * float(scipy_stats.binom.cdf(min(b, c), b + c, 0.5)))


@dataclass(frozen=True)
class PairedTable:
    """Paired binary outcomes of two conditions on the same items (a 2x2 table).

    `first_only` items succeed only under the first condition (McNemar's b), `second_only`
    only under the second (McNemar's c).
    """

    both: int
    first_only: int
    second_only: int
    neither: int

    @property
    def n(self) -> int:
        """All pairs."""
        return self.both + self.first_only + self.second_only + self.neither

    @property
    def first_successes(self) -> int:
        """Pairs where the first condition succeeds."""
        return self.both + self.first_only

    @property
    def second_successes(self) -> int:
        """Pairs where the second condition succeeds."""
        return self.both + self.second_only


class DifferenceInterval(NamedTuple):
    """A difference of proportions with its confidence interval."""

    estimate: float
    low: float
    high: float


def paired_difference_interval(table: PairedTable, confidence: float = 0.95) -> DifferenceInterval:
    """Newcombe's hybrid score interval for p(second) - p(first) from paired data.

    Method 10 of Newcombe (1998), "Improved confidence intervals for the difference between
    binomial proportions based on paired data", Stat Med 17:2635-2650: the Wilson intervals
    of the two marginal proportions combined by square-and-add, with the correlation of the
    marginals estimated by a continuity-corrected phi. With no pairs it is (0, -1, 1).
    """
    for name, count in vars(table).items():
        if count < 0:
            raise ValueError(f"{name} must be >= 0, got {count}")
    n = table.n
    if n == 0:
        return DifferenceInterval(0.0, -1.0, 1.0)
    # Newcombe's p1 - p2 with p1 the second condition, so the difference reads "second - first".
    successes_1, successes_2 = table.second_successes, table.first_successes
    p1, p2 = successes_1 / n, successes_2 / n
    low_1, high_1 = wilson_interval(successes_1, n, confidence)
    low_2, high_2 = wilson_interval(successes_2, n, confidence)
    phi = _newcombe_phi(table)
    d1, e1 = p1 - low_1, high_1 - p1
    d2, e2 = p2 - low_2, high_2 - p2
    estimate = p1 - p2
    low = estimate - math.sqrt(max(0.0, d1 * d1 - 2 * phi * d1 * e2 + e2 * e2))
    high = estimate + math.sqrt(max(0.0, e1 * e1 - 2 * phi * e1 * d2 + d2 * d2))
    return DifferenceInterval(estimate, max(-1.0, low), min(1.0, high))


def _newcombe_phi(table: PairedTable) -> float:
    # Newcombe (1998) eq. for method 10: phi from (ad - bc), shrunk by n/2 when positive,
    # and 0 when any margin is empty (the correlation is then undefined).
    n = table.n
    margins = (
        table.first_successes,
        n - table.first_successes,
        table.second_successes,
        n - table.second_successes,
    )
    if 0 in margins:
        return 0.0
    cross = table.both * table.neither - table.first_only * table.second_only
    if cross > n / 2:
        corrected = cross - n / 2
    elif cross >= 0:
        corrected = 0.0
    else:
        corrected = float(cross)
    return corrected / math.sqrt(math.prod(float(m) for m in margins))


def fisher_exact(table: Sequence[Sequence[int]]) -> float:
    """Two-sided p-value of Fisher's exact test for a 2x2 table of counts (scipy)."""
    if len(table) != 2 or any(len(row) != 2 for row in table):
        raise ValueError("Fisher's exact test needs a 2x2 table")
    if any(count < 0 for row in table for count in row):
        raise ValueError("counts must be >= 0")
    from scipy import stats as scipy_stats

    result = scipy_stats.fisher_exact([list(row) for row in table], alternative="two-sided")
    return float(result.pvalue)


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg (1995) adjusted p-values, in the order given.

    A hypothesis is rejected at false discovery rate q when its adjusted p-value is <= q.
    """
    for p in p_values:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p-values must be in [0, 1], got {p}")
    m = len(p_values)
    order = sorted(range(m), key=lambda index: p_values[index])
    adjusted = [0.0] * m
    running_min = 1.0
    # Step up from the largest p-value: adjusted(i) = min over j >= i of m * p(j) / j.
    for rank in range(m, 0, -1):
        index = order[rank - 1]
        running_min = min(running_min, m * p_values[index] / rank)
        adjusted[index] = running_min
    return adjusted
