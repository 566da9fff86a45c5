"""Compare an experiment's two arms: per-arm accuracy, paired differences, and a verdict.

Pure: takes attempt records, returns dataclasses. Attempts pair up on (case, repeat); a pair
counts only when both sides were decided (pass or fail), as errors are not failures.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from routelens.analytics.stats import PairedTable, mcnemar_exact, paired_difference_interval
from routelens.experiments.sequential import (
    DIFFERENCE_HIGH,
    DIFFERENCE_LOW,
    METHOD,
    ConfidenceSequenceInterval,
    confidence_sequence,
    normal_mixture_radius,
    optimal_rho,
)
from routelens.store.records import Verdict

ALPHA = 0.05
"""Error rate of the confidence sequence, fixed in advance (choosing it after looking breaks
the guarantee)."""

FIXED_SAMPLE_NOTE = "valid only once, at the planned end (every case x repeat on both arms)"


class ArmAttempt(Protocol):
    """What the comparison reads of an attempt (an `AttemptRecord` has it)."""

    @property
    def case_id(self) -> str: ...
    @property
    def repeat_index(self) -> int: ...
    @property
    def verdict(self) -> Verdict: ...
    @property
    def finished_at(self) -> datetime: ...


class Recommendation(StrEnum):
    """What the confidence sequence says at this look."""

    TREATMENT_BETTER = "treatment-better"
    TREATMENT_WORSE = "treatment-worse"
    NO_DIFFERENCE_YET = "no-difference-yet"


@dataclass(frozen=True)
class ArmResult:
    """One arm's attempts and accuracy (passed ÷ decided)."""

    attempts: int
    passed: int
    failed: int
    errors: int
    accuracy: float | None


@dataclass(frozen=True)
class ExperimentComparison:
    """Treatment - control: the always-valid sequence, the fixed-sample view, a verdict."""

    control: ArmResult
    treatment: ArmResult
    planned_pairs: int
    pairs: int
    both_pass: int
    control_only: int
    treatment_only: int
    neither: int
    sequence: ConfidenceSequenceInterval
    fixed_low: float
    fixed_high: float
    mcnemar_p_value: float
    complete: bool
    recommendation: Recommendation
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (what `status --json` prints and `conclude` stores)."""
        return {
            "control": asdict(self.control),
            "treatment": asdict(self.treatment),
            "planned_pairs": self.planned_pairs,
            "pairs": self.pairs,
            "complete": self.complete,
            "paired_table": {
                "both_pass": self.both_pass,
                "control_only": self.control_only,
                "treatment_only": self.treatment_only,
                "neither": self.neither,
            },
            "difference": self.sequence.estimate,
            "confidence_sequence": {
                "low": self.sequence.low,
                "high": self.sequence.high,
                "alpha": self.sequence.alpha,
                "rho": self.sequence.rho,
                "method": METHOD,
                "valid": "at every look, however often status is checked",
            },
            "fixed_sample": {
                "interval_low": self.fixed_low,
                "interval_high": self.fixed_high,
                "interval_method": "Newcombe (1998) paired score interval, 95%",
                "mcnemar_p_value": self.mcnemar_p_value,
                "valid": FIXED_SAMPLE_NOTE,
            },
            "recommendation": str(self.recommendation),
            "reason": self.reason,
        }


def arm_result(attempts: Sequence[ArmAttempt]) -> ArmResult:
    """Counts and accuracy of one arm's attempts."""
    passed = sum(a.verdict is Verdict.PASS for a in attempts)
    failed = sum(a.verdict is Verdict.FAIL for a in attempts)
    decided = passed + failed
    return ArmResult(
        attempts=len(attempts),
        passed=passed,
        failed=failed,
        errors=len(attempts) - decided,
        accuracy=passed / decided if decided else None,
    )


