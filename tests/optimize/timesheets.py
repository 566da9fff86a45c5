"""A suite where one description is plainly missing a word: the loop has something to find.

Thirty requests say "timesheet", a word no description uses, so the local router cannot place
them; adding the word to jira-worklog's description fixes them, on every split alike.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from routelens.config import RoutelensConfig
from routelens.optimize.trials import TrialSettings
from tests.conftest import write_skill

SKILLS = {
    "worklog": ("jira-worklog", "Log work on an issue: record the time spent on a ticket."),
    "search": ("jira-search", "Find issues with JQL queries and saved filters."),
    "lifecycle": ("jira-lifecycle", "Transition an issue to Done or In Progress, or reopen it."),
    "issue": ("jira-issue", "Create or delete a single issue: a bug, a story or a task."),
}
TIMESHEET_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "weekend")
TIMESHEET_FORMS = (
    "fill in my timesheet for {day}",
    "timesheet entry for {day} please",
    "update the timesheet of {day}",
    "my timesheet is empty for {day}",
    "complete the {day} timesheet",
)
OTHERS = (
    ("jira-search", "find issues with a JQL query"),
    ("jira-search", "run my saved filters and find issues"),
    ("jira-search", "JQL for issues created this week"),
    ("jira-search", "show issues matching the saved filter"),
    ("jira-search", "find issues with JQL assigned to me"),
    ("jira-lifecycle", "transition TES-1 to Done"),
    ("jira-lifecycle", "reopen the issue TES-9"),
    ("jira-lifecycle", "move OPS-3 to In Progress"),
    ("jira-issue", "create a bug for the login crash"),
    ("jira-issue", "delete the story WEB-5"),
)


def timesheet_inputs() -> list[str]:
    """The thirty requests that say "timesheet"."""
    return [form.format(day=day) for day in TIMESHEET_DAYS for form in TIMESHEET_FORMS]


def cases_yaml() -> str:
    """The suite: thirty timesheet requests and ten the descriptions already place."""
    lines = ['version: "1.0"', "name: timesheets", "tests:"]
    entries = [("jira-worklog", text) for text in timesheet_inputs()] + list(OTHERS)
    for number, (skill, text) in enumerate(entries, start=1):
        lines += [
            f"  - id: T{number:02d}",
            "    category: direct",
            f'    input: "{text}"',
            f"    expected_skill: {skill}",
        ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def timesheet_skills(tmp_path: Path) -> Path:
    """Four skills; jira-worklog's description never says "timesheet"."""
    root = tmp_path / "timesheet-skills"
    for folder, (name, description) in SKILLS.items():
        write_skill(root, folder, name, description, body="Steps for the skill.")
    return root


@pytest.fixture
def timesheet_cases(tmp_path: Path) -> Path:
    """The case file."""
    path = tmp_path / "timesheet-cases.yaml"
    path.write_text(cases_yaml(), encoding="utf-8")
    return path


@pytest.fixture
def trial_settings(timesheet_skills: Path, timesheet_cases: Path) -> TrialSettings:
    """Trials of the timesheet suite with the local router."""
    return TrialSettings(
        config=RoutelensConfig(), skills_dir=timesheet_skills, cases_path=timesheet_cases
    )
