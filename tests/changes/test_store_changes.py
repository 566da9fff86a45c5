"""Change events in a real SQLite store: idempotent recording and the exporter's readers."""

from __future__ import annotations

from datetime import UTC, datetime

from routelens.changes.model import ChangeKind
from routelens.changes.scan import scan_repository
from routelens.store import RunSkillRecord, Store, Verdict
from routelens.store.changes import (
    change_event_counts,
    get_change_event,
    latest_change_per_skill,
    list_change_events,
    record_change_events,
    runs_with_skill_hash,
    version_runs,
)
from tests.changes.history import DEPLOY_V1, GitRepo, hash_of
from tests.factories import make_attempt, make_run


def test_recording_twice_adds_nothing(repo: GitRepo, store: Store) -> None:
    events = scan_repository(repo.root).events
    first = record_change_events(store, events)
    assert len(first) == len(events) == 9
    assert record_change_events(store, scan_repository(repo.root).events) == []
    stored = list_change_events(store)
    assert [s.event for s in stored] == events
    assert sorted(s.event_id for s in stored) == sorted(first)


def test_a_stored_event_round_trips(repo: GitRepo, store: Store) -> None:
    events = scan_repository(repo.root).events
    ids = record_change_events(store, events, now=datetime(2025, 2, 1, tzinfo=UTC))
    stored = get_change_event(store, ids[4])
    assert stored is not None
    assert stored.event == events[4]
    assert stored.event.kind is ChangeKind.RENAMED
    assert stored.recorded_at == datetime(2025, 2, 1, tzinfo=UTC)
    assert get_change_event(store, 999) is None


def test_filters_by_skill_and_commit_prefix(repo: GitRepo, store: Store) -> None:
    record_change_events(store, scan_repository(repo.root).events)
    assert [s.event.kind for s in list_change_events(store, skill="deploy")] == [
        ChangeKind.ADDED,
        ChangeKind.MODIFIED,
        ChangeKind.DELETED,
    ]
    both = list_change_events(store, commit_prefix=repo.commits["two-skills"][:7].upper())
    assert {s.event.skill for s in both} == {"lint", "review"}


def test_change_event_counts_by_skill_and_kind(repo: GitRepo, store: Store) -> None:
    assert change_event_counts(store) == {}
    record_change_events(store, scan_repository(repo.root).events)
    assert change_event_counts(store) == {
        ("deploy", "added"): 1,
        ("deploy", "modified"): 1,
        ("deploy", "deleted"): 1,
        ("review", "added"): 1,
        ("review", "modified"): 2,
        ("review", "renamed"): 1,
        ("lint", "added"): 1,
        ("lint", "modified"): 1,
    }


def test_latest_change_per_skill(repo: GitRepo, store: Store) -> None:
    record_change_events(store, scan_repository(repo.root).events)
    latest = latest_change_per_skill(store)
    assert sorted(latest) == ["deploy", "lint", "review"]
    assert latest["deploy"].event.kind is ChangeKind.DELETED
    assert latest["deploy"].event.commit_sha == repo.commits["delete-deploy"]
    assert latest["review"].event.commit_sha == repo.commits["two-skills"]
    assert latest["lint"].event.committed_at == datetime(2025, 1, 8, 12, tzinfo=UTC)


def _skill(run_id: str, name: str, content_hash: str) -> RunSkillRecord:
    return RunSkillRecord(run_id, name, name, content_hash, f"{name} things", f"/s/{name}/SKILL.md")


def test_version_runs_count_verdicts_of_cases_expecting_the_skill(store: Store) -> None:
    store.create_run(
        make_run("r1"), [_skill("r1", "deploy", "h1"), _skill("r1", "review", "h9")], []
    )
    store.record_attempts(
        [
            make_attempt("a", Verdict.PASS, run_id="r1"),
            make_attempt("b", Verdict.FAIL, run_id="r1"),
            make_attempt("c", Verdict.ERROR, run_id="r1", error_type="timeout"),
            make_attempt("d", Verdict.FAIL, run_id="r1", expected="review"),
        ]
    )
    rows = {(row.skill, row.content_hash): row for row in version_runs(store)}
    deploy, review = rows[("deploy", "h1")], rows[("review", "h9")]
    assert (deploy.passed, deploy.failed, deploy.errors, deploy.accuracy) == (1, 1, 1, 0.5)
    assert (review.passed, review.failed, review.errors) == (0, 1, 0)
    assert [row.skill for row in version_runs(store, ["review"])] == ["review"]


def test_runs_with_skill_hash(store: Store) -> None:
    store.create_run(make_run("r1"), [_skill("r1", "deploy", hash_of(DEPLOY_V1))], [])
    store.create_run(make_run("r2"), [_skill("r2", "deploy", "other")], [])
    assert [r.run_id for r in runs_with_skill_hash(store, hash_of(DEPLOY_V1))] == ["r1"]
