"""`routelens changes ...` through the CLI, on a real git history and a SQLite store."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from routelens.cli import app
from routelens.store import open_store
from tests.changes.history import DEPLOY_V1, DEPLOY_V2, GitRepo, build_known_history, hash_of
from tests.changes.test_impact import add_run

runner = CliRunner()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    """The known history, built once (the commands only read it)."""
    return build_known_history(tmp_path_factory.mktemp("cli") / "repo")


@pytest.fixture
def store_path(tmp_path: Path) -> str:
    """An empty store file."""
    return str(tmp_path / "store.sqlite")


def scan_json(repo: GitRepo, store_path: str, *extra: str) -> dict[str, Any]:
    """`changes scan --json`, checked to succeed."""
    result = runner.invoke(
        app, ["changes", "scan", str(repo.root), "--store", store_path, "--json", *extra]
    )
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def test_scan_json_lists_events_and_is_idempotent(repo: GitRepo, store_path: str) -> None:
    first = scan_json(repo, store_path)
    events = first["events"]
    assert isinstance(events, list)
    assert first["added"] == 9
    assert len(events) == 9
    edit = events[2]
    assert {k: edit[k] for k in ("skill", "kind", "commit", "date", "old_hash", "new_hash")} == {
        "skill": "deploy",
        "kind": "modified",
        "commit": repo.commits["describe-deploy"],
        "date": "2025-01-02T12:00:00+00:00",
        "old_hash": hash_of(DEPLOY_V1),
        "new_hash": hash_of(DEPLOY_V2),
    }
    assert (edit["description_changed"], edit["lines_added"], edit["lines_removed"]) == (
        True,
        1,
        1,
    )
    assert all(event["new"] for event in events)
    second = scan_json(repo, store_path)
    assert second["added"] == 0
    assert [e["event_id"] for e in second["events"]] == [e["event_id"] for e in events]
    assert not any(e["new"] for e in second["events"])


def test_scan_text_reports_the_new_events(repo: GitRepo, store_path: str) -> None:
    since = ["--since", repo.commits["add-lint"]]
    result = runner.invoke(app, ["changes", "scan", str(repo.root), "--store", store_path, *since])
    assert result.exit_code == 0, result.output
    assert "2 SKILL.md change events, 2 new" in result.stdout
    assert "Tune review and lint" in result.stdout


def test_shallow_clone_is_one_line_and_exit_2(repo: GitRepo, tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", repo.root.as_uri(), str(clone)],
        check=True,
        capture_output=True,
    )
    result = runner.invoke(app, ["changes", "scan", str(clone), "--store", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "git fetch --unshallow" in result.stderr
    assert "Traceback" not in result.output


def test_not_a_repository_is_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["changes", "scan", str(tmp_path), "--store", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert "not a git repository" in result.stderr


@pytest.fixture
def filled_store(repo: GitRepo, store_path: str) -> str:
    """History scanned, with runs before and after the deploy description edit."""
    scan_json(repo, store_path)
    with open_store(store_path) as store:
        add_run(store, repo, "before", datetime(2025, 1, 2, 6, tzinfo=UTC), DEPLOY_V1, {})
        after = datetime(2025, 1, 2, 18, tzinfo=UTC)
        add_run(store, repo, "after", after, DEPLOY_V2, {"b": None, "e": "deploy"})
    return store_path


def test_list_json_links_runs_to_versions(filled_store: str) -> None:
    result = runner.invoke(
        app, ["changes", "list", "--skill", "deploy", "--store", filled_store, "--json"]
    )
    assert result.exit_code == 0, result.output
    (deploy,) = json.loads(result.stdout)["skills"]
    versions = [
        (v["event"]["kind"], [r["run_id"] for r in v["runs"]], v["accuracy"])
        for v in deploy["versions"]
    ]
    assert versions == [
        ("added", ["before"], 1.0),
        ("modified", ["after"], 0.5),
        ("deleted", [], None),
    ]


def test_list_text_shows_each_skill(filled_store: str) -> None:
    result = runner.invoke(app, ["changes", "list", "--store", filled_store])
    assert result.exit_code == 0, result.output
    for skill in ("deploy", "review", "lint"):
        assert skill in result.stdout
    assert "run after   50.0% (6 decided)" in result.stdout
    assert "modified (description)" in result.stdout


def test_impact_json_finds_the_flipped_cases(repo: GitRepo, filled_store: str) -> None:
    sha = repo.commits["describe-deploy"]
    result = runner.invoke(app, ["changes", "impact", sha[:10], "--store", filled_store, "--json"])
    assert result.exit_code == 0, result.output
    (impact,) = json.loads(result.stdout)["impacts"]
    assert [case["case_id"] for case in impact["flipped"]] == ["b", "e"]
    assert impact["comparison"]["regressed"] == ["b", "e"]
    assert impact["comparison"]["attempt_test"]["b"] == 6
    assert (impact["before"]["run_id"], impact["after"]["run_id"]) == ("before", "after")
    assert impact["after"]["accuracy"] == pytest.approx(12 / 18)


def test_impact_resolves_a_git_ref_in_the_repository(repo: GitRepo, filled_store: str) -> None:
    sha = repo.commits["describe-deploy"]
    tag = "deploy-reworded"
    repo.git("tag", "-f", tag, sha)
    by_ref = runner.invoke(
        app,
        ["changes", "impact", tag, "--repo", str(repo.root), "--store", filled_store, "--json"],
    )
    by_sha = runner.invoke(app, ["changes", "impact", sha, "--store", filled_store, "--json"])
    assert by_ref.exit_code == 0, by_ref.output
    assert json.loads(by_ref.stdout) == json.loads(by_sha.stdout)
    unknown = runner.invoke(
        app, ["changes", "impact", "no-such-tag", "--repo", str(repo.root), "--store", filled_store]
    )
    assert unknown.exit_code == 2
    assert "no-such-tag" in unknown.output


def test_impact_text_shows_diff_cases_and_comparison(repo: GitRepo, filled_store: str) -> None:
    sha = repo.commits["describe-deploy"]
    result = runner.invoke(app, ["changes", "impact", sha, "--store", filled_store])
    assert result.exit_code == 0, result.output
    assert "Description: Deploy apps to staging{+ or production+}." in result.stdout
    assert "regressed" in result.stdout
    assert "Case-level McNemar: 2 regressed, 0 improved" in result.stdout


def test_impact_without_a_run_prints_the_command(repo: GitRepo, filled_store: str) -> None:
    result = runner.invoke(
        app, ["changes", "impact", repo.commits["body-review"], "--store", filled_store]
    )
    assert result.exit_code == 0, result.output
    assert "After: no run tested the skill after this change" in result.stdout
    assert "worktree add --detach" in result.stdout
    assert "routelens run --skills" in result.stdout


def test_impact_of_an_unknown_commit_is_exit_2(filled_store: str) -> None:
    result = runner.invoke(app, ["changes", "impact", "abcdef12", "--store", filled_store])
    assert result.exit_code == 2
    assert "changes scan" in result.stderr


def test_diff_plain_shows_unified_and_word_level(repo: GitRepo) -> None:
    result = runner.invoke(
        app,
        [
            "changes",
            "diff",
            "deploy",
            "--from",
            repo.commits["add-two"],
            "--to",
            repo.commits["describe-deploy"],
            "--repo",
            str(repo.root),
            "--no-color",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "== front matter ==" in result.stdout
    assert "== body: unchanged ==" in result.stdout
    assert '-description: "Deploy apps to staging."' in result.stdout
    assert "staging{+ or production+}." in result.stdout
    assert "\x1b[" not in result.stdout


def test_diff_of_an_unknown_skill_is_exit_2(repo: GitRepo) -> None:
    result = runner.invoke(
        app, ["changes", "diff", "nope", "--from", "HEAD~1", "--repo", str(repo.root)]
    )
    assert result.exit_code == 2
    assert "no skill 'nope'" in result.stderr


def test_watch_with_max_polls_records_and_stops(repo: GitRepo, store_path: str) -> None:
    args = ["changes", "watch", str(repo.root), "--interval", "1s", "--max-polls", "1"]
    result = runner.invoke(app, [*args, "--store", store_path])
    assert result.exit_code == 0, result.output
    assert "9 new change events" in result.stdout
    assert scan_json(repo, store_path)["added"] == 0
