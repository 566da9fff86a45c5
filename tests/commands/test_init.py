"""`routelens init` writes a config and case file that validate and run as written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routelens.cli import app
from routelens.config import load_config
from routelens.suite.cases import load_case_suite
from routelens.suite.skills import load_skill_set

runner = CliRunner()


def test_init_scaffolds_a_suite_that_validates_and_runs(
    skills_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "skills").mkdir(parents=True)
    for folder in skills_dir.iterdir():
        (project / "skills" / folder.name).mkdir()
        (project / "skills" / folder.name / "SKILL.md").write_text(
            (folder / "SKILL.md").read_text()
        )
    monkeypatch.chdir(project)
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    config = load_config()
    assert config.skills == project / "skills"
    assert config.cases == project / "tests" / "routing" / "cases.yaml"
    skills = load_skill_set(project / "skills")
    suite = load_case_suite(config.cases, skills)
    assert sorted(case.expected_skill or "" for case in suite.cases) == sorted(skills.names)
    first = next(case for case in suite.cases if case.expected_skill == "jira-issue")
    assert (
        first.input == "create, view, edit or delete a single Jira issue: bug, story, task, summary"
    )
    assert runner.invoke(app, ["validate"]).exit_code == 0
    run = runner.invoke(app, ["run", "--json"])
    assert run.exit_code in (0, 1), run.output
    report = json.loads(run.stdout)
    assert report["attempts"] == 3 * len(skills.skills)  # the config's repeat = 3
    assert (project / ".routelens" / "routelens.sqlite").is_file()


def test_init_never_overwrites_without_force(
    tmp_path: Path, skills_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "routelens.toml").write_text("repeat = 5\n")
    result = runner.invoke(app, ["init", "--skills", str(skills_dir)])
    assert result.exit_code == 2
    assert "routelens.toml: exists; keep it, or pass --force" in result.stderr
    assert (tmp_path / "routelens.toml").read_text() == "repeat = 5\n"
    assert runner.invoke(app, ["init", "--skills", str(skills_dir), "--force"]).exit_code == 0
    assert load_config().repeat == 3


def test_init_without_skills_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 2
    assert "no skills folder here (skills, .claude/skills, plugins); give --skills" in result.stderr
