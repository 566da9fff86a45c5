"""The `routelens` command end to end through CliRunner, on the offline router."""

from __future__ import annotations

import json
import os
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routelens.cli import app
from routelens.store import open_store
from tests.store.conftest import POSTGRES_URL_VARIABLE, postgres_schema_url

runner = CliRunner()


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite'}"


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _run_suite(
    skills_dir: Path, cases_file: Path, store_url: str, *extra: str
) -> tuple[int, str, str]:
    """`routelens run` of `cases_file` against `skills_dir` into `store_url`, plus `extra` flags."""
    return _run(
        "run", "--skills", str(skills_dir), "--cases", str(cases_file), "--store", store_url, *extra
    )


def test_run_json_reports_every_attempt_and_the_breakdowns(
    skills_dir: Path, cases_file: Path, store_url: str
) -> None:
    code, out, err = _run_suite(
        skills_dir, cases_file, store_url, "--repeat", "3", "--json", "--label", "team=qa"
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["cases"] == 4
    assert report["attempts"] == 12
    assert report["passed"] + report["failed"] + report["errors"] == 12
    assert report["accuracy"] == report["passed"] / (report["passed"] + report["failed"])
    assert set(report["by_category"]) == {"direct", "negative", "edge"}
    assert report["by_category"]["direct"]["attempts"] == 6
    assert report["tokens"] == {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0}
    assert report["cost_usd"] == 0.0
    assert report["labels"] == {"team": "qa"}
    assert report["model"] == "bm25"
    assert report["router"] == "local"
    assert report["status"] == "completed"
    with open_store(store_url) as store:
        assert len(store.attempts(report["run_id"])) == 12


def test_the_gate_exits_1_below_min_accuracy_and_says_why(
    skills_dir: Path, cases_file: Path, store_url: str
) -> None:
    with_a_miss = cases_file.read_text() + (
        "  - id: C5\n    category: direct\n    input: create a bug\n"
        "    expected_skill: jira-lifecycle\n"
    )
    cases_file.write_text(with_a_miss)
    code, out, _ = _run_suite(skills_dir, cases_file, store_url, "--json", "--min-accuracy", "0.8")
    report = json.loads(out)
    assert code == 0
    assert report["accuracy"] == 0.8
    assert report["gate"]["passed"]
    code, out, _ = _run_suite(skills_dir, cases_file, store_url, "--min-accuracy", "0.81")
    assert code == 1
    assert "Gate failed: accuracy 80.0% is below 81.0%" in out


def test_human_summary_names_accuracy_categories_and_confusions(
    skills_dir: Path, cases_file: Path, store_url: str
) -> None:
    code, out, _ = _run_suite(skills_dir, cases_file, store_url)
    assert code == 0
    assert "Accuracy" in out
    assert "SLO 85%" in out
    assert "By category" in out
    assert "negative" in out
    assert "Cost $0.0000" in out


@pytest.mark.parametrize(
    ("cases_text", "expected"),
    [
        (
            "tests:\n  - id: A\n    category: direct\n    input: x\n    expected_skill: nope\n",
            ":5: tests[0].expected_skill: unknown skill 'nope'",
        ),
        (
            "tests:\n  - id: A\n    category: sideways\n    input: x\n",
            ":3: tests[0].category: unknown category 'sideways'",
        ),
        ("tests:\n  - id: A\n    category: direct\n", ":2: tests[0].input: required field"),
        ("tests: [\n", "invalid YAML"),
    ],
)
def test_bad_cases_exit_2_with_one_line_naming_file_line_and_field(
    skills_dir: Path, tmp_path: Path, store_url: str, cases_text: str, expected: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(cases_text)
    code, _out, err = _run_suite(skills_dir, bad, store_url)
    assert code == 2
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert err.startswith(f"routelens: error: {bad}")
    assert expected in err
    with open_store(store_url) as store:
        assert store.list_runs() == []  # nothing half-made


def test_bad_input_never_loses_what_is_recorded(
    skills_dir: Path, cases_file: Path, store_url: str, tmp_path: Path
) -> None:
    code, out, _ = _run_suite(skills_dir, cases_file, store_url, "--json")
    run_id = json.loads(out)["run_id"]
    code, _, err = _run_suite(tmp_path / "missing", cases_file, store_url)
    assert code == 2
    assert "no such skills folder" in err
    code, _, err = _run_suite(skills_dir, cases_file, store_url, "--label", "oops")
    assert code == 2
    assert "--label: 'oops' is not key=value" in err
    with open_store(store_url) as store:
        assert [r.run_id for r in store.list_runs()] == [run_id]
        assert len(store.attempts(run_id)) == 4


def test_validate_reports_counts_or_the_first_problem(
    skills_dir: Path, cases_file: Path, tmp_path: Path
) -> None:
    code, out, _ = _run("validate", "--skills", str(skills_dir), "--cases", str(cases_file))
    assert code == 0
    assert out.startswith("ok: 3 skills")
    assert "4 cases" in out
    (skills_dir / "dupe").mkdir()
    (skills_dir / "dupe" / "SKILL.md").write_text("---\nname: jira-search\ndescription: x\n---\n")
    code, out, err = _run("validate", "--skills", str(skills_dir))
    assert code == 2
    assert "'jira-search' already names the skill" in out
    assert err == "routelens: error: validate: 1 problem (1 error, 0 warnings)\n"


def test_runs_show_export_import_and_junit(
    skills_dir: Path, cases_file: Path, store_url: str, tmp_path: Path
) -> None:
    _, out, _ = _run_suite(skills_dir, cases_file, store_url, "--json", "--repeat", "2")
    run_id = json.loads(out)["run_id"]

    code, out, _ = _run("runs", "--store", store_url, "--json")
    assert code == 0
    assert [r["run_id"] for r in json.loads(out)["runs"]] == [run_id]

    junit = tmp_path / "junit.xml"
    code, out, _ = _run("show", run_id, "--store", store_url, "--json", "--junit", str(junit))
    assert code == 0
    assert json.loads(out)["attempts"] == 8
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("tests") == "8"

    exported = tmp_path / "run.jsonl"
    code, out, _ = _run("export", run_id, "--out", str(exported), "--store", store_url)
    assert code == 0
    assert "exported 8 attempts" in out
    other = f"sqlite:///{tmp_path / 'other.sqlite'}"
    code, out, _ = _run("import", str(exported), "--store", other)
    assert code == 0
    assert "1 runs created, 8 attempts added" in out
    again = tmp_path / "again.jsonl"
    _run("export", run_id, "--out", str(again), "--store", other)
    assert again.read_bytes() == exported.read_bytes()

    code, _, err = _run("show", "nope", "--store", store_url)
    assert code == 2
    assert "no run 'nope'" in err


def test_trigger_eval_sets_run_with_their_skill(
    skills_dir: Path, tmp_path: Path, store_url: str
) -> None:
    evals = tmp_path / "evals.json"
    evals.write_text(
        json.dumps(
            [
                {"query": "list issues with a JQL filter", "should_trigger": True},
                {"query": "transition TES-1 to Done", "should_trigger": False},
            ]
        )
    )
    code, _, err = _run_suite(skills_dir, evals, store_url)
    assert code == 2
    assert "--trigger-skill" in err
    code, out, _ = _run_suite(
        skills_dir, evals, store_url, "--trigger-skill", "jira-search", "--json"
    )
    assert code == 0
    report = json.loads(out)
    assert set(report["by_category"]) == {"direct", "negative"}
    assert report["passed"] == 2


def test_config_file_supplies_defaults_and_flags_override(
    skills_dir: Path, cases_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "routelens.toml"
    config.write_text(
        f'skills = "{skills_dir}"\ncases = "{cases_file}"\nstore = "sqlite:///{tmp_path}/c.sqlite"\n'
        'repeat = 2\nslo = 0.9\n[labels]\nsuite = "small"\n'
    )
    monkeypatch.chdir(tmp_path)
    code, out, _ = _run("run", "--json")
    report = json.loads(out)
    assert code == 0
    assert report["attempts"] == 8
    assert report["slo"] == 0.9
    assert report["labels"] == {"suite": "small"}
    code, out, _ = _run("run", "--json", "--repeat", "1", "--label", "suite=override")
    assert json.loads(out)["attempts"] == 4
    assert json.loads(out)["labels"] == {"suite": "override"}
    config.write_text("repeat = 0\n")
    code, _, err = _run("run")
    assert code == 2
    assert "routelens.toml:1: repeat:" in err


@pytest.mark.postgres
def test_a_whole_run_and_resume_work_on_postgresql(skills_dir: Path, cases_file: Path) -> None:
    base_url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not base_url:
        pytest.skip(f"needs {POSTGRES_URL_VARIABLE} (see .ci/postgres.sh)")
    with postgres_schema_url(base_url) as url:
        code, out, err = _run_suite(skills_dir, cases_file, url, "--json", "--repeat", "2")
        assert code == 0, err
        report = json.loads(out)
        assert report["attempts"] == 8
        code, out, err = _run("run", "--resume", report["run_id"], "--store", url, "--json")
        assert code == 0, err
        assert json.loads(out)["attempts"] == 8  # nothing was missing, nothing added
        assert "routelens:routelens@" not in out + err  # the password is never shown


def test_max_cost_stops_the_run_with_exit_3_and_resume_finishes_it(
    skills_dir: Path, cases_file: Path, store_url: str
) -> None:
    code, out, err = _run_suite(
        skills_dir,
        cases_file,
        store_url,
        "--router",
        "tests.support_routers:priced_router",
        "--repeat",
        "3",
        "--concurrency",
        "1",
        "--max-cost",
        "0.05",
        "--json",
    )
    assert code == 3
    report = json.loads(out)
    assert report["status"] == "stopped-by-budget"
    assert report["attempts"] == 5
    assert report["cost_usd"] == pytest.approx(0.05)
    # the hint is runnable as printed: it names the store the run was given
    hint = err.split("continue with: ", 1)[1].strip()
    assert hint.startswith(f"routelens run --resume {report['run_id']} --store ")
    words = shlex.split(hint.replace("<higher>", "1"))
    code, out, err = _run(*words[1:], "--json")
    assert code == 0, err
    assert json.loads(out)["attempts"] == 12
