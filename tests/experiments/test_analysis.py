"""Pairing and recommendation: errors are left out, the verdict follows the sequence."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from routelens.experiments.analysis import (
    ALPHA,
    Recommendation,
    compare_arms,
    confidence_sequence_path,
    paired_outcomes,
)
from routelens.experiments.sequential import confidence_sequence
from routelens.store.records import Verdict
from tests.factories import STARTED, make_attempt


def _arm(run_id: str, verdicts: list[Verdict]):
    return [
        make_attempt(
            f"c{index}",
            verdict,
            run_id=run_id,
            finished_at=STARTED + timedelta(seconds=index),
        )
        for index, verdict in enumerate(verdicts)
    ]


def test_pairs_need_a_decision_on_both_sides() -> None:
    control = _arm("a", [Verdict.PASS, Verdict.ERROR, Verdict.FAIL, Verdict.PASS])
    treatment = _arm("b", [Verdict.PASS, Verdict.PASS, Verdict.PASS, Verdict.ERROR])

    assert paired_outcomes(control, treatment) == [(True, True), (False, True)]
    comparison = compare_arms(control, treatment, planned_pairs=4)
    assert comparison.pairs == 2
    assert comparison.control.errors == 1
    assert comparison.treatment.accuracy == 1.0
    assert comparison.complete


def test_an_early_look_with_little_data_recommends_waiting() -> None:
    control = _arm("a", [Verdict.FAIL] * 3)
    treatment = _arm("b", [Verdict.PASS] * 3)

    comparison = compare_arms(control, treatment, planned_pairs=200)

    assert comparison.sequence.estimate == 1.0
    assert comparison.recommendation is Recommendation.NO_DIFFERENCE_YET
    assert "keep running" in comparison.reason
    assert not comparison.complete
    assert comparison.to_dict()["fixed_sample"]["valid"].startswith("valid only once")


def test_a_clear_regression_is_treatment_worse() -> None:
    control = _arm("a", [Verdict.PASS] * 60)
    treatment = _arm("b", [Verdict.FAIL] * 40 + [Verdict.PASS] * 20)

    comparison = compare_arms(control, treatment, planned_pairs=60)

    assert comparison.recommendation is Recommendation.TREATMENT_WORSE
    assert comparison.control_only == 40
    assert comparison.mcnemar_p_value < 1e-6


def test_the_sequence_path_is_each_looks_confidence_sequence() -> None:
    rng = random.Random(9)
    outcomes = [(rng.random() < 0.6, rng.random() < 0.75) for _ in range(137)]
    path = confidence_sequence_path(outcomes, planned_pairs=150, points=20)
    assert [look.pairs for look in path][-1] == 137
    assert len(path) == 20
    differences = [float(t) - float(c) for c, t in outcomes]
    for look in path:
        expected = confidence_sequence(differences[: look.pairs], ALPHA, 150)
        assert look.estimate == pytest.approx(expected.estimate)
        assert (look.low, look.high) == (pytest.approx(expected.low), pytest.approx(expected.high))
    assert confidence_sequence_path([], planned_pairs=10) == []
