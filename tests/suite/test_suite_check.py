"""Tests for routelens.suite.suite_check: skills and cases checked together in one pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from routelens.suite.problems import ProblemsError, Severity
from routelens.suite.suite_check import check_suite, load_suite


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def skill(name: str, description: str = "Does things.") -> str:
    return f"---\nname: {name}\ndescription: {description}\n---\n"


@pytest.fixture
def skills_dir(tmp_path: Path) -> Path:
    write(tmp_path, "skills/search/SKILL.md", skill("jira-search"))
    write(tmp_path, "skills/broken/SKILL.md", "---\nname: [b]\ndescription: x\n---\n")
    return tmp_path / "skills"


CASES = """\
tests:
  - {id: A, category: direct, input: find bugs, expected_skill: search}
  - {id: B, category: direct, input: fix it, expected_skill: broken}
  - {id: C, category: direct, input: what, expected_skill: nope}
  - {id: D, category: bogus, input: x}
"""


def test_skill_and_case_problems_come_out_together(tmp_path: Path, skills_dir: Path) -> None:
    cases = write(tmp_path, "cases.yaml", CASES)
    checked = check_suite(skills_dir, cases)
    assert [(Path(p.source).name, p.line, p.severity) for p in checked.problems] == [
        ("SKILL.md", 2, Severity.ERROR),  # the broken skill
        ("cases.yaml", 3, Severity.WARNING),  # names the broken skill: no second error
        ("cases.yaml", 4, Severity.ERROR),  # an unknown skill
        ("cases.yaml", 5, Severity.ERROR),  # an unknown category
    ]
    with pytest.raises(ProblemsError) as caught:
        load_suite(skills_dir, cases)
    assert len(caught.value.problems) == 4


def test_skip_invalid_lets_the_run_go_on_without_the_broken_skill(
    tmp_path: Path, skills_dir: Path
) -> None:
    cases = write(tmp_path, "cases.yaml", CASES.split("  - {id: C")[0])
    skills, suite = load_suite(skills_dir, cases, skip_invalid=True)
    assert skills.names == ("jira-search",)
    assert suite is not None
    assert [case.expected_skill for case in suite.cases] == ["jira-search", "broken"]
    assert [p.severity for p in skills.problems] == [Severity.WARNING]
    assert [p.severity for p in suite.problems] == [Severity.WARNING]


def test_descriptions_are_replaced_before_the_cases_are_checked(skills_dir: Path) -> None:
    write(skills_dir, "broken/SKILL.md", skill("jira-fixed"))
    skills, suite = load_suite(skills_dir, descriptions={"search": "Find with JQL."})
    assert suite is None
    found = skills.resolve("jira-search")
    assert found is not None
    assert found.description == "Find with JQL."
    checked = check_suite(skills_dir, descriptions={"nope": "x"})
    assert next(p.message for p in checked.problems).startswith("unknown skill 'nope'")
