"""`routelens summarize`: offline, through the loopback API, without a key; the key never shows."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routelens.cli import app
from routelens.store import open_store
from tests.fakes.api_server import FakeApiServer, anthropic_text
from tests.summaries.history import NOW, F, P, record_run

runner = CliRunner()
KEY = "sk-ant-cli-sentinel-9f8e7d6c5b4a"


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """A store with one run this week: 3 of 4 attempts pass."""
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with open_store(url) as store:
        record_run(store, "run-1", NOW - timedelta(hours=2), "h-1", {"s1": [P, F], "a1": [P, P]})
    return url


def summarize(store_url: str, tmp_path: Path, *arguments: str, **env: str) -> dict[str, object]:
    result = runner.invoke(
        app,
        [
            "summarize",
            "--store",
            store_url,
            "--cache-dir",
            str(tmp_path / "c"),
            "--json",
            *arguments,
        ],
        env={"ANTHROPIC_API_KEY": "", **env},
    )
    assert result.exit_code == 0, result.output
    assert KEY not in result.stdout
    assert KEY not in result.stderr
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_offline_states_the_facts(store_url: str, tmp_path: Path) -> None:
    document = summarize(store_url, tmp_path, "--offline")
    assert document["source"] == "offline"
    assert document["reason"] == "offline requested"
    assert str(document["text"]).startswith("In the last 7d (")
    assert "routing accuracy was 75.0% (3 of 4 decided attempts)" in str(document["text"])
    facts = document["facts"]
    assert isinstance(facts, dict)
    assert facts["accuracy"]["passed"] == 3
    assert set(facts) == {
        "window",
        "start",
        "end",
        "accuracy",
        "worst_skills",
        "flaky_cases",
        "new_flaky",
        "changes",
        "cost",
    }


def test_the_model_writes_it_and_the_key_stays_out(
    store_url: str, tmp_path: Path, server: FakeApiServer
) -> None:
    text = "Accuracy was 75.0% over the last 7d, on 4 decided attempts."
    server.enqueue(anthropic_text(text))
    arguments = ("--router-option", f"base_url={server.base_url}", "--model", "claude-haiku-4-5")
    document = summarize(store_url, tmp_path, *arguments, ANTHROPIC_API_KEY=KEY)
    assert (document["source"], document["text"], document["writer"]) == (
        "llm",
        text,
        "anthropic:claude-haiku-4-5",
    )
    assert len(server.requests) == 1
    again = summarize(store_url, tmp_path, *arguments, ANTHROPIC_API_KEY=KEY)
    assert again["text"] == text
    assert len(server.requests) == 1
    for cached in (tmp_path / "c").iterdir():
        assert KEY not in cached.read_text()


def test_without_a_key_the_offline_text_and_one_line_on_stderr(
    store_url: str, tmp_path: Path
) -> None:
    result = runner.invoke(
        app,
        ["summarize", "--store", store_url, "--cache-dir", str(tmp_path / "c")],
        env={"ANTHROPIC_API_KEY": ""},
    )
    assert result.exit_code == 0, result.output
    assert "routing accuracy was 75.0%" in result.stdout
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("routelens: offline summary: no model to ask: no API key")


def test_bad_window_is_exit_2(store_url: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["summarize", "--store", store_url, "--window", "soon"])
    assert result.exit_code == 2
    assert result.stderr.startswith("routelens: error: --window")
