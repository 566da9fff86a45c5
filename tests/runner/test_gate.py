"""The CI gate over a run summary."""

from __future__ import annotations

from datetime import UTC, datetime

from routelens.analytics.summary import summarize_attempts
from routelens.runner.gate import evaluate_gate
from routelens.store.records import AttemptRecord, Verdict

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def attempts(passed: int, failed: int, errors: int) -> list[AttemptRecord]:
    verdicts = [Verdict.PASS] * passed + [Verdict.FAIL] * failed + [Verdict.ERROR] * errors
    return [
        AttemptRecord("r", f"C{i}", 0, "direct", "x", "a", "a", v, False, T0, T0, 0.1)
        for i, v in enumerate(verdicts)
    ]


def test_no_threshold_means_no_gate() -> None:
    assert evaluate_gate(
        summarize_attempts(attempts(0, 5, 5)), min_accuracy=None, max_error_rate=0.0
    ).passed


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
