"""`routelens ablate`: the ranked table, the JSON object, bad input."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from routelens.cli import app
from routelens.store.sqlstore import open_store
from tests.optimize.timesheets import timesheet_cases, timesheet_skills

__all__ = ["timesheet_cases", "timesheet_skills"]  # fixtures

runner = CliRunner()


def invoke(skills: Path, cases: Path, store: Path, *arguments: str) -> tuple[int, str, str]:
    result = runner.invoke(
        app,
        [
            "ablate",
            "--skills",
            str(skills),
            "--cases",
            str(cases),
            "--store",
            f"sqlite:///{store}",
            *arguments,
        ],
    )
    return result.exit_code, result.stdout, result.stderr


def test_json_ranks_every_part_with_its_runs(
    timesheet_skills: Path, timesheet_cases: Path, tmp_path: Path
) -> None:
    store = tmp_path / "s.sqlite"
    code, stdout, stderr = invoke(
        timesheet_skills, timesheet_cases, store, "--skill", "jira-search", "--json"
    )
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["skill"] == "jira-search"
    assert [p["text"] for p in sorted(report["parts"], key=lambda p: p["index"])] == [
        "Find issues with JQL queries and saved filters."
    ]
    [part] = report["parts"]
    assert part["verdict"] == "carries the routing"
    assert part["own"]["after"] < part["own"]["before"]
    assert part["b"] > part["c"]
    assert len(report["cases"]["affected"]) >= 5
    with open_store(f"sqlite:///{store}", access="read") as opened:
        run = opened.get_run(part["run_id"])
        baseline = opened.get_run(report["baseline_run_id"])
    assert run is not None
    assert baseline is not None
    assert run.settings["description_overrides"] == {"jira-search": ""}
    assert run.labels["ablate"] == "jira-search"
    assert baseline.settings["description_overrides"] == {}


def test_the_table_names_the_verdicts(
    timesheet_skills: Path, timesheet_cases: Path, tmp_path: Path
) -> None:
    code, stdout, stderr = invoke(
        timesheet_skills, timesheet_cases, tmp_path / "s.sqlite", "--skill", "worklog"
    )
    assert code == 0, stderr
    assert stdout.startswith(
        "ablate jira-worklog: 1 part, 33 cases (30 the skill touches, 3 sampled)"
    )
    [row] = [line for line in stdout.splitlines() if "[sentence]" in line]
    assert row.split()[0:2] == ["dead", "weight"]  # the timesheet cases fail either way
    assert row.endswith("[sentence] Log work on an issue: record the time spent on a ticket.")


def test_an_unknown_skill_is_bad_input_and_makes_no_store(
    timesheet_skills: Path, timesheet_cases: Path, tmp_path: Path
) -> None:
    store = tmp_path / "s.sqlite"
    code, _, stderr = invoke(timesheet_skills, timesheet_cases, store, "--skill", "nope")
    assert code == 2
    assert stderr.strip().startswith("routelens: error: --skill: unknown skill 'nope'")
    assert not store.exists()
