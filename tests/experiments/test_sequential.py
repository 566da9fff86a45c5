"""The confidence sequence: valid under continuous monitoring, wider than a fixed interval."""

from __future__ import annotations

import math
import random

import pytest

from routelens.analytics.stats import PairedTable, paired_difference_interval
from routelens.experiments.sequential import (
    confidence_sequence,
    normal_mixture_radius,
    optimal_rho,
)

ALPHA = 0.05


def _simulated_differences(rng: random.Random, n: int, p_control: float, p_treatment: float):
    return [float(rng.random() < p_treatment) - float(rng.random() < p_control) for _ in range(n)]


def _excludes_zero_at_some_look(differences: list[float], planned: int) -> bool:
    rho = optimal_rho(planned, ALPHA)
    total = 0.0
    for t, difference in enumerate(differences, start=1):
        total += difference
        if abs(total / t) > normal_mixture_radius(t, ALPHA, rho):
            return True
    return False


def _naive_wald_excludes_zero_at_some_look(differences: list[float]) -> bool:
    total = squares = 0.0
    for t, difference in enumerate(differences, start=1):
        total += difference
        squares += difference * difference
        if t < 10:
            continue
        mean = total / t
        variance = max(squares / t - mean * mean, 1e-12)
        if abs(mean) > 1.96 * math.sqrt(variance / t):
            return True
    return False


def test_with_no_true_difference_it_excludes_zero_in_at_most_alpha_of_sequences() -> None:
    rng = random.Random(20240501)
    sequences, pairs = 200, 300
    simulated = [_simulated_differences(rng, pairs, 0.7, 0.7) for _ in range(sequences)]

    sequential_errors = sum(_excludes_zero_at_some_look(d, pairs) for d in simulated)
    peeking_errors = sum(_naive_wald_excludes_zero_at_some_look(d) for d in simulated)

    # Looked at after every single pair, the sequence still keeps its level...
    assert sequential_errors <= ALPHA * sequences
    # ...whereas peeking at a fixed-sample interval as often inflates the error rate.
    assert peeking_errors > ALPHA * sequences
    assert peeking_errors > sequential_errors


def test_with_a_true_difference_it_excludes_zero_eventually() -> None:
    rng = random.Random(7)
    detected = sum(
        _excludes_zero_at_some_look(_simulated_differences(rng, 300, 0.6, 0.9), 300)
        for _ in range(50)
    )
    assert detected >= 45


@pytest.mark.parametrize(
    ("both", "control_only", "treatment_only", "neither"),
    [(30, 2, 8, 10), (100, 10, 25, 15), (5, 0, 3, 2), (200, 30, 30, 40)],
)
def test_it_is_wider_than_the_fixed_sample_interval(
    both: int, control_only: int, treatment_only: int, neither: int
) -> None:
    differences = [0.0] * (both + neither) + [-1.0] * control_only + [1.0] * treatment_only
    table = PairedTable(both, control_only, treatment_only, neither)

    sequence = confidence_sequence(differences, ALPHA, planned_pairs=len(differences))
    fixed = paired_difference_interval(table, 1 - ALPHA)

    assert sequence.estimate == pytest.approx(fixed.estimate)
    assert sequence.low < fixed.low
    assert sequence.high > fixed.high


def test_rho_solves_the_first_order_condition_and_is_tightest_at_the_planned_size() -> None:
    planned = 120
    rho = optimal_rho(planned, ALPHA)
    x = planned / rho
    assert x == pytest.approx(2 * math.log(1 / ALPHA) + math.log1p(x))
    best = normal_mixture_radius(planned, ALPHA, rho)
    assert best < normal_mixture_radius(planned, ALPHA, rho * 1.5)
    assert best < normal_mixture_radius(planned, ALPHA, rho / 1.5)


def test_the_boundary_matches_the_mixture_martingale_crossing_one_over_alpha() -> None:
    # M_t = sqrt(rho/(t+rho)) exp(S^2 / (2 (t+rho))) equals 1/alpha exactly on the boundary.
    rho, t = 9.0, 50
    s = normal_mixture_radius(t, ALPHA, rho) * t
    martingale = math.sqrt(rho / (t + rho)) * math.exp(s * s / (2 * (t + rho)))
    assert martingale == pytest.approx(1 / ALPHA)


def test_no_pairs_means_any_difference_and_bad_input_is_refused() -> None:
    empty = confidence_sequence([], ALPHA, planned_pairs=10)
    assert (empty.low, empty.high, empty.pairs) == (-1.0, 1.0, 0)
    assert not empty.excludes_zero()
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        confidence_sequence([2.0], ALPHA, planned_pairs=10)
    with pytest.raises(ValueError, match="alpha"):
        confidence_sequence([0.0], 1.5, planned_pairs=10)


def test_the_interval_is_clipped_to_the_possible_range() -> None:
    sequence = confidence_sequence([1.0] * 30, ALPHA, planned_pairs=100)
    assert sequence.high == 1.0
    assert sequence.low > -1.0
