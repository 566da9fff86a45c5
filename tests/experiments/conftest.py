"""Experiment fixtures: a store, two skills folders, and a git repository with two versions."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from routelens.store import Store, open_store
from tests.conftest import SMALL_SKILLS, write_skill
from tests.experiments.routers import IMPROVED_MARKER

V2_SEARCH_DESCRIPTION = "Search Jira with JQL: list, filter and count issues (improved)."


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` with a fixed identity; returns stdout."""
    completed = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip()


def write_small_skills(root: Path, *, improved: bool = False) -> Path:
    """The three small skills under `root`; `improved` marks every description."""
    for folder, (name, description) in SMALL_SKILLS.items():
        text = f"{description} {IMPROVED_MARKER}" if improved else description
        write_skill(root, folder, name, text)
    return root


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh SQLite store."""
    with open_store(tmp_path / "store" / "routelens.sqlite") as opened:
        yield opened


@pytest.fixture
def control_dir(tmp_path: Path) -> Path:
    """The small skills as they are."""
    return write_small_skills(tmp_path / "control" / "skills")


@pytest.fixture
def treatment_dir(tmp_path: Path) -> Path:
    """The small skills with the marker the keyword router rewards."""
    return write_small_skills(tmp_path / "treatment" / "skills", improved=True)


@pytest.fixture
def skills_repo(tmp_path: Path) -> Path:
    """A repo with `plugin/skills` at tag v1 and, one commit later, an edited description
    on branch `main` (HEAD)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_small_skills(repo / "plugin" / "skills")
    (repo / "README.md").write_text("not a skill\n", encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "skills v1")
    git(repo, "tag", "v1")
    write_skill(repo / "plugin" / "skills", "search", "jira-search", V2_SEARCH_DESCRIPTION)
    git(repo, "commit", "-q", "-am", "skills v2: sharper search description")
    return repo
