"""`routelens flaky` and `routelens confidence` through the CLI, on a small SQLite store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routelens.cli import app
from routelens.store import Verdict, open_store
from tests.factories import make_attempt, make_run

runner = CliRunner()


@pytest.fixture
def store_path(tmp_path: Path) -> str:
    """A store with one flaky, one stable, one broken and one barely-run case, an hour ago."""
    path = str(tmp_path / "store.sqlite")
    start = datetime.now(UTC) - timedelta(hours=1)
    sequences = {
        "flaky": "PFPFPFPFPF",
        "stable": "PPPPPPPPPP",
        "broken": "FFFFFFFFFF",
        "new": "PF",
    }
    with open_store(path) as store:
        store.create_run(make_run("run-1", started_at=start, labels={"team": "qa"}), [], [])
        store.create_run(make_run("run-old", started_at=start - timedelta(days=30)), [], [])
        for case_id, verdicts in sequences.items():
            for index, code in enumerate(verdicts):
                at = start + timedelta(seconds=index)
                verdict = Verdict.PASS if code == "P" else Verdict.FAIL
                store.record_attempt(
                    make_attempt(
                        case_id,
                        verdict,
                        actual="deploy" if code == "P" else "rollback",
                        repeat_index=index,
                        sequence_number=index,
                        started_at=at,
                        finished_at=at,
                        confidence=0.9 if code == "P" else 0.3,
                    )
                )
        old = start - timedelta(days=30)
        store.record_attempt(
            make_attempt("ancient", run_id="run-old", started_at=old, finished_at=old)
        )
    return path


def test_flaky_json(store_path: str) -> None:
    result = runner.invoke(app, ["flaky", "--store", store_path, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    cases = {case["case_id"]: case for case in payload["cases"]}
    assert set(cases) == {"flaky", "stable", "broken", "new"}  # "ancient" is outside 7d
    assert payload["cases"][0]["case_id"] == "flaky"
    flaky = cases["flaky"]
    assert flaky["class"] == "flaky"
    assert (flaky["attempts"], flaky["pass_rate"], flaky["flip_rate"]) == (10, 0.5, 1.0)
    assert flaky["ci_low"] == pytest.approx(0.2366, abs=1e-4)
    assert flaky["stability"] == 0.0
    assert cases["stable"]["class"] == "stable-pass"
    assert cases["broken"]["class"] == "broken"
    assert cases["new"]["class"] == "insufficient-data"
    assert payload["cases"][-1]["case_id"] == "new"
    for key in ("skills_hash", "router", "model", "input_hash", "ci_high"):
        assert key in flaky


def test_flaky_options(store_path: str) -> None:
    wide = runner.invoke(app, ["flaky", "--store", store_path, "--json", "--window", "60d"])
    assert "ancient" in {c["case_id"] for c in json.loads(wide.stdout)["cases"]}
    fewer = runner.invoke(app, ["flaky", "--store", store_path, "--json", "--min-attempts", "2"])
    assert {c["case_id"]: c["class"] for c in json.loads(fewer.stdout)["cases"]}["new"] == "flaky"
    plan = runner.invoke(app, ["flaky", "--store", store_path, "--json", "--rule", "plan"])
    assert json.loads(plan.stdout)["rule"] == "plan"
    other_team = runner.invoke(
        app, ["flaky", "--store", store_path, "--json", "--label", "team=other"]
    )
    assert json.loads(other_team.stdout)["cases"] == []


def test_flaky_table(store_path: str) -> None:
    result = runner.invoke(app, ["flaky", "--store", store_path])
    assert result.exit_code == 0, result.output
    assert "Flaky cases" in result.stdout
    assert "insufficient-data" in result.stdout


@pytest.mark.parametrize(
    "arguments",
    [["--window", "7x"], ["--label", "nokey"], ["--min-attempts", "0"], ["--rule", "other"]],
)
def test_flaky_bad_input_exits_2(store_path: str, arguments: list[str]) -> None:
    result = runner.invoke(app, ["flaky", "--store", store_path, *arguments])
    assert result.exit_code == 2, result.output


def test_confidence_json(store_path: str) -> None:
    result = runner.invoke(app, ["confidence", "--store", store_path, "--json"])
    assert result.exit_code == 0, result.output
    cases = {case["case_id"]: case for case in json.loads(result.stdout)["cases"]}
    flaky = cases["flaky"]
    assert flaky["routes"] == {"deploy": 5, "rollback": 5}
    assert (flaky["top_share"], flaky["entropy_bits"]) == (0.5, 1.0)
    assert flaky["mean_confidence"] == pytest.approx(0.6)
    assert flaky["low_confidence"]
    assert cases["stable"]["low_confidence"] is False
    assert cases["broken"]["low_confidence"]  # consistent, but the router was unsure


def test_confidence_table_and_bad_input(store_path: str) -> None:
    table = runner.invoke(app, ["confidence", "--store", store_path])
    assert table.exit_code == 0, table.output
    assert "Routing confidence" in table.stdout
    bad = runner.invoke(app, ["confidence", "--store", store_path, "--min-top-share", "2"])
    assert bad.exit_code == 2, bad.output


def test_confidence_names_what_a_case_without_a_skill_expects(tmp_path: Path) -> None:
    path = str(tmp_path / "labels.sqlite")
    at = datetime.now(UTC) - timedelta(hours=1)
    with open_store(path) as store:
        store.create_run(make_run("run-1", started_at=at), [], [])
        for case_id, category in (("neg", "negative"), ("amb", "disambiguation")):
            store.record_attempt(
                make_attempt(
                    case_id,
                    Verdict.FAIL,
                    expected=None,
                    actual="deploy",
                    category=category,
                    started_at=at,
                    finished_at=at,
                )
            )
    table = runner.invoke(app, ["confidence", "--store", path], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    rows = {line.split()[1]: line for line in table.stdout.splitlines() if line.startswith("│")}
    assert "(negative)" in rows["neg"]
    assert "(ask)" not in rows["neg"]
    assert "(ask)" in rows["amb"]
