"""`changes impact` on a synthetic history: runs whose skill hashes match the commits, and a
planted flipped case."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from routelens.changes.impact import nearest_run
from routelens.changes.impact_inputs import find_events, measure_impact, reproduce_command
from routelens.changes.model import ChangeEvent, ChangeKind, StoredChangeEvent
from routelens.changes.scan import scan_repository
from routelens.errors import InputError
from routelens.store import RunCaseRecord, RunSkillRecord, Store, Verdict, open_store
from routelens.store.changes import record_change_events
from tests.changes.history import (
    DEPLOY_V1,
    DEPLOY_V2,
    REVIEW_V1,
    GitRepo,
    build_known_history,
    hash_of,
)
from tests.factories import make_attempt, make_run

CASES: dict[str, dict[str, Any]] = {
    "a": {"category": "direct", "expected_skill": "deploy"},
    "b": {"category": "direct", "expected_skill": "deploy"},
    "c": {"category": "negative", "expected_skill": "review", "not_skill": "deploy"},
    "d": {"category": "direct", "expected_skill": "review"},
    "e": {"category": "direct", "expected_skill": "review"},
    "f": {"category": "disambiguation", "disambiguation_options": ["deploy", "review"]},
    "g": {"category": "workflow", "expected_skill": "review", "workflow": [{"skill": "deploy"}]},
}
REPEATS = 3


def add_run(
    store: Store,
    repo: GitRepo,
    run_id: str,
    started: datetime,
    deploy_text: str,
    failing: dict[str, str | None],
) -> None:
    """A run of the seven cases with deploy at `deploy_text`; `failing` maps the cases that
    fail to the skill they were routed to (everything else passes)."""
    skills = [
        RunSkillRecord(run_id, "deploy", "deploy", hash_of(deploy_text), "d", "/s/deploy/SKILL.md"),
        RunSkillRecord(run_id, "review", "review", hash_of(REVIEW_V1), "r", "/s/review/SKILL.md"),
    ]
    cases = [
        RunCaseRecord(run_id, case_id, spec["category"], index, {"id": case_id, **spec})
        for index, (case_id, spec) in enumerate(CASES.items())
    ]
    run = make_run(
        run_id,
        started_at=started,
        skills_dir=str(repo.root / "skills"),
        cases_path="/suites/cases.yaml",
    )
    store.create_run(run, skills, cases)
    store.record_attempts(
        make_attempt(
            case_id,
            Verdict.FAIL if case_id in failing else Verdict.PASS,
            expected=spec.get("expected_skill"),
            actual=failing.get(case_id) if case_id in failing else spec.get("expected_skill"),
            run_id=run_id,
            repeat_index=repeat,
            category=spec["category"],
            started_at=started,
            finished_at=started,
        )
        for case_id, spec in CASES.items()
        for repeat in range(REPEATS)
    )


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    """The known history, built once (the tests only read it)."""
    return build_known_history(tmp_path_factory.mktemp("impact") / "repo")


@pytest.fixture
def store(tmp_path: Path, repo: GitRepo) -> Iterator[Store]:
    """History scanned, and three runs around the deploy description edit (2025-01-02 12:00):
    a far older run of the old version, the nearest run before, and one after, where `b`
    (expects deploy) and `e` (expects review, now routed to deploy) fail."""
    with open_store(tmp_path / "store.sqlite") as opened:
        record_change_events(opened, scan_repository(repo.root).events)
        add_run(opened, repo, "far", datetime(2024, 6, 1, tzinfo=UTC), DEPLOY_V1, {"b": None})
        add_run(opened, repo, "before", datetime(2025, 1, 2, 6, tzinfo=UTC), DEPLOY_V1, {})
        add_run(
            opened,
            repo,
            "after",
            datetime(2025, 1, 2, 18, tzinfo=UTC),
            DEPLOY_V2,
            {"b": None, "e": "deploy"},
        )
        yield opened


def test_impact_finds_the_planted_flip(store: Store, repo: GitRepo) -> None:
    (event,) = find_events(store, repo.commits["describe-deploy"][:8])
    impact = measure_impact(store, event)
    assert impact.before is not None
    assert impact.after is not None
    assert (impact.before.run.run_id, impact.after.run.run_id) == ("before", "after")
    reasons = {case.case_id: case.reasons for case in impact.cases}
    assert reasons == {
        "a": ("expected", "routed before", "routed after"),
        "b": ("expected", "routed before"),
        "c": ("not_skill",),
        "e": ("routed after",),
        "f": ("option",),
        "g": ("workflow",),
    }
    assert [(case.case_id, case.flip) for case in impact.flipped] == [
        ("b", "regressed"),
        ("e", "regressed"),
    ]
    assert (impact.before.passed, impact.before.decided) == (18, 18)
    assert (impact.after.passed, impact.after.decided) == (12, 18)
    comparison = impact.comparison
    assert comparison is not None
    assert comparison.regressed == ["b", "e"]
    assert (comparison.attempt_test.b, comparison.attempt_test.c) == (6, 0)
    assert comparison.attempt_test.p_value == pytest.approx(2 * 0.5**6)
    assert comparison.mcnemar.p_value == pytest.approx(0.5)
    changed = [(c.op, c.text) for c in impact.description_diff if c.op != "equal"]
    assert changed == [("insert", " or production")]
    assert impact.missing == []


def test_the_far_run_is_used_when_it_is_the_only_one_before(store: Store, repo: GitRepo) -> None:
    """Without the near run, the old version's other run is the before side: b failed there
    too, so only e flipped."""
    with store._write() as connection:
        connection.exec_driver_sql("DELETE FROM runs WHERE run_id = 'before'")
    (event,) = find_events(store, repo.commits["describe-deploy"])
    impact = measure_impact(store, event)
    assert impact.before is not None
    assert impact.before.run.run_id == "far"
    assert [case.case_id for case in impact.flipped] == ["e"]


def test_a_side_without_runs_gets_the_command_to_make_one(store: Store, repo: GitRepo) -> None:
    (event,) = find_events(store, repo.commits["body-review"])
    impact = measure_impact(store, event)
    assert impact.before is not None
    assert impact.before.run.run_id == "after"
    assert impact.after is None
    assert impact.comparison is None
    (missing,) = impact.missing
    sha = repo.commits["body-review"]
    assert missing.side == "after"
    assert f"worktree add --detach /tmp/routelens-{sha[:12]} {sha}" in missing.command
    assert (
        f"routelens run --skills /tmp/routelens-{sha[:12]}/skills --cases /suites/cases.yaml "
        "--router anthropic --model claude-test --store" in missing.command
    )
    assert impact.description_diff == []


def test_an_added_skill_without_runs_has_both_sides_missing(store: Store, repo: GitRepo) -> None:
    (event,) = find_events(store, repo.commits["add-lint"])
    impact = measure_impact(store, event)
    sides = {m.side: m.command for m in impact.missing}
    assert sorted(sides) == ["after", "before"]
    parent = repo.commits["delete-deploy"]
    assert f"/tmp/routelens-{parent[:12]}/.claude/skills" in sides["before"]
    assert impact.comparison_note is not None
    assert "no run" in impact.comparison_note


def test_a_commit_with_two_events_gives_both(store: Store, repo: GitRepo) -> None:
    events = find_events(store, repo.commits["two-skills"])
    assert sorted(e.event.skill for e in events) == ["lint", "review"]
    assert find_events(store, str(events[0].event_id)) == [events[0]]


@pytest.mark.parametrize("reference", ["zz", "12", "deadbeef00"])
def test_unknown_references_are_input_errors(store: Store, reference: str) -> None:
    with pytest.raises(InputError, match="COMMIT"):
        find_events(store, reference)


def test_nearest_run_prefers_runs_measured_like_the_other_side() -> None:
    at = datetime(2025, 1, 2, tzinfo=UTC)
    close = make_run("close", started_at=datetime(2025, 1, 2, 1, tzinfo=UTC), router="local")
    same = make_run("same", started_at=datetime(2025, 1, 5, tzinfo=UTC))
    assert nearest_run([close, same], at) == close
    assert nearest_run([close, same], at, like=make_run("x")) == same
    assert nearest_run([], at) is None


def test_a_pure_rename_has_nothing_to_compare(store: Store, repo: GitRepo) -> None:
    (event,) = find_events(store, repo.commits["rename-review"])
    impact = measure_impact(store, event)
    assert (impact.before, impact.after, impact.missing) == (None, None, [])
    assert impact.comparison_note is not None
    assert "rename only" in impact.comparison_note


def test_the_suggested_command_repeats_the_other_sides_repeat(repo: GitRepo) -> None:
    event = ChangeEvent(
        str(repo.root), "deploy", ChangeKind.MODIFIED, "skills/deploy/SKILL.md", None,
        "c" * 40, "p" * 40, "a", datetime(2025, 1, 2, tzinfo=UTC), "m", "h1", "h2",
        None, None, False, 1, 1,
    )  # fmt: skip
    stored = StoredChangeEvent(1, datetime(2025, 1, 3, tzinfo=UTC), event)
    template = make_run("other", settings={"repeat": 5}, skills_dir=str(repo.root / "skills"))
    command = reproduce_command(stored, "c" * 40, template, "sqlite:///s.sqlite")
    assert "--model claude-test --repeat 5 --store sqlite:///s.sqlite" in command
    once = reproduce_command(stored, "c" * 40, replace(template, settings={}), "x")
    assert "--repeat" not in once
