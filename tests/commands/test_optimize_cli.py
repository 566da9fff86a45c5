"""`routelens optimize`: the JSON object, the text report, bad input and the recorded experiment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routelens.cli import app
from tests.optimize.timesheets import timesheet_cases, timesheet_skills

__all__ = ["timesheet_cases", "timesheet_skills"]  # fixtures

runner = CliRunner()
SKILL = "jira-worklog"
TOP_KEYS = {
    "skill",
    "splits",
    "iterations",
    "original",
    "best",
    "test_mcnemar",
    "difference",
    "interference",
    "recommended",
    "reason",
}
DESCRIPTION_KEYS = {"description", "train_accuracy", "validation_accuracy", "test_accuracy"}


def invoke(skills: Path, cases: Path, store: Path, *arguments: str) -> tuple[int, str, str]:
    result = runner.invoke(
        app,
        [
            "optimize",
            "--skills",
            str(skills),
            "--cases",
            str(cases),
            "--store",
            f"sqlite:///{store}",
            "--seed",
            "11",
            *arguments,
        ],
    )
    return result.exit_code, result.stdout, result.stderr


def test_json_is_the_documented_object(
    timesheet_skills: Path, timesheet_cases: Path, tmp_path: Path
) -> None:
    code, stdout, stderr = invoke(
        timesheet_skills, timesheet_cases, tmp_path / "s.sqlite", "--skill", SKILL, "--json"
    )
    assert code == 0, stderr
    report = json.loads(stdout)
    assert set(report) == TOP_KEYS
    assert set(report["splits"]) == {"train", "validation", "test"}
    assert (len(report["splits"]["train"]), len(report["splits"]["test"])) == (24, 8)
    assert set(report["original"]) == DESCRIPTION_KEYS
    assert set(report["best"]) == DESCRIPTION_KEYS
    assert set(report["test_mcnemar"]) == {"b", "c", "p_value"}
    assert set(report["difference"]) == {"estimate", "low", "high"}
    for check in report["interference"]:
        assert set(check) == {"skill", "before", "after", "low", "high"}
    checked = {c["skill"] for c in report["interference"]}
    assert checked  # every other skill with a case in the test split, never the skill itself
    assert checked <= {"jira-issue", "jira-lifecycle", "jira-search"}
    assert report["recommended"] is True
    assert report["test_mcnemar"]["b"] == 0
    assert report["test_mcnemar"]["c"] == 6
    assert report["test_mcnemar"]["p_value"] == pytest.approx(2 * 0.5**6)
    assert report["best"]["test_accuracy"] == 1.0
    assert report["iterations"][0]["run_id"]


def test_the_text_report_and_the_experiment_it_records(
    timesheet_skills: Path, timesheet_cases: Path, tmp_path: Path
) -> None:
    store = tmp_path / "s.sqlite"
    code, stdout, stderr = invoke(timesheet_skills, timesheet_cases, store, "--skill", "worklog")
    assert code == 0, stderr
    assert "chosen on validation: proposal 1" in stdout
    assert "recommended: yes" in stdout
    name = stdout.split("recorded as experiment ")[1].split()[0]
    listed = runner.invoke(app, ["experiment", "list", "--store", f"sqlite:///{store}", "--json"])
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.stdout)["experiments"]
    assert row["name"] == name
    assert row["status"] == "concluded"
    assert row["decision"] == "adopt"
    assert row["treatment"].endswith("(new description: jira-worklog)")
    status = runner.invoke(
        app, ["experiment", "status", name, "--store", f"sqlite:///{store}", "--json"]
    )
    assert status.exit_code == 0, status.output
    view = json.loads(status.stdout)
    assert view["comparison"]["treatment"]["accuracy"] == 1.0
    assert view["comparison"]["optimize"]["recommended"] is True


def test_all_reports_every_skill_and_the_suite(
    timesheet_skills: Path, timesheet_cases: Path, tmp_path: Path
) -> None:
    code, stdout, stderr = invoke(
        timesheet_skills,
        timesheet_cases,
        tmp_path / "s.sqlite",
        "--all",
        "--iterations",
        "2",
        "--json",
    )
    assert code == 0, stderr
    report = json.loads(stdout)
    assert set(report) == {"skills", "suite", "stopped"}
    assert report["skills"][0]["skill"] == SKILL
    assert all(set(r) == TOP_KEYS for r in report["skills"])
    assert report["suite"]["best_test_accuracy"] == 1.0
    assert report["stopped"] is None


def test_out_writes_the_copy_and_prints_the_diff(
    timesheet_skills: Path, timesheet_cases: Path, tmp_path: Path
) -> None:
    out = tmp_path / "proposed"
    code, stdout, stderr = invoke(
        timesheet_skills,
        timesheet_cases,
        tmp_path / "s.sqlite",
        "--skill",
        SKILL,
        "--out",
        str(out),
    )
    assert code == 0, stderr
    assert "--- a/worklog/SKILL.md\n+++ b/worklog/SKILL.md\n" in stdout
    assert "timesheet" in (out / "worklog" / "SKILL.md").read_text()
    assert "timesheet" not in (timesheet_skills / "worklog" / "SKILL.md").read_text()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--skill", "nope"], "--skill: unknown skill 'nope'"),
        (["--skill", SKILL, "--all"], "give --skill NAME or --all, not both"),
        ([], "give --skill NAME or --all"),
        (["--skill", SKILL, "--split", "0.5,0.5"], "--split: '0.5,0.5' is not three numbers"),
        (["--skill", SKILL, "--proposer", "anthropic"], "ANTHROPIC_API_KEY"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_store(
    timesheet_skills: Path,
    timesheet_cases: Path,
    tmp_path: Path,
    arguments: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    store = tmp_path / "s.sqlite"
    code, _, stderr = invoke(timesheet_skills, timesheet_cases, store, *arguments)
    assert code == 2, stderr
    [line] = stderr.strip().splitlines()
    assert line.startswith("routelens: error: ")
    assert message in line
    assert not store.exists()


def test_a_full_out_folder_is_refused_before_anything_runs(
    timesheet_skills: Path, timesheet_cases: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    store = tmp_path / "s.sqlite"
    code, _, stderr = invoke(
        timesheet_skills, timesheet_cases, store, "--skill", SKILL, "--out", str(out)
    )
    assert code == 2
    assert "not an empty folder" in stderr
    assert not store.exists()
    assert (out / "keep.txt").read_text() == "mine"


def test_the_budget_stops_it_with_exit_3(
    timesheet_skills: Path, timesheet_cases: Path, tmp_path: Path
) -> None:
    code, stdout, stderr = invoke(
        timesheet_skills,
        timesheet_cases,
        tmp_path / "s.sqlite",
        "--skill",
        SKILL,
        "--router",
        "tests.support_routers:priced_router",
        "--router-option",
        "cost_usd=0.01",
        "--max-cost",
        "0.5",
        "--json",
    )
    assert code == 3, stderr
    assert "stopped by budget" in stderr
    report = json.loads(stdout)
    assert report["recommended"] is False
    assert report["reason"].startswith("not measured on test")
