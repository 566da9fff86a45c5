"""Compare two sets of attempts (a baseline and a candidate) paired by (case, repeat).

Pure: the rows come from the store (routelens.commands.compare reads them); the statistics
come from analytics/stats.py. How each number is computed and read: docs/statistics.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from routelens.analytics.stats import (
    DifferenceInterval,
    PairedTable,
    benjamini_hochberg,
    fisher_exact,
    mcnemar_exact,
    paired_difference_interval,
    wilson_interval,
)
from routelens.analytics.summary import ASK_LABEL
from routelens.store.records import AttemptRecord, Verdict

PairKey = tuple[str, int]


@dataclass(frozen=True)
class AttemptOutcome:
    """The columns of an attempt a comparison needs."""

    run_id: str
    case_id: str
    repeat_index: int
    category: str
    expected_skill: str | None
    verdict: Verdict
    started_at: datetime

    @classmethod
    def from_attempt(cls, attempt: AttemptRecord) -> AttemptOutcome:
        """The outcome of a full attempt record."""
        return cls(
            run_id=attempt.run_id,
            case_id=attempt.case_id,
            repeat_index=attempt.repeat_index,
            category=attempt.category,
            expected_skill=attempt.expected_skill,
            verdict=attempt.verdict,
            started_at=attempt.started_at,
        )


@dataclass(frozen=True)
class SideSummary:
    """One side's attempts on the (case, repeat) pairs both sides have."""

    attempts: int
    passed: int
    failed: int
    errors: int
    cases: int
    unpaired_attempts: int
    accuracy: float | None
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class McNemarResult:
    """Discordant counts (b: first side only, c: second side only) and the exact p-value."""

    b: int
    c: int
    p_value: float


@dataclass(frozen=True)
class GroupComparison:
    """Paired attempt-level comparison within one skill or category."""

    key: str
    pairs: int
    baseline: float
    candidate: float
    difference: float
    b: int
    c: int
    p_value: float
    p_adjusted: float


@dataclass(frozen=True)
class ErrorRateComparison:
    """Error rates of the paired attempts of each side, with Fisher's exact p-value."""

    baseline: float
    candidate: float
    p_value: float


@dataclass(frozen=True)
class Comparison:
    """A candidate against a baseline.

    Example::

        result = compare_outcomes(baseline_rows, candidate_rows)
        result.difference.estimate, result.mcnemar.p_value, result.regressed
    """

    baseline: SideSummary
    candidate: SideSummary
    paired_attempts: int
    difference: DifferenceInterval
    attempt_test: McNemarResult
    mcnemar: McNemarResult
    by_skill: list[GroupComparison]
    by_category: list[GroupComparison]
    improved: list[str]
    regressed: list[str]
    error_rate: ErrorRateComparison
    alpha: float
    significant_regression: bool


def latest_by_pair(outcomes: Iterable[AttemptOutcome]) -> dict[PairKey, AttemptOutcome]:
    """One attempt per (case, repeat): the one that started last (then the larger run id)."""
    latest: dict[PairKey, AttemptOutcome] = {}
    for outcome in outcomes:
        key = (outcome.case_id, outcome.repeat_index)
        current = latest.get(key)
        if current is None or (outcome.started_at, outcome.run_id) > (
            current.started_at,
            current.run_id,
        ):
            latest[key] = outcome
    return latest


def case_passes(verdicts: Sequence[Verdict]) -> bool | None:
    """A case's majority outcome: passes when at least half its decided attempts pass."""
    decided = [v for v in verdicts if v is not Verdict.ERROR]
    if not decided:
        return None
    return 2 * sum(v is Verdict.PASS for v in decided) >= len(decided)


def paired_table(pairs: Iterable[tuple[Verdict, Verdict]]) -> PairedTable:
    """Count (baseline, candidate) verdict pairs; pairs with an error on either side drop."""
    counts = {(True, True): 0, (True, False): 0, (False, True): 0, (False, False): 0}
    for first, second in pairs:
        if Verdict.ERROR in (first, second):
            continue
        counts[(first is Verdict.PASS, second is Verdict.PASS)] += 1
    return PairedTable(
        both=counts[(True, True)],
        first_only=counts[(True, False)],
        second_only=counts[(False, True)],
        neither=counts[(False, False)],
    )


def _side_summary(
    paired: Sequence[AttemptOutcome], unpaired: int, confidence: float
) -> SideSummary:
    passed = sum(o.verdict is Verdict.PASS for o in paired)
    failed = sum(o.verdict is Verdict.FAIL for o in paired)
    low, high = wilson_interval(passed, passed + failed, confidence)
    return SideSummary(
        attempts=len(paired),
        passed=passed,
        failed=failed,
        errors=len(paired) - passed - failed,
        cases=len({o.case_id for o in paired}),
        unpaired_attempts=unpaired,
        accuracy=passed / (passed + failed) if passed + failed else None,
        ci_low=low,
        ci_high=high,
    )


def _skill_key(outcome: AttemptOutcome) -> str:
    return outcome.expected_skill if outcome.expected_skill is not None else ASK_LABEL


