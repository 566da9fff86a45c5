"""Shared fixtures: a small skills folder and case files written by the tests themselves."""

from __future__ import annotations

import json
import os
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


CLAUDE_EXECUTABLE_VARIABLE = "ROUTELENS_TEST_CLAUDE_EXECUTABLE"
CLAUDE_TEST_KEY = "sk-ant-api03-routelens-test-0123456789"
# credentials and configuration a developer's shell may hold; the tests set their own
_CLAUDE_CODE_VARIABLES = (
    "ANTHROPIC_AUTH_TOKEN",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "CLAUDE_CONFIG_DIR",
    "ANTHROPIC_MODEL",
    "ANTHROPIC_CUSTOM_HEADERS",
    "CLAUDE_CODE_MAX_RETRIES",
)


@pytest.fixture(scope="session")
def claude_executable() -> str:
    """The real Claude Code binary (.ci/run installs it from npm and exports the variable)."""
    path = os.environ.get(CLAUDE_EXECUTABLE_VARIABLE)
    if not path:
        pytest.skip(
            f"{CLAUDE_EXECUTABLE_VARIABLE} is not set: point it at a Claude Code binary "
            f"(.ci/run installs @anthropic-ai/claude-code and sets it)"
        )
    assert os.access(path, os.X_OK), f"{CLAUDE_EXECUTABLE_VARIABLE}={path} is not executable"
    return path


@pytest.fixture
def claude_api(
    server: FakeApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> FakeApiServer:
    """The fake API where Claude Code will send its requests, with a throwaway user home.

    `HOME` points at `tmp_path / "user-home"`, so a test can plant personal skills there and
    nothing from the developer's own `~/.claude` reaches Claude Code.
    """
    for variable in _CLAUDE_CODE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    home = tmp_path / "user-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", CLAUDE_TEST_KEY)
    return server
