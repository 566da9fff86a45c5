"""analytics/stats.py against scipy, statsmodels and published worked examples."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats as scipy_stats
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from routelens.analytics.stats import (
    PairedTable,
    benjamini_hochberg,
    fisher_exact,
    mcnemar_exact,
    paired_difference_interval,
    two_sided_z,
    wilson_interval,
)

# --- Wilson -------------------------------------------------------------------------------


@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.95, 0.99])
@pytest.mark.parametrize(("successes", "n"), [(0, 1), (1, 1), (0, 7), (3, 7), (7, 7), (81, 263)])
def test_wilson_matches_statsmodels(successes: int, n: int, confidence: float) -> None:
    expected = proportion_confint(successes, n, alpha=1 - confidence, method="wilson")
    assert wilson_interval(successes, n, confidence) == pytest.approx(expected, abs=1e-12)


# Newcombe RG (1998) "Two-sided confidence intervals for the single proportion: comparison
# of seven methods", Stat Med 17:857-872, Table II, method 3 (Wilson score, no continuity
# correction): 81/263, 15/148, 0/20 and 1/29, to four decimals.
@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_newcombe_1998_examples(successes: int, n: int, low: float, high: float) -> None:
    assert wilson_interval(successes, n) == pytest.approx((low, high), abs=5e-5)


def test_wilson_without_trials_is_everything() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(("successes", "n"), [(-1, 3), (4, 3), (0, -1)])
def test_wilson_rejects_impossible_counts(successes: int, n: int) -> None:
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(successes, n)


def test_two_sided_z() -> None:
    assert two_sided_z(0.95) == pytest.approx(1.959963984540054)
    with pytest.raises(ValueError, match="confidence"):
        two_sided_z(1.0)


# --- McNemar ------------------------------------------------------------------------------


@pytest.mark.parametrize(("b", "c"), list(itertools.product([0, 1, 2, 5, 9, 30], repeat=2)))
def test_mcnemar_matches_statsmodels_and_scipy(b: int, c: int) -> None:
    expected = sm_mcnemar(np.array([[10, b], [c, 10]]), exact=True).pvalue
    assert mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-12)
    if b + c:
        binomial = scipy_stats.binomtest(b, b + c, 0.5).pvalue
        assert mcnemar_exact(b, c) == pytest.approx(binomial, rel=1e-9)


def test_mcnemar_published_example() -> None:
    # Fagerland MW, Lydersen S, Laake P (2013) "The McNemar test for binary matched-pairs
    # data", BMC Med Res Methodol 13:91, Table 1: airway hyper-responsiveness before and
    # after stem cell transplantation (Bentur et al. 2009), b=1, c=7:
    # exact conditional p = 0.070 (exactly 18/256).
    assert mcnemar_exact(1, 7) == pytest.approx(18 / 256)
    assert round(mcnemar_exact(1, 7), 3) == 0.070


def test_mcnemar_without_discordant_pairs_is_one() -> None:
    assert mcnemar_exact(0, 0) == 1.0


# --- Paired difference (Newcombe method 10) --------------------------------------------------


def _newcombe_reference(table: PairedTable, confidence: float) -> tuple[float, float, float]:
    # An independent transcription of Newcombe (1998) method 10 for p(second) - p(first),
    # using statsmodels' Wilson intervals.
    n = table.n
    p1, p2 = table.second_successes / n, table.first_successes / n
    l1, u1 = proportion_confint(table.second_successes, n, 1 - confidence, method="wilson")
    l2, u2 = proportion_confint(table.first_successes, n, 1 - confidence, method="wilson")
    margins = [p1 * n, (1 - p1) * n, p2 * n, (1 - p2) * n]
    cross = table.both * table.neither - table.second_only * table.first_only
    if min(margins) == 0:
        phi = 0.0
    else:
        corrected = cross - n / 2 if cross > n / 2 else (0.0 if cross >= 0 else cross)
        phi = corrected / np.sqrt(np.prod(margins))
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    high = d + np.sqrt((p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2)
    return d, low, high


@pytest.mark.parametrize(
    "cells", [(59, 6, 16, 80), (1, 1, 7, 12), (14, 5, 0, 22), (10, 3, 3, 10), (5, 0, 0, 5)]
)
@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_paired_difference_matches_reference(
    cells: tuple[int, int, int, int], confidence: float
) -> None:
    table = PairedTable(*cells)
    result = paired_difference_interval(table, confidence)
    assert tuple(result) == pytest.approx(_newcombe_reference(table, confidence), abs=1e-12)


def test_paired_difference_published_example() -> None:
    # Fagerland MW, Lydersen S, Laake P (2017) "Statistical Analysis of Contingency Tables",
    # ch. 8, complete response before and after consolidation therapy (Cavo et al. 2012),
    # table [[59, 6], [16, 80]]: Newcombe square-and-add estimate of p(first) - p(second)
    # = -0.0621, 95% CI -0.1186 to -0.0046. Our difference is second - first: mirrored.
    result = paired_difference_interval(PairedTable(59, 6, 16, 80))
    assert result.estimate == pytest.approx(0.0621, abs=5e-5)
    assert result.low == pytest.approx(0.0046, abs=5e-5)
    assert result.high == pytest.approx(0.1186, abs=5e-5)


def test_paired_difference_stays_in_bounds() -> None:
    for cells in itertools.product([0, 1, 4], repeat=4):
        table = PairedTable(*cells)
        estimate, low, high = paired_difference_interval(table)
        assert -1.0 <= low <= estimate <= high <= 1.0


def test_paired_difference_without_pairs_is_everything() -> None:
    assert tuple(paired_difference_interval(PairedTable(0, 0, 0, 0))) == (0.0, -1.0, 1.0)


# --- Fisher -------------------------------------------------------------------------------


def _fisher_by_enumeration(table: list[list[int]]) -> float:
    (a, b), (c, d) = table
    row1, col1, n = a + b, a + c, a + b + c + d
    law = scipy_stats.hypergeom(n, col1, row1)
    observed = law.pmf(a)
    support = range(max(0, row1 + col1 - n), min(row1, col1) + 1)
    return min(1.0, float(sum(law.pmf(k) for k in support if law.pmf(k) <= observed * (1 + 1e-7))))


@pytest.mark.parametrize(
    "table", [[[3, 1], [1, 3]], [[0, 5], [5, 0]], [[10, 2], [3, 15]], [[7, 27], [1, 33]]]
)
def test_fisher_matches_hypergeometric_enumeration(table: list[list[int]]) -> None:
    assert fisher_exact(table) == pytest.approx(_fisher_by_enumeration(table), rel=1e-9)


def test_fisher_lady_tasting_tea() -> None:
    # Fisher (1935) The Design of Experiments; Agresti (2002) Categorical Data Analysis,
    # 2nd ed., sec. 3.5.2: table [[3, 1], [1, 3]], two-sided P = 0.486 (= 34/70).
    assert fisher_exact([[3, 1], [1, 3]]) == pytest.approx(34 / 70)


def test_fisher_needs_a_two_by_two_table() -> None:
    with pytest.raises(ValueError, match="2x2"):
        fisher_exact([[1, 2, 3], [4, 5, 6]])


# --- Benjamini-Hochberg -------------------------------------------------------------------

# Benjamini Y, Hochberg Y (1995) "Controlling the false discovery rate", JRSS B 57:289-300,
# section 4.2: fifteen p-values from a multiple-endpoint trial; at q = 0.05 the procedure
# rejects the four smallest (Bonferroni only the three smallest).
BH_1995 = [
    0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344,
    0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0000,
]  # fmt: skip


def test_bh_published_example() -> None:
    adjusted = benjamini_hochberg(BH_1995)
    assert [p <= 0.05 for p in adjusted] == [True] * 4 + [False] * 11


@pytest.mark.parametrize("seed", range(8))
def test_bh_matches_statsmodels_and_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p_values = list(rng.uniform(0, 1, size=int(rng.integers(1, 40))) ** 3)
    expected = multipletests(p_values, method="fdr_bh")[1]
    assert benjamini_hochberg(p_values) == pytest.approx(list(expected), abs=1e-12)
    assert benjamini_hochberg(p_values) == pytest.approx(
        list(scipy_stats.false_discovery_control(p_values)), abs=1e-12
    )


def test_bh_keeps_order_and_handles_ties_and_empty() -> None:
    assert benjamini_hochberg([]) == []
    assert benjamini_hochberg([0.04, 0.01, 0.04]) == pytest.approx([0.04, 0.03, 0.04])
    assert benjamini_hochberg(BH_1995) == pytest.approx(
        list(multipletests(BH_1995, method="fdr_bh")[1])
    )


def test_bh_rejects_impossible_p_values() -> None:
    with pytest.raises(ValueError, match="p-values"):
        benjamini_hochberg([0.5, 1.5])
