"""The CI gate: does a run's summary meet the required accuracy and error rate?"""

from __future__ import annotations

from dataclasses import dataclass

from routelens.analytics.summary import RunSummary


@dataclass(frozen=True)
class GateResult:
    """Whether the gate passed, and why not when it did not."""

    min_accuracy: float | None
    max_error_rate: float
    passed: bool
    reasons: tuple[str, ...] = ()


def evaluate_gate(
    summary: RunSummary,
    *,
    min_accuracy: float | None,
    max_error_rate: float,
    missing_attempts: int = 0,
) -> GateResult:
    """The error rate must not pass `max_error_rate` (always: an accuracy over a few decided
    attempts proves nothing); with `min_accuracy`, accuracy must reach it too. A run closed
    with planned attempts missing (`--finish` before every shard or worker ended) fails."""
    reasons: list[str] = []
    if missing_attempts:
        reasons.append(f"{missing_attempts} planned attempts are missing")
    if summary.error_rate is not None and summary.error_rate > max_error_rate:
        reasons.append(f"error rate {summary.error_rate:.1%} is above {max_error_rate:.1%}")
    if min_accuracy is not None:
        if summary.accuracy is None:
            reasons.append("no attempt was decided (all errored or none ran)")
        elif summary.accuracy < min_accuracy:
            reasons.append(f"accuracy {summary.accuracy:.1%} is below {min_accuracy:.1%}")
    return GateResult(min_accuracy, max_error_rate, passed=not reasons, reasons=tuple(reasons))
