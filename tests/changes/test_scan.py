"""`scan_repository` on a real git history with known edits gives exactly the expected events."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from routelens.changes.model import ChangeKind
from routelens.changes.scan import scan_repository, skill_at_ref
from routelens.errors import InputError
from routelens.suite.skills import load_skill_set
from tests.changes.history import (
    AUTHOR,
    DEPLOY_V1,
    DEPLOY_V2,
    EMAIL,
    LINT_V1,
    LINT_V2,
    REVIEW_V1,
    REVIEW_V2,
    REVIEW_V3,
    GitRepo,
    build_known_history,
    hash_of,
)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    """The known history, built once for the module (scans only read it)."""
    return build_known_history(tmp_path_factory.mktemp("history") / "repo")


def test_scan_gives_exactly_the_expected_events(repo: GitRepo) -> None:
    result = scan_repository(repo.root)
    c = repo.commits
    got = [
        (
            e.commit_sha,
            e.skill,
            e.kind,
            e.path,
            e.old_path,
            e.old_hash,
            e.new_hash,
            e.description_changed,
            e.lines_added,
            e.lines_removed,
        )
        for e in result.events
    ]
    deploy, review = "skills/deploy/SKILL.md", "skills/review/SKILL.md"
    code_review, lint = "skills/code-review/SKILL.md", ".claude/skills/lint/SKILL.md"
    added, modified = ChangeKind.ADDED, ChangeKind.MODIFIED
    assert got == [
        (c["add-two"], "deploy", added, deploy, None, None, hash_of(DEPLOY_V1), True, 7, 0),
        (c["add-two"], "review", added, review, None, None, hash_of(REVIEW_V1), True, 7, 0),
        (
            c["describe-deploy"],
            "deploy",
            modified,
            deploy,
            None,
            hash_of(DEPLOY_V1),
            hash_of(DEPLOY_V2),
            True,
            1,
            1,
        ),
        (
            c["body-review"],
            "review",
            modified,
            review,
            None,
            hash_of(REVIEW_V1),
            hash_of(REVIEW_V2),
            False,
            1,
            0,
        ),
        (
            c["rename-review"],
            "review",
            ChangeKind.RENAMED,
            code_review,
            review,
            hash_of(REVIEW_V2),
            hash_of(REVIEW_V2),
            False,
            0,
            0,
        ),
        (
            c["delete-deploy"],
            "deploy",
            ChangeKind.DELETED,
            deploy,
            None,
            hash_of(DEPLOY_V2),
            None,
            True,
            0,
            7,
        ),
        (c["add-lint"], "lint", added, lint, None, None, hash_of(LINT_V1), True, 7, 0),
        (
            c["two-skills"],
            "lint",
            modified,
            lint,
            None,
            hash_of(LINT_V1),
            hash_of(LINT_V2),
            True,
            1,
            1,
        ),
        (
            c["two-skills"],
            "review",
            modified,
            code_review,
            None,
            hash_of(REVIEW_V2),
            hash_of(REVIEW_V3),
            False,
            1,
            1,
        ),
    ]


def test_events_carry_commit_metadata_and_descriptions(repo: GitRepo) -> None:
    events = {(e.commit_sha, e.skill): e for e in scan_repository(repo.root).events}
    edit = events[(repo.commits["describe-deploy"], "deploy")]
    assert edit.author == f"{AUTHOR} <{EMAIL}>"
    assert edit.committed_at == datetime(2025, 1, 2, 12, tzinfo=UTC)
    assert edit.message == "Deploy: mention production"
    assert edit.parent_sha == repo.commits["add-two"]
    assert edit.old_description == "Deploy apps to staging."
    assert edit.new_description == "Deploy apps to staging or production."
    lint = events[(repo.commits["add-lint"], "lint")]
    assert lint.message == "Add lint\n\nNested under .claude."
    assert lint.subject == "Add lint"
    assert events[(repo.commits["add-two"], "deploy")].parent_sha is None


def test_latest_hashes_equal_what_a_run_records(repo: GitRepo) -> None:
    """The hash of the newest event of each skill is the hash `load_skill_set` gives."""
    latest = {e.skill: e.new_hash for e in scan_repository(repo.root).events}
    for folder in ("skills", ".claude/skills"):
        for skill in load_skill_set(repo.root / folder).skills:
            assert latest[skill.name] == skill.content_hash


def test_crlf_checkout_gives_the_same_hash(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "crlf")
    repo.root.mkdir()
    repo.git("init", "-q")
    repo.write("s/x/SKILL.md", DEPLOY_V1.replace("\n", "\r\n"))
    repo.commit("crlf", "CRLF skill")
    (event,) = scan_repository(repo.root).events
    assert event.new_hash == hash_of(DEPLOY_V1)
    assert event.new_hash == load_skill_set(repo.root / "s").skills[0].content_hash


def test_since_a_ref_keeps_only_later_commits(repo: GitRepo) -> None:
    events = scan_repository(repo.root, since=repo.commits["rename-review"]).events
    assert [e.commit_sha for e in events] == [
        repo.commits["delete-deploy"],
        repo.commits["add-lint"],
        repo.commits["two-skills"],
        repo.commits["two-skills"],
    ]


def test_since_a_date_keeps_commits_from_that_day(repo: GitRepo) -> None:
    events = scan_repository(repo.root, since="2025-01-06").events
    assert {e.commit_sha for e in events} == {repo.commits["add-lint"], repo.commits["two-skills"]}


def test_since_neither_date_nor_ref_is_an_input_error(repo: GitRepo) -> None:
    with pytest.raises(InputError, match="--since"):
        scan_repository(repo.root, since="no-such-branch")


def test_a_subfolder_scans_the_whole_repository(repo: GitRepo) -> None:
    result = scan_repository(repo.root / "skills")
    assert result.repository == repo.root.resolve()
    assert len(result.events) == 9


def test_not_a_repository_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a git repository"):
        scan_repository(tmp_path)


def test_shallow_clone_says_how_to_unshallow(repo: GitRepo, tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", repo.root.as_uri(), str(clone)],
        check=True,
        capture_output=True,
    )
    with pytest.raises(InputError, match="git fetch --unshallow"):
        scan_repository(clone)


def test_empty_repository_has_no_events(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "empty")
    repo.root.mkdir()
    repo.git("init", "-q")
    assert scan_repository(repo.root).events == []


def test_skill_at_ref_finds_by_name_and_folder(repo: GitRepo) -> None:
    found = skill_at_ref(repo.root, repo.commits["body-review"], "review", "--from")
    assert found is not None
    assert (found.path, found.text) == ("skills/review/SKILL.md", REVIEW_V2)
    by_folder = skill_at_ref(repo.root, "HEAD", "code-review", "--to")
    assert by_folder is not None
    assert by_folder.text == REVIEW_V3
    assert skill_at_ref(repo.root, "HEAD", "deploy", "--to") is None
    with pytest.raises(InputError, match="--to"):
        skill_at_ref(repo.root, "nope", "deploy", "--to")
