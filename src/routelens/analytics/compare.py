"""Compare two sets of attempts (a baseline and a candidate) paired by (case, repeat).

Pure: the store pairs the attempts and counts them in SQL (routelens.commands.compare),
so a comparison starts from `PairedCount` rows; `compare_outcomes` builds the same rows from
attempt objects. The statistics come from analytics/stats.py. How each number is computed
and read: docs/statistics.md.
"""

from __future__ import annotations

from collections import Counter, defaultdict
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
from routelens.analytics.summary import expectation_label
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


def majority_passes(passed: int, decided: int) -> bool | None:
    """A case's majority outcome from counts: passes when at least half its decided pass."""
    if not decided:
        return None
    return 2 * passed >= decided


def case_passes(verdicts: Sequence[Verdict]) -> bool | None:
    """A case's majority outcome: passes when at least half its decided attempts pass."""
    decided = [v for v in verdicts if v is not Verdict.ERROR]
    return majority_passes(sum(v is Verdict.PASS for v in decided), len(decided))


@dataclass(frozen=True)
class PairedCount:
    """How many (case, repeat) pairs of one case have this (baseline, candidate) verdict pair.

    The skill and category are the baseline attempt's. The store's compare query returns
    these rows (GROUP BY case, skill, category and both verdicts); `paired_counts` builds
    them from attempt objects.
    """

    case_id: str
    expected_skill: str | None
    category: str
    baseline: Verdict
    candidate: Verdict
    count: int


def paired_counts(pairs: Iterable[tuple[AttemptOutcome, AttemptOutcome]]) -> list[PairedCount]:
    """Count (baseline, candidate) attempt pairs by case, skill, category and verdicts."""
    counts = Counter(
        (first.case_id, first.expected_skill, first.category, first.verdict, second.verdict)
        for first, second in pairs
    )
    return [PairedCount(*key, count=count) for key, count in counts.items()]


def _count_table(counts: Iterable[tuple[Verdict, Verdict, int]]) -> PairedTable:
    cells = {(True, True): 0, (True, False): 0, (False, True): 0, (False, False): 0}
    for first, second, count in counts:
        if Verdict.ERROR in (first, second):
            continue
        cells[(first is Verdict.PASS, second is Verdict.PASS)] += count
    return PairedTable(
        both=cells[(True, True)],
        first_only=cells[(True, False)],
        second_only=cells[(False, True)],
        neither=cells[(False, False)],
    )


def _side_summary(
    counts: Sequence[PairedCount],
    verdict: Callable[[PairedCount], Verdict],
    keys: int,
    confidence: float,
) -> SideSummary:
    attempts = sum(row.count for row in counts)
    passed = sum(row.count for row in counts if verdict(row) is Verdict.PASS)
    failed = sum(row.count for row in counts if verdict(row) is Verdict.FAIL)
    low, high = wilson_interval(passed, passed + failed, confidence)
    return SideSummary(
        attempts=attempts,
        passed=passed,
        failed=failed,
        errors=attempts - passed - failed,
        cases=len({row.case_id for row in counts}),
        unpaired_attempts=keys - attempts,
        accuracy=passed / (passed + failed) if passed + failed else None,
        ci_low=low,
        ci_high=high,
    )


def _skill_key(row: PairedCount) -> str:
    return expectation_label(row.category, row.expected_skill)


def compare_groups(
    counts: Sequence[PairedCount], key: Callable[[PairedCount], str]
) -> list[GroupComparison]:
    """Per-group attempt-level McNemar tests, BH-adjusted across the groups, sorted by key."""
    groups: defaultdict[str, list[tuple[Verdict, Verdict, int]]] = defaultdict(list)
    for row in counts:
        groups[key(row)].append((row.baseline, row.candidate, row.count))
    tables = {name: _count_table(groups[name]) for name in sorted(groups)}
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
    counts: Sequence[PairedCount],
) -> tuple[McNemarResult, list[str], list[str]]:
    """McNemar's exact test on case majority outcomes, with the improved and regressed cases."""
    # case id -> [baseline passed, baseline decided, candidate passed, candidate decided]
    by_case: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in counts:
        tally = by_case[row.case_id]
        for offset, verdict in ((0, row.baseline), (2, row.candidate)):
            tally[offset] += row.count if verdict is Verdict.PASS else 0
            tally[offset + 1] += row.count if verdict is not Verdict.ERROR else 0
    improved: list[str] = []
    regressed: list[str] = []
    for case_id in sorted(by_case):
        tally = by_case[case_id]
        before, after = majority_passes(*tally[:2]), majority_passes(*tally[2:])
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
    keys = first_side.keys() & second_side.keys()
    return compare_paired_counts(
        paired_counts((first_side[key], second_side[key]) for key in keys),
        baseline_keys=len(first_side),
        candidate_keys=len(second_side),
        alpha=alpha,
        confidence=confidence,
    )


def compare_paired_counts(
    counts: Sequence[PairedCount],
    *,
    baseline_keys: int,
    candidate_keys: int,
    alpha: float = 0.05,
    confidence: float = 0.95,
) -> Comparison:
    """Compare two sides from their paired verdict counts.

    `baseline_keys` and `candidate_keys` count each side's (case, repeat) keys, paired or
    not. ValueError when no pair is counted, or none has a pass or fail on both sides.
    """
    if not any(row.count for row in counts):
        raise ValueError("the baseline and the candidate share no (case, repeat)")
    table = _count_table((row.baseline, row.candidate, row.count) for row in counts)
    if table.n == 0:
        raise ValueError("no shared (case, repeat) has a pass or fail on both sides")
    mcnemar, improved, regressed = case_level_test(counts)
    first_summary = _side_summary(counts, lambda row: row.baseline, baseline_keys, confidence)
    second_summary = _side_summary(counts, lambda row: row.candidate, candidate_keys, confidence)
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
        by_skill=compare_groups(counts, _skill_key),
        by_category=compare_groups(counts, lambda row: row.category),
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
