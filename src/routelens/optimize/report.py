"""`optimize` results as the `--json` object and as lines for people."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from routelens.optimize.loop import FinalMeasurement, Iteration, Selection
from routelens.optimize.optimizer import OptimizeResult, SkillResult
from routelens.optimize.outcomes import Accuracy
from routelens.optimize.selection import Candidate
from routelens.optimize.split import CaseSplit


def _candidate_dict(
    candidate: Candidate, measurement: FinalMeasurement | None, arm: str
) -> dict[str, Any]:
    test: float | None = None
    if measurement is not None:
        trial = measurement.before if arm == "original" else measurement.after
        test = measurement.accuracy(trial).value
    return {
        "description": candidate.description,
        "train_accuracy": candidate.train.value,
        "validation_accuracy": candidate.validation.value,
        "test_accuracy": test,
    }


def _iteration_dict(iteration: Iteration) -> dict[str, Any]:
    candidate = iteration.candidate
    return {
        "iteration": iteration.iteration,
        "description": iteration.description,
        "status": "evaluated" if candidate is not None else "skipped",
        "train_accuracy": None if candidate is None else candidate.train.value,
        "validation_accuracy": None if candidate is None else candidate.validation.value,
        "run_id": None if candidate is None else candidate.run_id,
        "refused": [
            {"answer": attempt.proposal.raw, "problems": list(attempt.problems)}
            for attempt in iteration.tries
            if attempt.problems
        ],
        "note": iteration.note,
    }


def skill_report(result: SkillResult, split: CaseSplit) -> dict[str, Any]:
    """One skill's `--json` object, in the shape the docs give."""
    selection, measurement = result.selection, result.measurement
    verdict = None if measurement is None else measurement.verdict
    return {
        "skill": selection.skill,
        "splits": split.as_dict(),
        "iterations": [_iteration_dict(iteration) for iteration in selection.iterations],
        "original": _candidate_dict(selection.original, measurement, "original"),
        "best": _candidate_dict(selection.chosen, measurement, "chosen"),
        "test_mcnemar": None if verdict is None else vars(verdict.mcnemar).copy(),
        "difference": None
        if verdict is None
        else {
            "estimate": verdict.difference.estimate,
            "low": verdict.difference.low,
            "high": verdict.difference.high,
        },
        "interference": [] if verdict is None else [c.as_dict() for c in verdict.interference],
        "recommended": False if verdict is None else verdict.recommended,
        "reason": result.reason,
    }


def suite_report(measurement: FinalMeasurement) -> dict[str, Any]:
    """`--all`: every original description against every chosen one on the test split."""
    verdict = measurement.verdict
    return {
        "original_test_accuracy": measurement.accuracy(measurement.before).value,
        "best_test_accuracy": measurement.accuracy(measurement.after).value,
        "test_mcnemar": vars(verdict.mcnemar).copy(),
        "difference": {
            "estimate": verdict.difference.estimate,
            "low": verdict.difference.low,
            "high": verdict.difference.high,
        },
    }


def optimize_report(result: OptimizeResult) -> dict[str, Any]:
    """The `--json` object: one skill's report, or with `--all` every skill's and the suite's."""
    reports = [skill_report(skill, result.split) for skill in result.skills]
    if not result.all_skills:
        return reports[0]
    return {
        "skills": reports,
        "suite": None if result.suite is None else suite_report(result.suite),
        "stopped": result.stopped,
    }


def _accuracy(accuracy: Accuracy | float | None) -> str:
    value = accuracy.value if isinstance(accuracy, Accuracy) else accuracy
    return "-" if value is None else f"{value:.1%}"


def _candidate_line(label: str, candidate: Candidate) -> str:
    return (
        f"  {label:<10} train {_accuracy(candidate.train):>6}  validation "
        f"{_accuracy(candidate.validation):>6}  {candidate.description}"
    )


def _iteration_lines(selection: Selection) -> list[str]:
    lines = [_candidate_line("original", selection.original)]
    for iteration in selection.iterations:
        if iteration.candidate is None:
            lines.append(f"  {iteration.iteration:<10} refused twice, skipped: {iteration.note}")
        else:
            lines.append(_candidate_line(str(iteration.iteration), iteration.candidate))
    return lines


def skill_lines(result: SkillResult) -> list[str]:
    """One skill's result for people."""
    selection, measurement = result.selection, result.measurement
    lines = [f"optimize {selection.skill}", *_iteration_lines(selection)]
    if selection.stopped:
        lines.append(f"  stopped early: {selection.stopped}")
    chosen = selection.chosen
    which = "the original" if not selection.changed else f"proposal {chosen.iteration}"
    lines.append(f"  chosen on validation: {which}")
    if measurement is not None:
        verdict = measurement.verdict
        difference = verdict.difference
        lines.append(
            f"  test (measured once, {verdict.cases} cases): "
            f"{_accuracy(measurement.accuracy(measurement.before))} → "
            f"{_accuracy(measurement.accuracy(measurement.after))}, "
            f"difference {difference.estimate * 100:+.1f} points "
            f"[{difference.low * 100:+.1f}, {difference.high * 100:+.1f}], "
            f"{verdict.mcnemar.c} improved, {verdict.mcnemar.b} regressed, "
            f"McNemar p = {verdict.mcnemar.p_value:.3g}"
        )
        for check in verdict.interference:
            if check.after != check.before:
                lines.append(
                    f"    {check.skill}: {check.before:.1%} → {check.after:.1%} "
                    f"[{check.low * 100:+.1f}, {check.high * 100:+.1f}] ({check.cases} cases)"
                )
    recommended = measurement is not None and measurement.verdict.recommended
    lines.append(f"  recommended: {'yes' if recommended else 'no'} ({result.reason})")
    if result.experiment:
        lines.append(f"  recorded as experiment {result.experiment}")
    return lines


def result_lines(result: OptimizeResult) -> list[str]:
    """Every skill's result, and with `--all` the suite's, for people."""
    split = result.split
    lines = [
        f"split (seed {result.seed}): train {len(split.train)}, validation "
        f"{len(split.validation)}, test {len(split.test)} cases"
    ]
    for skill in result.skills:
        lines += skill_lines(skill)
    if result.suite is not None:
        suite = suite_report(result.suite)
        lines.append(
            f"suite on test: {_accuracy(suite['original_test_accuracy'])} → "
            f"{_accuracy(suite['best_test_accuracy'])}, McNemar p = "
            f"{suite['test_mcnemar']['p_value']:.3g}"
        )
    if result.stopped:
        lines.append(f"stopped: {result.stopped}")
    return lines


def changed_skills(results: Sequence[SkillResult]) -> list[str]:
    """The skills whose chosen description differs from the original."""
    return [r.selection.skill for r in results if r.selection.changed]
