"""`routelens run --router anthropic|openai` end to end against loopback API servers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routelens.cli import app
from routelens.routers.base import RetryEvent
from routelens.store import Verdict, open_store
from tests.fakes.api_server import (
    FakeApiServer,
    anthropic_overloaded_error,
    anthropic_rate_limit_error,
    openai_tool_call,
)

runner = CliRunner()


def test_anthropic_run_records_retries_one_by_one_and_exports_them(
    server: FakeApiServer,
    skills_dir: Path,
    cases_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
    server.enqueue(anthropic_rate_limit_error(retry_after=1), anthropic_overloaded_error())
    store = tmp_path / "s.sqlite"
    result = runner.invoke(
        app,
        [
            "run",
            "--skills",
            str(skills_dir),
            "--cases",
            str(cases_file),
            "--router",
            "anthropic",
            "--model",
            "claude-sonnet-4-6",
            "--concurrency",
            "1",
            "--store",
            str(store),
            "--json",
            "--max-retries",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["attempts"] == 4
    assert report["errors"] == 0
    assert report["retries"] == 2
    assert report["tokens"]["cache_write"] > 0
    assert report["tokens"]["cache_read"] > 0
    assert report["cost_usd"] > 0
    with open_store(store) as opened:
        attempts = opened.attempts(report["run_id"])
    (retried,) = [a for a in attempts if a.retries]
    assert retried.retry_log[0] == RetryEvent("rate_limit_error", 429, 1.0)
    assert retried.retry_log[1].error_type == "overloaded_error"
    assert retried.retry_log[1].http_status == 529
    assert retried.retry_wait_s == pytest.approx(sum(e.wait_s for e in retried.retry_log))
    assert all(a.verdict is not Verdict.ERROR for a in attempts)

    exported = tmp_path / "run.jsonl"
    runner.invoke(app, ["export", report["run_id"], "--out", str(exported), "--store", str(store)])
    lines = [json.loads(line) for line in exported.read_text().splitlines()]
    logged = [line["retry_log"] for line in lines if "kind" not in line and line["retries"]]
    assert logged[0][0] == {"error_type": "rate_limit_error", "http_status": 429, "wait_s": 1.0}
    other = tmp_path / "other.sqlite"
    runner.invoke(app, ["import", str(exported), "--store", str(other)])
    again = tmp_path / "again.jsonl"
    runner.invoke(app, ["export", report["run_id"], "--out", str(again), "--store", str(other)])
    assert again.read_bytes() == exported.read_bytes()


def test_openai_run_against_a_compatible_server(
    server: FakeApiServer, skills_dir: Path, cases_file: Path, tmp_path: Path
) -> None:
    server.script(
        lambda request: openai_tool_call("jira-issue", prompt_tokens=800, cached_tokens=512)
    )
    result = runner.invoke(
        app,
        [
            "run",
            "--skills",
            str(skills_dir),
            "--cases",
            str(cases_file),
            "--router",
            "openai",
            "--model",
            "gpt-4o-mini",
            "--router-option",
            f"base_url={server.openai_base_url}",
            "--store",
            str(tmp_path / "s.sqlite"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["by_expected_skill"]["jira-issue"]["passed"] == 1
    assert report["tokens"]["cache_read"] == 4 * 512
    assert report["tokens"]["input"] == 4 * (800 - 512)