def compare_groups(
    pairs: Sequence[tuple[AttemptOutcome, AttemptOutcome]],
    key: Callable[[AttemptOutcome], str],
) -> list[GroupComparison]:
    """Per-group attempt-level McNemar tests, BH-adjusted across the groups, sorted by key."""
    groups: defaultdict[str, list[tuple[Verdict, Verdict]]] = defaultdict(list)
    for first, second in pairs:
        groups[key(first)].append((first.verdict, second.verdict))
    tables = {name: paired_table(groups[name]) for name in sorted(groups)}
    tables = {name: table for name, table in tables.items() if table.n}
    p_values = [mcnemar_exact(t.first_only, t.second_only) for t in tables.values()]
    adjusted = benjamini_hochberg(p_values)
    return [
        GroupComparison(
            key=name,
            pairs=table.n,
            baseline=table.first_successes / table.n,
            candidate=table.second_successes / table.n,
            difference=(table.second_only - table.first_only) / table.n,
            b=table.first_only,
            c=table.second_only,
            p_value=p,
            p_adjusted=p_adj,
        )
        for (name, table), p, p_adj in zip(tables.items(), p_values, adjusted, strict=True)
    ]


def case_level_test(
    pairs: Sequence[tuple[AttemptOutcome, AttemptOutcome]],
) -> tuple[McNemarResult, list[str], list[str]]:
    """McNemar's exact test on case majority outcomes, with the improved and regressed cases."""
    by_case: defaultdict[str, tuple[list[Verdict], list[Verdict]]] = defaultdict(lambda: ([], []))
    for first, second in pairs:
        by_case[first.case_id][0].append(first.verdict)
        by_case[first.case_id][1].append(second.verdict)
    improved: list[str] = []
    regressed: list[str] = []
    for case_id in sorted(by_case):
        before, after = (case_passes(verdicts) for verdicts in by_case[case_id])
        if before is True and after is False:
            regressed.append(case_id)
        elif before is False and after is True:
            improved.append(case_id)
    result = McNemarResult(
        b=len(regressed), c=len(improved), p_value=mcnemar_exact(len(regressed), len(improved))
    )
    return result, improved, regressed


def compare_outcomes(
    baseline: Iterable[AttemptOutcome],
    candidate: Iterable[AttemptOutcome],
    *,
    alpha: float = 0.05,
    confidence: float = 0.95,
) -> Comparison:
    """Pair the latest attempts of each side by (case, repeat) and compare them.

    ValueError when the sides share no (case, repeat), or no pair has a verdict on both
    sides (every shared attempt errored on one side or the other).
    """
    first_side, second_side = latest_by_pair(baseline), latest_by_pair(candidate)
    keys = sorted(first_side.keys() & second_side.keys())
    if not keys:
        raise ValueError("the baseline and the candidate share no (case, repeat)")
    pairs = [(first_side[key], second_side[key]) for key in keys]
    table = paired_table((a.verdict, b.verdict) for a, b in pairs)
    if table.n == 0:
        raise ValueError("no shared (case, repeat) has a pass or fail on both sides")
    mcnemar, improved, regressed = case_level_test(pairs)
    first_summary = _side_summary([a for a, _ in pairs], len(first_side) - len(keys), confidence)
    second_summary = _side_summary([b for _, b in pairs], len(second_side) - len(keys), confidence)
    return Comparison(
        baseline=first_summary,
        candidate=second_summary,
        paired_attempts=table.n,
        difference=paired_difference_interval(table, confidence),
        attempt_test=McNemarResult(
            b=table.first_only,
            c=table.second_only,
            p_value=mcnemar_exact(table.first_only, table.second_only),
        ),
        mcnemar=mcnemar,
        by_skill=compare_groups(pairs, _skill_key),
        by_category=compare_groups(pairs, lambda outcome: outcome.category),
        improved=improved,
        regressed=regressed,
        error_rate=_error_rates(first_summary, second_summary),
        alpha=alpha,
        significant_regression=mcnemar.p_value < alpha and mcnemar.c < mcnemar.b,
    )


def _error_rates(first: SideSummary, second: SideSummary) -> ErrorRateComparison:
    table = [
        [first.errors, first.attempts - first.errors],
        [second.errors, second.attempts - second.errors],
    ]
    return ErrorRateComparison(
        baseline=first.errors / first.attempts,
        candidate=second.errors / second.attempts,
        p_value=fisher_exact(table),
    )


def _side_dict(side: SideSummary) -> dict[str, Any]:
    return {
        "accuracy": side.accuracy,
        "ci_low": side.ci_low,
        "ci_high": side.ci_high,
        "attempts": side.attempts,
        "passed": side.passed,
        "failed": side.failed,
        "errors": side.errors,
        "cases": side.cases,
        "unpaired_attempts": side.unpaired_attempts,
    }


def _group_dict(group: GroupComparison) -> dict[str, Any]:
    return {
        "key": group.key,
        "pairs": group.pairs,
        "baseline": group.baseline,
        "candidate": group.candidate,
        "difference": group.difference,
        "b": group.b,
        "c": group.c,
        "p_value": group.p_value,
        "p_adjusted": group.p_adjusted,
    }


def comparison_as_dict(comparison: Comparison) -> dict[str, Any]:
    """A JSON-ready dict of a comparison (the `routelens compare --json` object)."""
    return {
        "baseline": _side_dict(comparison.baseline),
        "candidate": _side_dict(comparison.candidate),
        "paired_attempts": comparison.paired_attempts,
        "difference": {
            "estimate": comparison.difference.estimate,
            "ci_low": comparison.difference.low,
            "ci_high": comparison.difference.high,
        },
        "attempt_test": vars(comparison.attempt_test).copy(),
        "mcnemar": vars(comparison.mcnemar).copy(),
        "by_skill": [_group_dict(group) for group in comparison.by_skill],
        "by_category": [_group_dict(group) for group in comparison.by_category],
        "improved": list(comparison.improved),
        "regressed": list(comparison.regressed),
        "error_rate": vars(comparison.error_rate).copy(),
        "alpha": comparison.alpha,
        "significant_regression": comparison.significant_regression,
    }
