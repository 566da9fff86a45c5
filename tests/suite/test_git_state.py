"""Tests for routelens.suite.git_state against real git repositories made in tmp_path."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from routelens.suite.git_state import GitState, git_state


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git config, a fixed identity, and no repository above tmp_path."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")
    for variable in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(variable, raising=False)


def git(repo: Path, *args: str) -> str:
    completed = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return completed.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository on branch `main` with one commit: skills/demo/SKILL.md and docs/README.md."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "--quiet", "--initial-branch=main")
    (root / "skills" / "demo").mkdir(parents=True)
    (root / "skills" / "demo" / "SKILL.md").write_text("---\nname: demo\n---\n")
    (root / "docs").mkdir()
    (root / "docs" / "README.md").write_text("docs\n")
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "first")
    return root


def test_a_clean_checkout_reports_commit_and_branch(repo: Path) -> None:
    state = git_state(repo / "skills")
    assert state == GitState(commit=git(repo, "rev-parse", "HEAD"), branch="main", dirty=False)
    assert state.commit is not None
    assert len(state.commit) == 40


def test_a_file_path_is_read_from_its_folder(repo: Path) -> None:
    assert git_state(repo / "skills" / "demo" / "SKILL.md").branch == "main"


def test_a_new_commit_and_branch_are_seen(repo: Path) -> None:
    first = git_state(repo).commit
    git(repo, "checkout", "--quiet", "-b", "feature/routing")
    (repo / "skills" / "demo" / "SKILL.md").write_text("---\nname: demo-2\n---\n")
    git(repo, "commit", "--quiet", "-am", "rename")
    state = git_state(repo / "skills")
    assert state.branch == "feature/routing"
    assert state.commit not in (None, first)
    assert state.dirty is False


def test_an_edited_tracked_file_makes_the_folder_dirty(repo: Path) -> None:
    (repo / "skills" / "demo" / "SKILL.md").write_text("---\nname: edited\n---\n")
    assert git_state(repo / "skills").dirty is True


def test_an_untracked_file_makes_the_folder_dirty(repo: Path) -> None:
    (repo / "skills" / "new").mkdir()
    (repo / "skills" / "new" / "SKILL.md").write_text("---\nname: new\n---\n")
    assert git_state(repo / "skills").dirty is True


def test_changes_outside_the_folder_do_not_make_it_dirty(repo: Path) -> None:
    (repo / "docs" / "README.md").write_text("changed\n")
    assert git_state(repo / "skills").dirty is False
    assert git_state(repo).dirty is True


def test_a_detached_head_has_a_commit_but_no_branch(repo: Path) -> None:
    commit = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "--quiet", "--detach")
    assert git_state(repo / "skills") == GitState(commit=commit, branch=None, dirty=False)


def test_a_repository_without_commits_has_no_state(tmp_path: Path) -> None:
    git(tmp_path, "init", "--quiet")
    (tmp_path / "SKILL.md").write_text("x\n")
    assert git_state(tmp_path) == GitState(commit=None, branch=None, dirty=False)


def test_outside_a_repository_everything_is_none(tmp_path: Path) -> None:
    (tmp_path / "skills").mkdir()
    assert git_state(tmp_path / "skills") == GitState(commit=None, branch=None, dirty=False)


def test_a_missing_folder_has_no_state(tmp_path: Path) -> None:
    assert git_state(tmp_path / "nope" / "deeper") == GitState()


def test_without_git_installed_everything_is_none(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(repo / "no-binaries-here"))
    assert git_state(repo / "skills") == GitState()
