"""The trigger-rate rule of single-skill trigger sets, per query (pure).

A trigger eval set asks one question per query: does the skill trigger? Over a query's
repeats its trigger rate is the share of decided attempts routed to the skill; the query
passes when a `should_trigger: true` query reaches the threshold (default 0.5), or a
`false` one stays below it. This is reported beside the attempt verdicts, which judge each
attempt alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from routelens.store.records import AttemptRecord, Verdict

DEFAULT_THRESHOLD = 0.5
"""The rate a query must reach unless `--trigger-threshold` says otherwise."""
SHOULD_TRIGGER_CATEGORY = "direct"
"""A trigger set's `should_trigger: true` query becomes a case of this category."""


@dataclass(frozen=True)
class TriggerRule:
    """The skill a trigger set tests and the rate a query must reach."""

    skill: str
    threshold: float


@dataclass(frozen=True)
class QueryTriggerRate:
    """One query of a trigger set over its repeats."""

    case_id: str
    query: str
    should_trigger: bool
    triggered: int
    decided: int
    errors: int
    threshold: float

    @property
    def rate(self) -> float | None:
        """Share of decided attempts routed to the skill (None when none was decided)."""
        return self.triggered / self.decided if self.decided else None

    @property
    def passed(self) -> bool | None:
        """Whether the rate is on the right side of the threshold (None: nothing decided)."""
        rate = self.rate
        if rate is None:
            return None
        return rate >= self.threshold if self.should_trigger else rate < self.threshold


def trigger_rule_of(settings: Mapping[str, Any]) -> TriggerRule | None:
    """The rule a run recorded in its settings (None for a golden-set run)."""
    skill, threshold = settings.get("trigger_skill"), settings.get("trigger_threshold")
    if not isinstance(skill, str) or not isinstance(threshold, int | float):
        return None
    return TriggerRule(skill, float(threshold))


def query_trigger_rates(
    attempts: Sequence[AttemptRecord], rule: TriggerRule
) -> list[QueryTriggerRate]:
    """Each query's trigger rate, in case id order (ids keep the file's order)."""
    by_case: defaultdict[str, list[AttemptRecord]] = defaultdict(list)
    for attempt in attempts:
        by_case[attempt.case_id].append(attempt)
    rates = []
    for case_id in sorted(by_case):
        rows = by_case[case_id]
        decided = [a for a in rows if a.verdict is not Verdict.ERROR]
        rates.append(
            QueryTriggerRate(
                case_id=case_id,
                query=rows[0].input,
                should_trigger=rows[0].category == SHOULD_TRIGGER_CATEGORY,
                triggered=sum(a.actual_skill == rule.skill for a in decided),
                decided=len(decided),
                errors=len(rows) - len(decided),
                threshold=rule.threshold,
            )
        )
    return rates


def trigger_rate_dict(rate: QueryTriggerRate) -> dict[str, Any]:
    """One query of `--json`'s `trigger_rates`."""
    return {
        "case_id": rate.case_id,
        "query": rate.query,
        "should_trigger": rate.should_trigger,
        "triggered": rate.triggered,
        "decided": rate.decided,
        "errors": rate.errors,
        "rate": rate.rate,
        "threshold": rate.threshold,
        "passed": rate.passed,
    }
