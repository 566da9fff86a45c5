"""The CI gate over a run summary."""

from __future__ import annotations

from routelens.analytics.summary import summarize_attempts
from routelens.runner.gate import evaluate_gate
from routelens.store.records import AttemptRecord, Verdict
from tests.factories import make_attempt


def attempts(passed: int, failed: int, errors: int) -> list[AttemptRecord]:
    verdicts = [Verdict.PASS] * passed + [Verdict.FAIL] * failed + [Verdict.ERROR] * errors
    return [make_attempt(f"C{i}", verdict) for i, verdict in enumerate(verdicts)]


def test_without_min_accuracy_only_the_error_rate_gates() -> None:
    # all failing, no errors: no accuracy threshold, so the gate passes
    assert evaluate_gate(
        summarize_attempts(attempts(0, 5, 0)), min_accuracy=None, max_error_rate=0.1
    ).passed
    # most attempts errored: the default gate fails, whatever the accuracy of the rest
    gate = evaluate_gate(
        summarize_attempts(attempts(2, 0, 8)), min_accuracy=None, max_error_rate=0.1
    )
    assert not gate.passed
    assert gate.reasons == ("error rate 80.0% is above 10.0%",)


def test_accuracy_below_the_threshold_fails_with_a_reason() -> None:
    gate = evaluate_gate(
        summarize_attempts(attempts(8, 2, 0)), min_accuracy=0.85, max_error_rate=0.05
    )
    assert not gate.passed
    assert gate.reasons == ("accuracy 80.0% is below 85.0%",)
    assert evaluate_gate(
        summarize_attempts(attempts(17, 3, 0)), min_accuracy=0.85, max_error_rate=0.05
    ).passed


def test_errors_fail_the_gate_beyond_the_allowed_rate() -> None:
    gate = evaluate_gate(
        summarize_attempts(attempts(9, 0, 1)), min_accuracy=0.85, max_error_rate=0.05
    )
    assert not gate.passed
    assert "error rate 10.0%" in gate.reasons[0]
    assert not evaluate_gate(
        summarize_attempts(attempts(0, 0, 3)), min_accuracy=0.5, max_error_rate=1.0
    ).passed
