"""`gather_facts` over a real store: two weeks, a SKILL.md change between them, a flaky case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from routelens.analytics.window import AttemptFilter
from routelens.changes.model import ChangeEvent, ChangeKind
from routelens.store import RunCaseRecord, RunSkillRecord, Store, Verdict
from routelens.store.changes import record_change_events
from routelens.summaries.gather import gather_facts
from tests.factories import make_attempt, make_run

NOW = datetime.now(UTC).replace(microsecond=0)
P, F, E = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
COST = 0.01


def record_run(
    store: Store, run_id: str, started: datetime, search_hash: str, plan: dict[str, list[Verdict]]
) -> None:
    """A run testing `jira-search` at `search_hash`; `plan` maps case ids to verdicts.

    Cases `s*` expect jira-search, the others jira-agile; every attempt costs $0.01.
    """
    skills = [
        RunSkillRecord(run_id, "jira-search", "search", search_hash, "Find issues.", "s/SKILL.md"),
        RunSkillRecord(run_id, "jira-agile", "agile", "h-agile", "Sprints.", "a/SKILL.md"),
    ]
    expected = {case: "jira-search" if case.startswith("s") else "jira-agile" for case in plan}
    cases = [
        RunCaseRecord(run_id, case, "direct", n, {"id": case, "expected_skill": expected[case]})
        for n, case in enumerate(plan)
    ]
    store.create_run(make_run(run_id, started_at=started), skills, cases)
    store.record_attempts(
        make_attempt(
            case,
            verdict,
            run_id=run_id,
            expected=expected[case],
            input=f"input of {case}",
            repeat_index=repeat,
            cost_usd=COST,
            error_type="timeout" if verdict is E else None,
            started_at=started + timedelta(minutes=repeat),
            finished_at=started + timedelta(minutes=repeat),
        )
        for case, verdicts in plan.items()
        for repeat, verdict in enumerate(verdicts)
    )


@pytest.fixture
def two_weeks(store: Store) -> Store:
    """Last week everything passed; this week jira-search broke after a change, f1 flips."""
    old = NOW - timedelta(days=10)
    record_run(
        store,
        "run-old",
        old,
        "h-old",
        {**{f"s{i}": [P, P] for i in range(6)}, "f1": [P] * 6},
    )
    record_run(
        store,
        "run-new",
        NOW - timedelta(days=1),
        "h-new",
        {**{f"s{i}": [F, F] for i in range(6)}, "f1": [P, F] * 3, "a1": [P] * 6, "e1": [E]},
    )
    record_change_events(
        store,
        [
            ChangeEvent(
                repository="/repo",
                skill="jira-search",
                kind=ChangeKind.MODIFIED,
                path="skills/search/SKILL.md",
                old_path=None,
                commit_sha="c0ffee1234567890",
                parent_sha="0ddba11",
                author="A. Author",
                committed_at=NOW - timedelta(days=5),
                message="Shorten the search description\n\nbody",
                old_hash="h-old",
                new_hash="h-new",
                old_description="Find issues.",
                new_description="Find.",
                description_changed=True,
                lines_added=1,
                lines_removed=1,
            )
        ],
    )
    return store


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
