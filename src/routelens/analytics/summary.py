"""Summarize the attempts of one run: accuracy by group, confusions, cost, tokens, latency."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from routelens.analytics.trigger_rate import (
    QueryTriggerRate,
    TriggerRule,
    query_trigger_rates,
    trigger_rate_dict,
    trigger_rule_of,
)
from routelens.store.records import AttemptRecord, RunCaseRecord, RunRecord, Verdict

ASK_LABEL = "(ask)"
"""What a case expects when the right answer is a question (or, for `action: ask_for_input`,
no skill at all)."""
WORKFLOW_LABEL = "(workflow)"
"""What a workflow case naming no `expected_skill` expects: one of its steps."""
NEGATIVE_LABEL = "(negative)"
"""What a negative case naming no `expected_skill` expects: any route but its `not_skill`."""
NO_SKILL_LABEL = "(no skill)"
"""What a direct case naming no skill expects: no skill chosen, without a question."""
CLARIFIED_LABEL = "clarified"
NO_ROUTE_LABEL = "none"
UNKNOWN_ERROR_TYPE = "unknown"
_LABEL_BY_CATEGORY = {
    "workflow": WORKFLOW_LABEL,
    "negative": NEGATIVE_LABEL,
    "direct": NO_SKILL_LABEL,
}
EXPECTATION_LABELS = (ASK_LABEL, WORKFLOW_LABEL, NEGATIVE_LABEL, NO_SKILL_LABEL)
"""Row labels that are not skills."""


class DecidedAccuracy:
    """`decided` and `accuracy` for any record with `passed` and `failed` counts."""

    passed: int
    failed: int

    @property
    def decided(self) -> int:
        """Attempts that ended in a verdict on routing (pass or fail, not error)."""
        return self.passed + self.failed

    @property
    def accuracy(self) -> float | None:
        """Share of decided attempts that passed; None when nothing was decided."""
        return self.passed / self.decided if self.decided else None


@dataclass(frozen=True)
class GroupAccuracy(DecidedAccuracy):
    """Verdict counts for the attempts sharing one key (a category, an expected skill)."""

    key: str
    attempts: int
    passed: int
    failed: int
    errors: int

    @property
    def error_rate(self) -> float | None:
        """Share of attempts that errored; None when there are no attempts."""
        return self.errors / self.attempts if self.attempts else None


@dataclass(frozen=True)
class Confusion:
    """How often a failed attempt expecting `expected` was routed to `actual`."""

    expected: str
    actual: str
    count: int


@dataclass(frozen=True)
class TokenTotals:
    """Token usage summed over attempts."""

    input: int
    output: int
    cache_read: int
    cache_write: int

    @property
    def total(self) -> int:
        """All tokens, input, output and cache traffic together."""
        return self.input + self.output + self.cache_read + self.cache_write


@dataclass(frozen=True)
class RunSummary:
    """What a run's attempts add up to.

    `accuracy` is passed / (passed + failed): attempts that errored (timeouts, API errors)
    say nothing about routing, so they are reported in `errors` and `error_rate` and are
    not counted as failures. It is None when no attempt was decided.

    Example::

        summary = summarize_attempts(attempts)
        print(summary.accuracy, summary.by_category["deploy"].accuracy)
    """

    cases: int
    attempts: int
    passed: int
    failed: int
    errors: int
    accuracy: float | None
    error_rate: float | None
    by_category: dict[str, GroupAccuracy]
    by_expected_skill: dict[str, GroupAccuracy]
    top_confusions: list[Confusion]
    cost_usd: float
    tokens: TokenTotals
    retries: int
    latency_p50_s: float | None
    latency_p95_s: float | None
    mean_options_score: float | None
    mean_commands_score: float | None
    error_types: dict[str, int]
    mean_confirmation_score: float | None = None
    skipped: tuple[SkippedCase, ...] = ()
    trigger_rates: tuple[QueryTriggerRate, ...] = ()


@dataclass(frozen=True)
class SkippedCase:
    """A case marked `skip: true` that the run did not attempt, and why."""

    case_id: str
    category: str
    reason: str | None


def skipped_cases(
    definitions: Iterable[Mapping[str, Any]], attempted: Collection[str]
) -> tuple[SkippedCase, ...]:
    """The cases marked `skip` (case definitions as stored) that have no attempt."""
    return tuple(
        SkippedCase(
            str(definition.get("id")),
            str(definition.get("category")),
            reason if isinstance(reason := definition.get("skip_reason"), str) else None,
        )
        for definition in definitions
        if definition.get("skip") is True and definition.get("id") not in attempted
    )


def expectation_label(category: str, expected_skill: str | None) -> str:
    """What a case expects, as a label: its skill, else by category: "(workflow)" (any
    step), "(negative)" (anything but its `not_skill`), "(no skill)" (direct), "(ask)"."""
    if expected_skill is not None:
        return expected_skill
    return _LABEL_BY_CATEGORY.get(category, ASK_LABEL)


def expected_label(attempt: AttemptRecord) -> str:
    """What an attempt's case expected (see `expectation_label`)."""
    return expectation_label(attempt.category, attempt.expected_skill)


