"""`routelens run` with real suites: skips, strictness, invalid skills, description
overrides, trigger-rate rules and the workflow rule, end to end on the offline router."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routelens.cli import app
from routelens.store import open_store
from routelens.suite.hashing import skill_content_hash

runner = CliRunner()


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite'}"


def run(skills: Path, cases: Path, store_url: str, *extra: str) -> tuple[int, str, str]:
    result = runner.invoke(
        app, ["run", "--skills", str(skills), "--cases", str(cases), "--store", store_url, *extra]
    )
    return result.exit_code, result.stdout, result.stderr


SKIPPING = """\
tests:
  - {id: C1, category: direct, input: "create a bug for the crash", expected_skill: jira-issue}
  - id: C2
    category: direct
    input: "find issues with JQL assigned to me"
    expected_skill: search
    skip: true
    skip_reason: "waiting for the JQL skill rewrite"
"""


def test_skipped_cases_are_not_run_and_are_listed_with_their_reason(
    skills_dir: Path, tmp_path: Path, store_url: str
) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(SKIPPING)
    junit = tmp_path / "junit.xml"
    code, out, err = run(skills_dir, cases, store_url, "--json", "--junit", str(junit))
    assert code == 0, err
    report = json.loads(out)
    assert report["attempts"] == 1
    assert report["skipped"] == [
        {"case_id": "C2", "category": "direct", "reason": "waiting for the JQL skill rewrite"}
    ]
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("skipped")) == ("2", "1")
    code, out, _ = run(skills_dir, cases, store_url, "--json", "--include-skipped")
    assert code == 0
    included = json.loads(out)
    assert (included["attempts"], included["skipped"]) == (2, [])
    shown = runner.invoke(app, ["show", report["run_id"], "--store", store_url])
    assert shown.exit_code == 0
    assert "C2 (direct): waiting for the JQL skill rewrite" in shown.stdout


def test_warnings_are_printed_and_strict_refuses_them(
    skills_dir: Path, cases_file: Path, store_url: str
) -> None:
    cases_file.write_text(cases_file.read_text() + "    owner: qa\n")
    code, _, err = run(skills_dir, cases_file, store_url, "--json")
    assert code == 0
    assert f"{cases_file}:21: warning: tests[3].owner: unknown key 'owner'" in err
    code, _, err = run(skills_dir, cases_file, store_url, "--strict")
    assert code == 2
    assert err.startswith(f"routelens: error: {cases_file}:21: tests[3].owner: unknown key")
    with open_store(store_url) as store:
        assert len(store.list_runs()) == 1  # the strict run never started


def test_invalid_skills_are_refused_unless_skipped(
    skills_dir: Path, cases_file: Path, store_url: str
) -> None:
    broken = skills_dir / "broken" / "SKILL.md"
    broken.parent.mkdir()
    broken.write_text("---\nname: [broken]\ndescription: x\n---\n")
    dangling = skills_dir / "moved"
    dangling.symlink_to(skills_dir.parent / "nowhere", target_is_directory=True)
    code, _, err = run(skills_dir, cases_file, store_url)
    assert code == 2
    lines = err.splitlines()
    assert lines[:2] == [
        f"{broken}:2: error: name: must be a string, not list",
        f"{dangling}: error: skills: dangling symlink to {skills_dir.parent / 'nowhere'}: a "
        "skill folder it pointed to is missing",
    ]
    assert lines[-1].endswith("2 problems (2 errors, 0 warnings), listed above")
    code, out, err = run(skills_dir, cases_file, store_url, "--skip-invalid-skills", "--json")
    assert code == 0, err
    assert "skipped (--skip-invalid-skills)" in err
    report = json.loads(out)
    with open_store(store_url) as store:
        stored = store.get_run(report["run_id"])
        assert stored is not None
        assert stored.settings["skip_invalid_skills"] is True
        assert [s.name for s in store.run_skills(report["run_id"])] == [
            "jira-issue",
            "jira-lifecycle",
            "jira-search",
        ]


def test_a_description_override_is_routed_recorded_and_hashed(
    skills_dir: Path, tmp_path: Path, store_url: str
) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "tests:\n  - {id: W, category: direct, input: 'log two hours of work on TES-5', "
        "expected_skill: jira-lifecycle}\n"
    )
    code, out, _ = run(skills_dir, cases, store_url, "--json")
    assert json.loads(out)["failed"] == 1  # nothing in the descriptions says "log work"
    override = "Log hours of work on an issue; worklogs and time tracking."
    code, out, err = run(
        skills_dir, cases, store_url, "--json", "--description", f"lifecycle={override}"
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["passed"] == 1
    with open_store(store_url) as store:
        stored = store.get_run(report["run_id"])
        assert stored is not None
        assert stored.settings["description_overrides"] == {"lifecycle": override}
        skills = {s.name: s for s in store.run_skills(report["run_id"])}
    source = (skills_dir / "lifecycle" / "SKILL.md").read_text()
    first_line = source.split("\n")[2]
    edited = source.replace(first_line, f"description: {override}")
    assert skills["jira-lifecycle"].description == override
    assert skills["jira-lifecycle"].content_hash == skill_content_hash(edited)
    assert (
        report["skills_hash"]
        != json.loads(run(skills_dir, cases, store_url, "--json")[1])["skills_hash"]
    )
    code, _, err = run(skills_dir, cases, store_url, "--description", "nope=x")
    assert code == 2
    assert "unknown skill 'nope'" in err
    code, _, err = run(skills_dir, cases, store_url, "--description", "lifecycle")
    assert code == 2
    assert "'lifecycle' is not SKILL=TEXT" in err


TRIGGERS = [
    {"query": "list issues with a JQL filter", "should_trigger": True},
    {"query": "find issues with JQL assigned to me", "should_trigger": True},
    {"query": "transition TES-1 to Done", "should_trigger": False},
]


def test_a_trigger_set_reports_each_querys_trigger_rate(
    skills_dir: Path, tmp_path: Path, store_url: str
) -> None:
    evals = tmp_path / "evals.json"
    evals.write_text(json.dumps(TRIGGERS))
    code, out, err = run(
        skills_dir, evals, store_url, "--trigger-skill", "jira-search", "--repeat", "2", "--json",
        "--trigger-threshold", "0.75",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert [(r["case_id"], r["should_trigger"], r["triggered"], r["decided"], r["passed"])
            for r in report["trigger_rates"]] == [
        ("jira-search-trigger-001", True, 2, 2, True),
        ("jira-search-trigger-002", True, 2, 2, True),
        ("jira-search-trigger-003", False, 0, 2, True),
    ]  # fmt: skip
    assert {r["threshold"] for r in report["trigger_rates"]} == {0.75}


def test_trigger_options_with_a_golden_set_are_refused(
    skills_dir: Path, cases_file: Path, store_url: str
) -> None:
    code, _, err = run(skills_dir, cases_file, store_url, "--trigger-skill", "jira-search")
    assert code == 2
    assert "--trigger-skill jira-search is only for a trigger eval set" in err
    code, _, err = run(skills_dir, cases_file, store_url, "--trigger-threshold", "0.6")
    assert code == 2
    assert "--trigger-threshold is only for a trigger eval set" in err
    with open_store(store_url) as store:
        assert store.list_runs() == []


WORKFLOW = """\
tests:
  - id: W1
    category: workflow
    input: "transition TES-1 to Done"
    workflow:
      - {skill: jira-search, action: find}
      - {skill: jira-lifecycle, action: transition}
"""


def test_the_workflow_rule_comes_from_the_config(
    skills_dir: Path, tmp_path: Path, store_url: str
) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(WORKFLOW)
    code, out, _ = run(skills_dir, cases, store_url, "--json")
    assert code == 0
    assert json.loads(out)["passed"] == 1  # any step: the router picked the second
    config = tmp_path / "routelens.toml"
    config.write_text('[verdicts]\nworkflow = "first-step"\n')
    code, out, _ = run(skills_dir, cases, store_url, "--json", "--config", str(config))
    assert code == 0
    report = json.loads(out)
    assert report["failed"] == 1
    with open_store(store_url) as store:
        stored = store.get_run(report["run_id"])
        assert stored is not None
        assert stored.settings["workflow_rule"] == "first-step"
