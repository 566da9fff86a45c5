"""`routelens runs` (filters, delete, prune), `show latest`, run-id prefixes and completion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routelens.cli import app
from routelens.store import RunStatus, open_store
from tests.store.conftest import build_attempt, build_run

runner = CliRunner()
NOW = datetime.now(UTC)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    runs = [
        build_run(
            "20260101-000000-aaaaaa",
            started_at=NOW - timedelta(days=120),
            status=RunStatus.COMPLETED,
            router="local",
            labels={"team": "qa"},
        ),
        build_run(
            "20260301-000000-bbbbbb",
            started_at=NOW - timedelta(days=10),
            status=RunStatus.INTERRUPTED,
            router="anthropic",
            labels={"team": "qa"},
        ),
        build_run(
            "20260302-000000-bbbccc",
            started_at=NOW - timedelta(days=1),
            status=RunStatus.COMPLETED,
            router="local",
            labels={"team": "ops"},
        ),
    ]
    with open_store(url) as store:
        for run in runs:
            store.create_run(run, [], [])
            store.record_attempts(
                [
                    build_attempt(f"c{i}", 0, run_id=run.run_id, started_at=run.started_at)
                    for i in range(3)
                ]
            )
    return url


def _ids(*argv: str) -> list[str]:
    result = runner.invoke(app, [*argv, "--json"])
    assert result.exit_code == 0, result.output
    return [run["run_id"] for run in json.loads(result.stdout)["runs"]]


def test_runs_filter_by_label_status_router_and_limit(store_url: str) -> None:
    everything = _ids("runs", "--store", store_url)
    assert everything == [
        "20260302-000000-bbbccc",
        "20260301-000000-bbbbbb",
        "20260101-000000-aaaaaa",
    ]
    assert _ids("runs", "--store", store_url, "--label", "team=qa") == everything[1:]
    assert _ids("runs", "--store", store_url, "--status", "interrupted") == [everything[1]]
    assert _ids("runs", "--store", store_url, "--router", "local") == [everything[0], everything[2]]
    assert _ids("runs", "--store", store_url, "--limit", "1") == everything[:1]


def test_show_takes_latest_and_unique_prefixes(store_url: str) -> None:
    latest = runner.invoke(app, ["show", "latest", "--store", store_url, "--json"])
    assert json.loads(latest.stdout)["run_id"] == "20260302-000000-bbbccc"
    prefix = runner.invoke(app, ["show", "20260101", "--store", store_url, "--json"])
    assert json.loads(prefix.stdout)["run_id"] == "20260101-000000-aaaaaa"
    ambiguous = runner.invoke(app, ["show", "202603", "--store", store_url])
    assert ambiguous.exit_code == 2
    assert "'202603' names more than one run (20260301-000000-bbbbbb, 20260302" in (
        ambiguous.stderr
    )
    missing = runner.invoke(app, ["show", "1999", "--store", store_url])
    assert missing.exit_code == 2
    assert "no run '1999'" in missing.stderr
    # LIKE wildcards in a prefix are literal characters, not patterns
    assert runner.invoke(app, ["show", "2026%", "--store", store_url]).exit_code == 2


def test_runs_delete_removes_the_run_and_its_attempts(store_url: str) -> None:
    result = runner.invoke(app, ["runs", "delete", "20260301", "--store", store_url, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "deleted": ["20260301-000000-bbbbbb"],
        "runs": 1,
        "attempts": 3,
    }
    with open_store(store_url) as store:
        assert store.get_run("20260301-000000-bbbbbb") is None
        assert store.attempts("20260301-000000-bbbbbb") == []
        assert store.run_cases("20260301-000000-bbbbbb") == []
        assert len(store.attempts("20260302-000000-bbbccc")) == 3  # others untouched


def test_runs_prune_deletes_only_older_runs_and_dry_run_deletes_nothing(store_url: str) -> None:
    dry = runner.invoke(
        app, ["runs", "prune", "--older-than", "90d", "--dry-run", "--store", store_url]
    )
    assert dry.exit_code == 0, dry.output
    assert "would delete 20260101-000000-aaaaaa" in dry.stdout
    assert len(_ids("runs", "--store", store_url)) == 3
    result = runner.invoke(
        app, ["runs", "prune", "--older-than", "5d", "--label", "team=qa", "--store", store_url]
    )
    assert result.exit_code == 0, result.output
    assert "deleted 2 runs and 6 attempts" in result.stdout
    assert _ids("runs", "--store", store_url) == ["20260302-000000-bbbccc"]
    bad = runner.invoke(app, ["runs", "prune", "--older-than", "90", "--store", store_url])
    assert bad.exit_code == 2
    assert "--older-than: '90' is not a duration like 12h, 7d or 4w" in bad.stderr


def test_shell_completion_completes_commands() -> None:
    script = runner.invoke(app, ["completion", "bash"])
    assert script.exit_code == 0
    assert "_ROUTELENS_COMPLETE" in script.stdout
    env = os.environ | {
        "_ROUTELENS_COMPLETE": "complete_bash",
        "COMP_WORDS": "routelens ru",
        "COMP_CWORD": "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "routelens.cli"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert set(done.stdout.split()) >= {"run", "runs"}
    bad = runner.invoke(app, ["completion", "tcsh"])
    assert bad.exit_code == 2
