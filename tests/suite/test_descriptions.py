"""Tests for routelens.suite.descriptions: a SKILL.md with its description replaced."""

from __future__ import annotations

from pathlib import Path

import pytest

from routelens.suite.descriptions import description_entry, replace_description
from routelens.suite.skills import parse_skill_text

PATH = Path("skills/jira-search/SKILL.md")


@pytest.mark.parametrize(
    ("description", "line"),
    [
        ("Find issues with JQL.", "description: Find issues with JQL."),
        ("Use when: searching", "description: 'Use when: searching'"),
        ("it's #1", "description: 'it''s #1'"),
        ("- starts like a list", "description: '- starts like a list'"),
        ("two\nlines", "description: 'two\n\n  lines'"),
    ],
)
def test_a_description_is_written_as_one_yaml_entry(description: str, line: str) -> None:
    assert description_entry(description) == line


@pytest.mark.parametrize(
    "front",
    [
        "name: jira-search\ndescription: Old text.\nversion: 2\n",
        "name: jira-search\ndescription: >\n  Old text\n  over lines.\nversion: 2\n",
        "name: jira-search\ndescription: |\n  Old text\n\nversion: 2\n",
        'name: jira-search\ndescription: "Old: text"\nversion: 2\n',
        "name: jira-search\nversion: 2\ndescription: Old text.",
    ],
)
def test_only_the_description_changes_every_other_line_is_kept(front: str) -> None:
    text = f"---\n{front}\n---\n# Body\n\nkept\n".replace("\n\n---", "\n---")
    replaced = replace_description(text, "New: text", fallback_name="x")
    skill = parse_skill_text(replaced, PATH)
    assert skill.description == "New: text"
    assert skill.metadata["version"] == 2
    assert skill.body == "# Body\n\nkept\n"
    assert replaced.count("\n") <= text.count("\n")
    assert "name: jira-search\n" in replaced


def test_a_file_edited_the_same_way_has_the_same_text() -> None:
    text = "---\nname: jira-search\ndescription: Old text.\n---\nbody\n"
    edited = "---\nname: jira-search\ndescription: New text.\n---\nbody\n"
    assert replace_description(text, "New text.", fallback_name="x") == edited


def test_a_front_matter_without_description_gets_one_appended() -> None:
    text = "---\nname: jira-search\n---\nbody\n"
    assert replace_description(text, "New.", fallback_name="x") == (
        "---\nname: jira-search\ndescription: New.\n---\nbody\n"
    )


def test_a_file_without_front_matter_gets_one_named_after_its_folder() -> None:
    replaced = replace_description("# Search\n", "New.", fallback_name="jira-search")
    assert replaced == "---\nname: jira-search\ndescription: New.\n---\n# Search\n"
    assert parse_skill_text(replaced, PATH).description == "New."
