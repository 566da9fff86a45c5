"""`routelens confusion`: SQL aggregation on a planted store (SQLite, PostgreSQL), and the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routelens.analytics.window import AttemptFilter
from routelens.cli import app
from routelens.commands.confusion import build_confusion_report
from routelens.store import RunCaseRecord, Verdict, open_store
from tests.factories import make_attempt, make_run
from tests.store.conftest import backend, store_url, store_url_factory

runner = CliRunner()
__all__ = ["backend", "store_url", "store_url_factory"]  # the store fixtures, both backends
NOW = datetime.now(UTC).replace(microsecond=0)


def _case(run_id: str, options: list[str]) -> RunCaseRecord:
    definition = {"id": "D1", "category": "disambiguation", "disambiguation_options": options}
    return RunCaseRecord(run_id, "D1", "disambiguation", 0, definition)


def plant(store_url: str) -> None:
    """run-1 (team=a, older) and run-2 (team=b, newer), with a known matrix between them."""
    with open_store(store_url) as store:
        for run_id, team, age in (("run-1", "a", 3), ("run-2", "b", 1)):
            options = ["deploy", "review"] if run_id == "run-1" else ["deploy", "review", "ship"]
            run = make_run(run_id, started_at=NOW - timedelta(days=age), labels={"team": team})
            store.create_run(run, [], [_case(run_id, options)])
        at = {"started_at": NOW - timedelta(hours=1), "finished_at": NOW - timedelta(hours=1)}
        plan = [
            # run, expected, actual, asked, verdict, how many
            ("run-1", "deploy", "deploy", False, Verdict.PASS, 4),
            ("run-1", "deploy", "review", False, Verdict.FAIL, 2),
            ("run-1", "review", "review", False, Verdict.PASS, 3),
            ("run-1", "deploy", None, False, Verdict.ERROR, 5),  # errors are not counted
            ("run-2", "review", "deploy", False, Verdict.FAIL, 1),
            ("run-2", None, None, True, Verdict.PASS, 2),
        ]
        attempts = []
        for run_id, expected, actual, asked, verdict, count in plan:
            for _ in range(count):
                attempts.append(
                    make_attempt(
                        f"c{len(attempts)}",
                        verdict,
                        expected=expected,
                        actual=actual,
                        asked_clarification=asked,
                        run_id=run_id,
                        **at,
                    )
                )
        for repeat, (run_id, asked, score) in enumerate(
            [("run-1", True, 1.0), ("run-1", False, None), ("run-2", True, 0.5)]
        ):
            attempts.append(
                make_attempt(
                    "D1",
                    Verdict.PASS if asked else Verdict.FAIL,
                    expected=None,
                    actual=None if asked else "deploy",
                    asked_clarification=asked,
                    category="disambiguation",
                    options_score=score,
                    run_id=run_id,
                    repeat_index=repeat,
                    **at,
                )
            )
        store.record_attempts(attempts)


def test_sql_aggregation_builds_the_planted_matrix(store_url: str) -> None:
    plant(store_url)
    with open_store(store_url) as store:
        report = build_confusion_report(store, AttemptFilter())
    matrix = report.matrix
    assert matrix.labels == ("deploy", "review", "(ask)", "clarified", "none")
    assert matrix.counts[0] == (4, 2, 0, 0, 0)
    assert matrix.counts[1] == (1, 3, 0, 0, 0)
    assert matrix.counts[2] == (1, 0, 0, 4, 0)  # two plain cases and two D1 attempts asked
    assert matrix.total == 15
    view = report.disambiguation
    assert view.attempts == 3
    assert view.clarification_rate == pytest.approx(2 / 3)
    assert view.mean_options_score == pytest.approx(0.75)
    assert view.cases[0].options == ("deploy", "review", "ship")  # from the newest run


def test_confusion_json_filters_by_run_and_label(store_url: str) -> None:
    plant(store_url)
    result = runner.invoke(app, ["confusion", "--store", store_url, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["top_confusions"][0] == {"expected": "deploy", "actual": "review", "count": 2}
    deploy = next(s for s in data["per_skill"] if s["skill"] == "deploy")
    assert deploy == {
        "skill": "deploy",
        "precision": pytest.approx(4 / 6),
        "recall": pytest.approx(4 / 6),
        "f1": pytest.approx(4 / 6),
        "support": 6,
    }
    by_run = json.loads(
        runner.invoke(app, ["confusion", "--store", store_url, "--json", "--run", "run-2"]).stdout
    )
    assert sum(map(sum, by_run["matrix"])) == 4
    assert by_run["disambiguation"]["cases"][0]["options"] == ["deploy", "review", "ship"]
    by_label = runner.invoke(
        app, ["confusion", "--store", store_url, "--json", "--label", "team=a", "--window", "7d"]
    )
    assert by_label.exit_code == 0, by_label.output
    assert sum(map(sum, json.loads(by_label.stdout)["matrix"])) == 11


def test_confusion_table_by_default(store_url: str) -> None:
    plant(store_url)
    result = runner.invoke(app, ["confusion", "--store", store_url])
    assert result.exit_code == 0, result.output
    assert "Top confusions" in result.stdout
    assert "deploy → review" in result.stdout
    assert "Disambiguation: 3 attempts" in result.stdout


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--window", "soon"], "--window"),
        (["--label", "team"], "--label"),
        (["--run", "nope"], "no run 'nope'"),
    ],
)
def test_bad_input_exits_2(tmp_path: Path, flags: list[str], message: str) -> None:
    store_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    open_store(store_url).close()
    result = runner.invoke(app, ["confusion", "--store", store_url, *flags])
    assert result.exit_code == 2
    assert result.stderr.startswith("routelens: error:")
    assert message in result.stderr


def test_help_is_the_docstring() -> None:
    result = runner.invoke(app, ["confusion", "--help"])
    assert result.exit_code == 0
    assert "expected" in result.stdout


LONG = ["jira-issue-management-and-triage", "jira-search-jql-and-saved-filters", "jira-lifecycle"]


def plant_long_names(store_url: str) -> None:
    with open_store(store_url) as store:
        store.create_run(make_run("run-1", started_at=NOW - timedelta(days=1)), [], [])
        at = {"started_at": NOW - timedelta(hours=1), "finished_at": NOW - timedelta(hours=1)}
        store.record_attempts(
            [
                make_attempt(
                    f"c{index}",
                    Verdict.FAIL if index % 2 else Verdict.PASS,
                    expected=LONG[index % 3],
                    actual=LONG[(index + index % 2) % 3],
                    **at,
                )
                for index in range(9)
            ]
        )


def test_a_narrow_pipe_numbers_the_columns_and_names_every_skill_in_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'long.sqlite'}"
    plant_long_names(url)
    monkeypatch.setenv("COLUMNS", "80")
    result = runner.invoke(app, ["confusion", "--store", url])
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    assert "Columns:" in result.stdout
    for index, name in enumerate(sorted(LONG), start=1):
        assert f"  {index}  {name}" in result.stdout
        assert f"{index} {name}" in result.stdout  # the row, numbered and in full
    monkeypatch.setenv("COLUMNS", "400")
    wide = runner.invoke(app, ["confusion", "--store", url])
    assert "Columns:" not in wide.stdout
    assert all(name in wide.stdout for name in LONG)
