"""The facts an executive summary may state: what routelens computed for one window (pure).

`summaries.gather.gather_facts` fills them from the store; `facts_dict` is their JSON (and
what is hashed for the cache); `display_facts` is the same numbers formatted the way the
offline text and the LLM prompt write them. Ratios (accuracy, rates, deltas) are 0-1
fractions; money is USD.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

MONEY_FIELDS_SUFFIX = "_usd"
RATIO_FIELDS = frozenset(
    {
        "accuracy",
        "previous_accuracy",
        "delta",
        "error_rate",
        "slo",
        "pass_rate",
        "flip_rate",
        "before_accuracy",
        "after_accuracy",
    }
)
"""Fields holding 0-1 fractions: a text may write them as percentages (0.873 as 87.3%)."""


@dataclass(frozen=True)
class AccuracyFacts:
    """Accuracy over the window against the window of the same length before it."""

    passed: int
    failed: int
    errors: int
    decided: int
    accuracy: float | None
    previous_decided: int
    previous_accuracy: float | None
    delta: float | None
    direction: str | None  # "up" | "down" | "flat"
    error_rate: float | None
    slo: float
    meets_slo: bool | None


@dataclass(frozen=True)
class SkillFacts:
    """One expected skill's accuracy in the window."""

    skill: str
    passed: int
    decided: int
    accuracy: float | None


@dataclass(frozen=True)
class FlakyFacts:
    """A case flaky in this window that was not flaky in the window before."""

    case_id: str
    router: str
    model: str | None
    attempts: int
    pass_rate: float | None
    flip_rate: float


@dataclass(frozen=True)
class ChangeFacts:
    """A SKILL.md change of the window whose measured impact moved accuracy."""

    event_id: int
    skill: str
    commit: str
    committed_on: date
    subject: str
    before_accuracy: float | None
    after_accuracy: float | None
    delta: float | None
    p_value: float | None
    significant_regression: bool
    regressed_cases: int
    improved_cases: int


@dataclass(frozen=True)
class CostFacts:
    """Spend in the window, the 30-day projection and the daily budget."""

    total_usd: float
    attempts: int
    mean_days: int
    mean_daily_usd: float
    projection_days: int
    monthly_projection_usd: float
    daily_budget_usd: float
    days_over_budget: int
    anomaly_days: int


@dataclass(frozen=True)
class SummaryFacts:
    """Everything an executive summary of one window may say, and nothing else.

    Example::

        facts = gather_facts(store, AttemptFilter(window=parse_window("7d")), window="7d")
        facts.accuracy.accuracy, facts.worst_skills[0].skill, facts.cost.total_usd
    """

    window: str
    start: date
    end: date
    accuracy: AccuracyFacts
    worst_skills: tuple[SkillFacts, ...]
    flaky_cases: int
    new_flaky: tuple[FlakyFacts, ...]
    changes: tuple[ChangeFacts, ...]
    cost: CostFacts


def facts_dict(facts: SummaryFacts) -> dict[str, Any]:
    """The facts as JSON-ready data (dates as ISO strings)."""
    data: dict[str, Any] = json.loads(json.dumps(asdict(facts), default=_iso))
    return data


def _iso(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def facts_hash(facts: SummaryFacts) -> str:
    """sha256 of the facts' canonical JSON: the cache key, with the model."""
    canonical = json.dumps(facts_dict(facts), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def percent(ratio: float | None) -> str:
    """0.8734 → `87.3%`; None → `n/a`."""
    return "n/a" if ratio is None else f"{ratio * 100:.1f}%"


def points(delta: float | None) -> str:
    """A 0-1 difference as percentage points: -0.021 → `-2.1 pt`."""
    return "n/a" if delta is None else f"{delta * 100:+.1f} pt"


def usd(amount: float) -> str:
    """`$1,234.56`; amounts under a dollar keep four decimals (`$0.0123`)."""
    return f"${amount:,.2f}" if abs(amount) >= 1 else f"${amount:.4f}"


def p_value_text(p_value: float | None) -> str:
    """Three decimals, or `< 0.001`."""
    if p_value is None:
        return "n/a"
    return "< 0.001" if p_value < 0.001 else f"{p_value:.3f}"


def display_facts(facts: SummaryFacts) -> dict[str, Any]:
    """The facts with every number written as the summary should write it (the LLM's input)."""
    accuracy, cost = facts.accuracy, facts.cost
    return {
        "window": f"the last {facts.window} ({facts.start.isoformat()} to {facts.end.isoformat()})",
        "accuracy": {
            "accuracy": percent(accuracy.accuracy),
            "passed": accuracy.passed,
            "decided_attempts": accuracy.decided,
            "errors": accuracy.errors,
            "error_rate": percent(accuracy.error_rate),
            "previous_window_accuracy": percent(accuracy.previous_accuracy),
            "change_from_previous_window": points(accuracy.delta),
            "direction": accuracy.direction,
            "slo": percent(accuracy.slo),
            "meets_slo": accuracy.meets_slo,
        },
        "worst_skills": [
            {
                "skill": skill.skill,
                "accuracy": percent(skill.accuracy),
                "passed": skill.passed,
                "decided_attempts": skill.decided,
            }
            for skill in facts.worst_skills
        ],
        "flaky_cases_in_window": facts.flaky_cases,
        "new_flaky_cases": [
            {"case": case.case_id, "pass_rate": percent(case.pass_rate), "attempts": case.attempts}
            for case in facts.new_flaky
        ],
        "changes_that_moved_accuracy": [
            {
                "event": f"#{change.event_id}",
                "skill": change.skill,
                "commit": change.commit,
                "date": change.committed_on.isoformat(),
                "subject": change.subject,
                "accuracy_before": percent(change.before_accuracy),
                "accuracy_after": percent(change.after_accuracy),
                "change": points(change.delta),
                "p_value": p_value_text(change.p_value),
                "significant_regression": change.significant_regression,
                "cases_regressed": change.regressed_cases,
                "cases_improved": change.improved_cases,
            }
            for change in facts.changes
        ],
        "cost": {
            "spent_in_window": usd(cost.total_usd),
            "attempts": cost.attempts,
            f"mean_per_day_last_{cost.mean_days}_days": usd(cost.mean_daily_usd),
            f"projected_per_{cost.projection_days}_days": usd(cost.monthly_projection_usd),
            "daily_budget": usd(cost.daily_budget_usd),
            "days_over_budget": cost.days_over_budget,
            "days_with_anomalous_spend": cost.anomaly_days,
        },
    }
