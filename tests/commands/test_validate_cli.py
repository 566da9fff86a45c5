"""`routelens validate` and `routelens skills`: every problem listed, then a count."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from routelens.cli import app

runner = CliRunner()

PROBLEM_CASES = """\
tests:
  - id: A
    category: direct
    input: create a bug
    expected_skill: jira-issue
    owner: qa
  - id: B
    category: sideways
    input: x
  - id: C
    category: direct
    input: y
    expected_skill: jira-nope
"""


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_validate_lists_every_problem_then_the_count_and_exits_2(
    skills_dir: Path, tmp_path: Path
) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(PROBLEM_CASES)
    write_bad = skills_dir / "broken" / "SKILL.md"
    write_bad.parent.mkdir()
    write_bad.write_text("---\nname: [x]\ndescription: y\n---\n")
    code, out, err = invoke("validate", "--skills", str(skills_dir), "--cases", str(cases))
    assert code == 2
    assert out.splitlines() == [
        f"{write_bad}:2: error: name: must be a string, not list",
        f"{cases}:6: warning: tests[0].owner: unknown key 'owner'; ignored (known: id, "
        "category, input, expected_skill, alternate_skills, not_skill, disambiguation_options, "
        "workflow, expected_commands, certainty, notes, action, context, tags, ask, "
        "requires_confirmation, skip, skip_reason; prefix your own keys with 'x-')",
        f"{cases}:8: error: tests[1].category: unknown category 'sideways' (one of: direct, "
        "disambiguation, negative, workflow, edge, context)",
        f"{cases}:13: error: tests[2].expected_skill: unknown skill 'jira-nope' (known: "
        "jira-issue, jira-lifecycle, jira-search)",
    ]
    assert err == "routelens: error: validate: 4 problems (3 errors, 1 warning)\n"


def test_validate_passes_with_warnings_unless_strict(
    skills_dir: Path, cases_file: Path, tmp_path: Path
) -> None:
    cases_file.write_text(cases_file.read_text() + "    x-owner: qa\n    owner: qa\n")
    code, out, err = invoke("validate", "--skills", str(skills_dir), "--cases", str(cases_file))
    assert code == 0, err
    last = out.splitlines()[-1]
    assert last.startswith("ok: 3 skills (hash ")
    assert ", 4 cases (hash " in last
    assert last.endswith("); 1 problem (0 errors, 1 warning)")
    code, _, err = invoke(
        "validate", "--skills", str(skills_dir), "--cases", str(cases_file), "--strict"
    )
    assert code == 2
    assert err.endswith("1 problem (0 errors, 1 warning) (--strict: warnings count)\n")
    config = tmp_path / "routelens.toml"
    config.write_text(f'skills = "skills"\n[cases]\npath = "{cases_file.name}"\nstrict = true\n')
    code, _, err = invoke("validate", "--config", str(config))
    assert code == 2
    assert "(--strict: warnings count)" in err


def test_a_skill_without_front_matter_validates_with_a_warning(tmp_path: Path) -> None:
    skill = tmp_path / "skills" / "splunk-alert" / "SKILL.md"
    skill.parent.mkdir(parents=True)
    skill.write_text("# Splunk alerts\n\nCreate and tune Splunk alerts.\n")
    code, out, _ = invoke("validate", "--skills", str(tmp_path / "skills"))
    assert code == 0
    assert out.splitlines()[0] == (
        f"{skill}:1: warning: front matter: no YAML front matter, so no description: Claude "
        "Code loads it as 'splunk-alert' with its folder name as the description"
    )


def test_skills_lists_every_skill_marks_the_invalid_and_exits_2_after(
    skills_dir: Path,
) -> None:
    broken = skills_dir / "broken" / "SKILL.md"
    broken.parent.mkdir()
    broken.write_text("---\nname: claude-helper\ndescription: [x]\n---\n")
    plain = skills_dir / "plain" / "SKILL.md"
    plain.parent.mkdir()
    plain.write_text("# Plain\n")
    code, out, err = invoke("skills", "--skills", str(skills_dir))
    assert code == 2
    lines = out.splitlines()
    assert lines[0] == "claude-helper (folder broken)  INVALID"
    assert lines[1] == f"  {broken}:3: error: description: must be a string, not list"
    assert [line.split("  ")[0] for line in lines if not line.startswith(" ")] == [
        "claude-helper (folder broken)",
        "jira-issue (folder issue)",
        "jira-lifecycle (folder lifecycle)",
        "plain",
        "jira-search (folder search)",
        lines[-1].split("  ")[0],
    ]
    assert lines[-1].startswith("skills hash ")
    assert lines[-1].endswith("(4 valid of 5)")
    assert err == "routelens: error: skills: 3 problems (1 error, 2 warnings)\n"
    code, out, _ = invoke("skills", "--skills", str(skills_dir), "--json")
    assert code == 2
    listing = json.loads(out)
    assert [(s["name"], s["valid"]) for s in listing["skills"]] == [
        ("claude-helper", False),
        ("jira-issue", True),
        ("jira-lifecycle", True),
        ("plain", True),
        ("jira-search", True),
    ]
    assert listing["skills"][0]["problems"][0]["severity"] == "error"