def actual_label(attempt: AttemptRecord) -> str:
    """What the router did: the skill it chose, "clarified", or "none"."""
    if attempt.actual_skill is not None:
        return attempt.actual_skill
    return CLARIFIED_LABEL if attempt.asked_clarification else NO_ROUTE_LABEL


def group_accuracy(key: str, attempts: Iterable[AttemptRecord]) -> GroupAccuracy:
    """Count the verdicts of `attempts` under one key."""
    verdicts = Counter(attempt.verdict for attempt in attempts)
    return GroupAccuracy(
        key=key,
        attempts=sum(verdicts.values()),
        passed=verdicts[Verdict.PASS],
        failed=verdicts[Verdict.FAIL],
        errors=verdicts[Verdict.ERROR],
    )


def accuracy_by(
    attempts: Iterable[AttemptRecord], key: Callable[[AttemptRecord], str]
) -> dict[str, GroupAccuracy]:
    """Group attempts by `key` and count verdicts per group, sorted by key."""
    groups: defaultdict[str, list[AttemptRecord]] = defaultdict(list)
    for attempt in attempts:
        groups[key(attempt)].append(attempt)
    return {name: group_accuracy(name, groups[name]) for name in sorted(groups)}


def confusions(attempts: Iterable[AttemptRecord], *, limit: int | None = None) -> list[Confusion]:
    """Failed attempts as (expected, actual) pairs, most frequent first, ties by labels."""
    pairs = Counter(
        (expected_label(attempt), actual_label(attempt))
        for attempt in attempts
        if attempt.verdict is Verdict.FAIL
    )
    ranked = sorted(pairs.items(), key=lambda item: (-item[1], item[0][0], item[0][1]))
    return [
        Confusion(expected=expected, actual=actual, count=count)
        for (expected, actual), count in ranked[:limit]
    ]


def token_totals(attempts: Iterable[AttemptRecord]) -> TokenTotals:
    """Sum the token counts of attempts."""
    rows = list(attempts)
    return TokenTotals(
        input=sum(attempt.input_tokens for attempt in rows),
        output=sum(attempt.output_tokens for attempt in rows),
        cache_read=sum(attempt.cache_read_tokens for attempt in rows),
        cache_write=sum(attempt.cache_write_tokens for attempt in rows),
    )


def latency_percentiles(
    attempts: Iterable[AttemptRecord], percentiles: Sequence[float] = (50.0, 95.0)
) -> list[float | None]:
    """Linear percentiles of the latency of attempts that did not error (None if none)."""
    latencies = [attempt.latency_s for attempt in attempts if attempt.verdict is not Verdict.ERROR]
    if not latencies:
        return [None for _ in percentiles]
    values = np.percentile(np.asarray(latencies, dtype=float), list(percentiles), method="linear")
    return [float(value) for value in values]


