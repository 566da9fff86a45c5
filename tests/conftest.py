"""Shared fixtures: a small skills folder and case files written by the tests themselves."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from routelens.suite.cases import load_case_suite
from routelens.suite.models import CaseSuite, SkillSet
from routelens.suite.skills import load_skill_set
from tests.fakes.api_server import FakeApiServer

SMALL_SKILLS = {
    "issue": (
        "jira-issue",
        "Create, view, edit or delete a single Jira issue: bug, story, task, summary.",
    ),
    "search": (
        "jira-search",
        "Find and list Jira issues with JQL queries and saved filters.",
    ),
    "lifecycle": (
        "jira-lifecycle",
        "Move an issue through its workflow: transition to Done, In Progress, reopen.",
    ),
}

SMALL_CASES = """\
version: "1.0"
name: small
tests:
  - id: C1
    category: direct
    input: "create a bug for the login crash"
    expected_skill: jira-issue
  - id: C2
    category: direct
    input: "find issues with JQL assigned to me"
    expected_skill: search
  - id: C3
    category: negative
    input: "transition TES-1 to Done"
    expected_skill: jira-lifecycle
    not_skill: jira-issue
  - id: C4
    category: edge
    input: "qwertyuiop"
    expected_skill: null
"""


def write_skill(root: Path, folder: str, name: str, description: str, body: str = "") -> Path:
    """Write `root/folder/SKILL.md` with front matter and a body; returns the file."""
    path = root / folder / "SKILL.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"---\nname: {name}\ndescription: {json.dumps(description)}\n---\n\n# {name}\n\n{body}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def skills_dir(tmp_path: Path) -> Path:
    """Three small Jira skills; folder `issue` answers to `jira-issue` too."""
    root = tmp_path / "skills"
    for folder, (name, description) in SMALL_SKILLS.items():
        write_skill(root, folder, name, description)
    return root


@pytest.fixture
def cases_file(tmp_path: Path) -> Path:
    """Four cases over three categories for the small skills."""
    path = tmp_path / "cases.yaml"
    path.write_text(SMALL_CASES, encoding="utf-8")
    return path


@pytest.fixture
def small_skills(skills_dir: Path) -> SkillSet:
    """The loaded small skills set."""
    return load_skill_set(skills_dir)


@pytest.fixture
def small_suite(cases_file: Path, small_skills: SkillSet) -> CaseSuite:
    """The loaded small case suite."""
    return load_case_suite(cases_file, small_skills)


@pytest.fixture
def server() -> Iterator[FakeApiServer]:
    """A loopback stand-in for the Anthropic and OpenAI APIs (see tests/fakes/api_server.py)."""
    with FakeApiServer() as running:
        yield running


def dedent(text: str) -> str:
    """`textwrap.dedent` without the leading newline."""
    return textwrap.dedent(text).lstrip("\n")
