"""Pairing and recommendation: errors are left out, the verdict follows the sequence."""

from __future__ import annotations

from datetime import timedelta

from routelens.experiments.analysis import Recommendation, compare_arms, paired_outcomes
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