def mean_or_none(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not None; None when there are none."""
    present = [value for value in values if value is not None]
    return math.fsum(present) / len(present) if present else None


def error_type_counts(attempts: Iterable[AttemptRecord]) -> dict[str, int]:
    """How many errored attempts had each error type ("unknown" if unset), sorted by type."""
    counts = Counter(
        attempt.error_type or UNKNOWN_ERROR_TYPE
        for attempt in attempts
        if attempt.verdict is Verdict.ERROR
    )
    return dict(sorted(counts.items()))


def summarize_attempts(
    attempts: Sequence[AttemptRecord],
    *,
    top_confusions: int = 5,
    cases: Iterable[Mapping[str, Any]] = (),
    trigger: TriggerRule | None = None,
) -> RunSummary:
    """Summarize one run's attempts; see `RunSummary` for how errors are counted.

    `cases` (the run's case definitions) lists the skipped cases; `trigger` adds each
    query's trigger rate for a trigger set.
    """
    overall = group_accuracy("all", attempts)
    p50, p95 = latency_percentiles(attempts, (50.0, 95.0))
    return RunSummary(
        cases=len({attempt.case_id for attempt in attempts}),
        attempts=overall.attempts,
        passed=overall.passed,
        failed=overall.failed,
        errors=overall.errors,
        accuracy=overall.accuracy,
        error_rate=overall.error_rate,
        by_category=accuracy_by(attempts, lambda attempt: attempt.category),
        by_expected_skill=accuracy_by(attempts, expected_label),
        top_confusions=confusions(attempts, limit=top_confusions),
        cost_usd=math.fsum(attempt.cost_usd for attempt in attempts),
        tokens=token_totals(attempts),
        retries=sum(attempt.retries for attempt in attempts),
        latency_p50_s=p50,
        latency_p95_s=p95,
        mean_options_score=mean_or_none(attempt.options_score for attempt in attempts),
        mean_commands_score=mean_or_none(attempt.commands_score for attempt in attempts),
        error_types=error_type_counts(attempts),
        mean_confirmation_score=mean_or_none(a.confirmation_score for a in attempts),
        skipped=skipped_cases(cases, {attempt.case_id for attempt in attempts}),
        trigger_rates=() if trigger is None else tuple(query_trigger_rates(attempts, trigger)),
    )


def summarize_run(
    run: RunRecord, attempts: Sequence[AttemptRecord], cases: Iterable[RunCaseRecord] = ()
) -> RunSummary:
    """`summarize_attempts` with what the run recorded: its skipped cases and, for a
    trigger set, its trigger-rate rule."""
    return summarize_attempts(
        attempts,
        cases=[case.definition for case in cases],
        trigger=trigger_rule_of(run.settings),
    )


def _group_as_dict(group: GroupAccuracy) -> dict[str, Any]:
    return {
        "attempts": group.attempts,
        "passed": group.passed,
        "failed": group.failed,
        "errors": group.errors,
        "accuracy": group.accuracy,
    }


def summary_as_dict(summary: RunSummary) -> dict[str, Any]:
    """A JSON-ready dict of a summary (plain str, int, float, None, lists and dicts)."""
    return {
        "cases": summary.cases,
        "attempts": summary.attempts,
        "passed": summary.passed,
        "failed": summary.failed,
        "errors": summary.errors,
        "accuracy": summary.accuracy,
        "error_rate": summary.error_rate,
        "by_category": {key: _group_as_dict(g) for key, g in summary.by_category.items()},
        "by_expected_skill": {
            key: _group_as_dict(g) for key, g in summary.by_expected_skill.items()
        },
        "top_confusions": [
            {"expected": c.expected, "actual": c.actual, "count": c.count}
            for c in summary.top_confusions
        ],
        "cost_usd": summary.cost_usd,
        "tokens": {
            "input": summary.tokens.input,
            "output": summary.tokens.output,
            "cache_read": summary.tokens.cache_read,
            "cache_write": summary.tokens.cache_write,
        },
        "retries": summary.retries,
        "latency_p50_s": summary.latency_p50_s,
        "latency_p95_s": summary.latency_p95_s,
        "mean_options_score": summary.mean_options_score,
        "mean_commands_score": summary.mean_commands_score,
        "error_types": dict(summary.error_types),
        "mean_confirmation_score": summary.mean_confirmation_score,
        "skipped": [
            {"case_id": case.case_id, "category": case.category, "reason": case.reason}
            for case in summary.skipped
        ],
        "trigger_rates": [trigger_rate_dict(rate) for rate in summary.trigger_rates],
    }
