"""A store history for the summary tests: two weeks, a SKILL.md change between them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from routelens.changes.model import ChangeEvent, ChangeKind
from routelens.store import RunCaseRecord, RunSkillRecord, Store, Verdict
from routelens.store.changes import record_change_events
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


def plant_two_weeks(store: Store) -> Store:
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
