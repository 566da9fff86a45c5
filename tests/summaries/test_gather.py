"""`gather_facts` over a real store: two weeks, a SKILL.md change between them, a flaky case."""

from __future__ import annotations

from datetime import timedelta

import pytest

from routelens.analytics.window import AttemptFilter
from routelens.store import Store
from routelens.summaries.gather import gather_facts
from tests.summaries.history import COST, NOW


def test_accuracy_against_the_week_before(two_weeks: Store) -> None:
    facts = gather_facts(
        two_weeks,
        AttemptFilter(window=timedelta(days=7), now=NOW),
        window="7d",
        slo=0.85,
        daily_budget_usd=0.1,
    )
    accuracy = facts.accuracy
    assert (accuracy.passed, accuracy.failed, accuracy.errors, accuracy.decided) == (9, 15, 1, 24)
    assert accuracy.accuracy == pytest.approx(9 / 24)
    assert (accuracy.previous_decided, accuracy.previous_accuracy) == (18, 1.0)
    assert accuracy.delta == pytest.approx(9 / 24 - 1)
    assert accuracy.direction == "down"
    assert accuracy.error_rate == pytest.approx(1 / 25)
    assert accuracy.meets_slo is False
    assert (facts.window, facts.start, facts.end) == (
        "7d",
        (NOW - timedelta(days=7)).date(),
        NOW.date(),
    )


def test_worst_skills_new_flaky_changes_and_cost(two_weeks: Store) -> None:
    facts = gather_facts(
        two_weeks,
        AttemptFilter(window=timedelta(days=7), now=NOW),
        window="7d",
        daily_budget_usd=0.1,
    )
    assert [(s.skill, s.passed, s.decided) for s in facts.worst_skills] == [
        ("jira-search", 0, 12),
        ("jira-agile", 9, 12),
    ]
    assert facts.flaky_cases == 1
    [flaky] = facts.new_flaky
    assert (flaky.case_id, flaky.attempts, flaky.pass_rate) == ("f1", 6, 0.5)
    [change] = facts.changes
    assert (change.skill, change.commit, change.subject) == (
        "jira-search",
        "c0ffee12",
        "Shorten the search description",
    )
    assert (change.before_accuracy, change.after_accuracy, change.delta) == (1.0, 0.0, -1.0)
    assert change.p_value == pytest.approx(2 * 0.5**6)  # exact McNemar over 6 flipped cases
    assert change.significant_regression is True
    assert (change.regressed_cases, change.improved_cases) == (6, 0)
    cost = facts.cost
    assert cost.attempts == 25
    assert cost.total_usd == pytest.approx(25 * COST)
    assert cost.mean_daily_usd == pytest.approx(25 * COST / 7)
    assert cost.monthly_projection_usd == pytest.approx(25 * COST / 7 * 30)
    assert cost.days_over_budget == 1  # $0.25 in one day against $0.10


def test_a_window_with_nothing_in_it(two_weeks: Store) -> None:
    later = NOW + timedelta(days=60)
    facts = gather_facts(two_weeks, AttemptFilter(window=timedelta(days=7), now=later), window="7d")
    assert facts.accuracy.decided == 0
    assert facts.accuracy.accuracy is None
    assert facts.accuracy.meets_slo is None
    assert facts.worst_skills == ()
    assert facts.new_flaky == ()
    assert facts.changes == ()
    assert facts.cost.total_usd == 0


def test_a_summary_needs_a_window(two_weeks: Store) -> None:
    with pytest.raises(ValueError, match="window"):
        gather_facts(two_weeks, AttemptFilter(), window="all")
