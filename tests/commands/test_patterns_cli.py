"""`routelens patterns`: the command over a real store, as a table and as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routelens.cli import COMMANDS, app
from routelens.store import Verdict, open_store
from tests.analytics.test_patterns import synthetic_failures
from tests.factories import make_attempt, make_run

runner = CliRunner()
NOW = datetime.now(UTC).replace(microsecond=0)


def plant_failures(store_url: str, *, started: datetime = NOW) -> None:
    """One run whose cases fail on the synthetic topics' inputs (and one case always passes)."""
    rows, _ = synthetic_failures(0)
    with open_store(store_url) as store:
        run = make_run("run-patterns", started_at=started, labels={"team": "qa"})
        store.create_run(run, [], [])
        attempts = []
        for number, row in enumerate(rows):
            verdicts = [Verdict.FAIL] * row.failures + [Verdict.PASS] * row.passes
            attempts += [
                make_attempt(
                    f"c{number}",
                    verdict,
                    run_id="run-patterns",
                    input=row.input,
                    repeat_index=repeat,
                    started_at=started,
                    finished_at=started,
                )
                for repeat, verdict in enumerate(verdicts)
            ]
        attempts.append(
            make_attempt(
                "ok", Verdict.PASS, run_id="run-patterns", input="never fails", started_at=started
            )
        )
        store.record_attempts(attempts)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite'}"


def test_json_has_the_clusters_of_the_window(store_url: str) -> None:
    plant_failures(store_url)
    result = runner.invoke(app, ["patterns", "--store", store_url, "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    rows, _ = synthetic_failures(0)
    assert document["window"] == "7d"
    assert document["run_id"] is None
    assert document["failed_inputs"] == document["failed_inputs_total"] == len(rows)
    assert document["truncated"] is False
    assert document["method"] == "agglomerative"
    assert len(document["clusters"]) == 6  # five topics, one split in two (see test_patterns)
    assert sum(c["inputs"] for c in document["clusters"]) == len(rows)
    assert sum(c["failures"] for c in document["clusters"]) == sum(r.failures for r in rows)
    assert "never fails" not in result.stdout


def test_run_label_skill_and_limit_filters(store_url: str) -> None:
    plant_failures(store_url, started=NOW - timedelta(days=30))
    base = ["patterns", "--store", store_url, "--json"]
    in_window = json.loads(runner.invoke(app, base).stdout)
    assert in_window["failed_inputs"] == 0
    assert in_window["clusters"] == []
    by_run = json.loads(runner.invoke(app, [*base, "--run", "run-pat"]).stdout)
    assert by_run["run_id"] == "run-patterns"
    assert by_run["window"] is None
    assert by_run["failed_inputs"] == 70
    other_team = runner.invoke(app, [*base, "--run", "latest", "--label", "team=dev"])
    assert json.loads(other_team.stdout)["failed_inputs"] == 0
    other_skill = runner.invoke(app, [*base, "--run", "latest", "--skill", "nothing"])
    assert json.loads(other_skill.stdout)["failed_inputs"] == 0
    capped = json.loads(runner.invoke(app, [*base, "--window", "60d", "--limit", "10"]).stdout)
    assert capped["failed_inputs"] == 10
    assert capped["failed_inputs_total"] == 70
    assert capped["truncated"] is True


def test_table_shows_patterns_terms_and_examples(store_url: str) -> None:
    plant_failures(store_url)
    result = runner.invoke(app, ["patterns", "--store", store_url], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Failed-input patterns" in result.stdout
    assert "timesheet / worklog" in result.stdout
    assert "Terms of failed inputs" in result.stdout


def test_empty_store_window_says_so(store_url: str) -> None:
    open_store(store_url).close()
    result = runner.invoke(app, ["patterns", "--store", store_url])
    assert result.exit_code == 0, result.output
    assert "No failed attempts match." in result.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--min-cluster-size", "1"], "1 is not at least 2"),
        (["--window", "soon"], "--window"),
        (["--run", "nope"], "nope"),
        (["--label", "team"], "not key=value"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    store_url: str, arguments: list[str], message: str
) -> None:
    plant_failures(store_url)
    result = runner.invoke(app, ["patterns", "--store", store_url, *arguments])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.startswith("routelens: error: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_summary_is_the_first_line_of_the_help() -> None:
    for name in ("patterns", "summarize"):
        [spec] = [command for command in COMMANDS if command.name == name]
        assert spec.load().help is not None
        assert spec.load().help.splitlines()[0] == spec.summary


def test_missing_extra_is_a_one_line_pip_hint(store_url: str, tmp_path: Path) -> None:
    plant_failures(store_url)
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sklearn.py").write_text("raise ImportError('no scikit-learn here')\n")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from routelens.cli import main; "
        "sys.argv = ['routelens', 'patterns', '--store', sys.argv[2]]; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(blocker), store_url], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "routelens: error: routelens patterns: patterns: failed-input patterns need "
        "scikit-learn: pip install -e '.[patterns]' (in a clone of routelens)"
    ]