def paired_outcomes(
    control: Sequence[ArmAttempt], treatment: Sequence[ArmAttempt]
) -> list[tuple[bool, bool]]:
    """(control passed, treatment passed) per (case, repeat) decided on both arms.

    Ordered by when the pair completed, so a prefix is what an earlier look saw.
    """
    decided = {Verdict.PASS, Verdict.FAIL}
    by_key = {(a.case_id, a.repeat_index): a for a in control if a.verdict in decided}
    pairs = []
    for other in treatment:
        mate = by_key.get((other.case_id, other.repeat_index))
        if mate is not None and other.verdict in decided:
            completed = max(mate.finished_at, other.finished_at)
            outcome = (mate.verdict is Verdict.PASS, other.verdict is Verdict.PASS)
            pairs.append((completed, outcome))
    pairs.sort(key=lambda pair: pair[0])
    return [outcome for _, outcome in pairs]


def compare_arms(
    control: Sequence[ArmAttempt],
    treatment: Sequence[ArmAttempt],
    planned_pairs: int,
    alpha: float = ALPHA,
) -> ExperimentComparison:
    """Compare the arms at this look; the recommendation follows the confidence sequence."""
    outcomes = paired_outcomes(control, treatment)
    differences = [float(t) - float(c) for c, t in outcomes]
    sequence = confidence_sequence(differences, alpha, planned_pairs)
    table = PairedTable(
        both=sum(c and t for c, t in outcomes),
        first_only=sum(c and not t for c, t in outcomes),
        second_only=sum(t and not c for c, t in outcomes),
        neither=sum(not c and not t for c, t in outcomes),
    )
    fixed = paired_difference_interval(table, 1 - alpha)
    complete = len(control) >= planned_pairs and len(treatment) >= planned_pairs
    recommendation, reason = _recommend(sequence, complete)
    return ExperimentComparison(
        control=arm_result(control),
        treatment=arm_result(treatment),
        planned_pairs=planned_pairs,
        pairs=len(outcomes),
        both_pass=table.both,
        control_only=table.first_only,
        treatment_only=table.second_only,
        neither=table.neither,
        sequence=sequence,
        fixed_low=fixed.low,
        fixed_high=fixed.high,
        mcnemar_p_value=mcnemar_exact(table.first_only, table.second_only),
        complete=complete,
        recommendation=recommendation,
        reason=reason,
    )


def _recommend(sequence: ConfidenceSequenceInterval, complete: bool) -> tuple[Recommendation, str]:
    shown = f"[{sequence.low:+.3f}, {sequence.high:+.3f}] after {sequence.pairs} pairs"
    level = f"{1 - sequence.alpha:.0%}"
    if sequence.low > 0:
        return Recommendation.TREATMENT_BETTER, f"the {level} confidence sequence {shown} is > 0"
    if sequence.high < 0:
        return Recommendation.TREATMENT_WORSE, f"the {level} confidence sequence {shown} is < 0"
    if complete:
        reason = f"every planned pair is in and the {level} confidence sequence {shown} holds 0"
    else:
        reason = f"the {level} confidence sequence {shown} still holds 0; keep running"
    return Recommendation.NO_DIFFERENCE_YET, reason


def confidence_sequence_path(
    outcomes: Sequence[tuple[bool, bool]],
    planned_pairs: int,
    alpha: float = ALPHA,
    points: int = 200,
) -> list[ConfidenceSequenceInterval]:
    """The confidence sequence as each look would have seen it, at up to `points` looks
    spread evenly over the pairs (the last look included): what the status chart draws.

    Each look equals `confidence_sequence(differences[:t], alpha, planned_pairs)`.
    """
    differences = [float(t) - float(c) for c, t in outcomes]
    if not differences:
        return []
    rho = optimal_rho(planned_pairs, alpha)
    totals = list(itertools.accumulate(differences))
    count = len(differences)
    looks = sorted({max(1, round(count * step / points)) for step in range(1, points + 1)})
    path = []
    for pairs in looks:
        estimate = totals[pairs - 1] / pairs
        radius = normal_mixture_radius(pairs, alpha, rho)
        low = max(DIFFERENCE_LOW, estimate - radius)
        high = min(DIFFERENCE_HIGH, estimate + radius)
        path.append(ConfidenceSequenceInterval(estimate, low, high, pairs, alpha, rho))
    return path
