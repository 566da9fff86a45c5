"""Summary facts written out by hand, for the tests that need facts but no store."""

from __future__ import annotations

from datetime import date

from routelens.summaries.facts import (
    AccuracyFacts,
    ChangeFacts,
    CostFacts,
    FlakyFacts,
    SkillFacts,
    SummaryFacts,
)


def sample_facts(**changes: object) -> SummaryFacts:
    """A week with accuracy 87.34% (down 2.12 points), two weak skills, one new flaky case,
    one regressing change and $12.40 spent; `changes` replace top-level fields."""
    fields: dict[str, object] = {
        "window": "7d",
        "start": date(2026, 11, 24),
        "end": date(2026, 12, 1),
        "accuracy": AccuracyFacts(
            passed=1235,
            failed=179,
            errors=12,
            decided=1414,
            accuracy=1235 / 1414,
            previous_decided=1380,
            previous_accuracy=0.8946,
            delta=1235 / 1414 - 0.8946,
            direction="down",
            error_rate=12 / 1426,
            slo=0.85,
            meets_slo=True,
        ),
        "worst_skills": (
            SkillFacts("jira-search", 25, 41, 25 / 41),
            SkillFacts("jira-agile", 70, 100, 0.7),
        ),
        "flaky_cases": 4,
        "new_flaky": (FlakyFacts("TC031", "anthropic", "claude-sonnet-4-6", 9, 5 / 9, 0.5),),
        "changes": (
            ChangeFacts(
                event_id=17,
                skill="jira-search",
                commit="3f2a9b1c",
                committed_on=date(2026, 11, 27),
                subject="Shorten the search description",
                before_accuracy=0.91,
                after_accuracy=0.82,
                delta=0.82 - 0.91,
                p_value=0.0213,
                significant_regression=True,
                regressed_cases=6,
                improved_cases=1,
            ),
        ),
        "cost": CostFacts(
            total_usd=12.4,
            attempts=1426,
            mean_days=7,
            mean_daily_usd=1.7714,
            projection_days=30,
            monthly_projection_usd=53.14,
            daily_budget_usd=25.0,
            days_over_budget=0,
            anomaly_days=0,
        ),
    }
    fields.update(changes)
    return SummaryFacts(**fields)  # type: ignore[arg-type]


TRUTHFUL = (
    "Routing accuracy was 87.3% over the last 7d, down 2.1 pt from 89.5%, still above the "
    "85% SLO. jira-search is the weakest skill at 61.0% (25 of 41), after commit 3f2a9b1c "
    "took it from 91.0% to 82.0% (p = 0.021). TC031 became flaky. The week cost $12.40, "
    "about $53.14 per 30 days against a $25.00 daily budget."
)
"""A summary a careful model could write: every number is a fact, rounded as shown."""
