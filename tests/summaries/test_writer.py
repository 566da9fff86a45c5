"""The claude-code writer: `claude -p` with no skills installed, its text answer is the summary."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from routelens.summaries.service import SummaryService, SummarySettings
from routelens.summaries.writer import SUMMARY_INSTRUCTIONS, RouterChoice
from tests.summaries.sample import sample_facts

FAKE_CLAUDE = Path(__file__).resolve().parents[1] / "fakes" / "fake_claude.py"


@pytest.fixture
def fake_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the fake `claude` records its calls; it answers in plain text (no tool call)."""
    assert os.access(FAKE_CLAUDE, os.X_OK)
    for variable in ("FAKE_CLAUDE_SCRIPT", "FAKE_CLAUDE_SKILL", "FAKE_CLAUDE_SLEEP_SCALE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("FAKE_CLAUDE_SCENARIO", "no_skill")
    log = tmp_path / "fake-claude.jsonl"
    monkeypatch.setenv("FAKE_CLAUDE_LOG", str(log))
    return log


def test_claude_code_writes_the_summary_from_the_prompt(fake_log: Path, tmp_path: Path) -> None:
    settings = SummarySettings(
        router=RouterChoice.CLAUDE_CODE,
        options={"executable": str(FAKE_CLAUDE)},
        cache_dir=tmp_path / "cache",
    )
    summary = SummaryService(settings).write(sample_facts())
    assert summary.source == "llm"
    assert summary.text == "A Jira epic groups related stories and tasks under one larger goal."
    [call] = [json.loads(line) for line in fake_log.read_text().splitlines()]
    assert call["prompt"].startswith(SUMMARY_INSTRUCTIONS)
    assert '"accuracy": "87.3%"' in call["prompt"]
    assert call["skills"] == []


def test_a_missing_claude_is_the_offline_text(tmp_path: Path) -> None:
    settings = SummarySettings(
        router=RouterChoice.CLAUDE_CODE,
        options={"executable": str(tmp_path / "no-claude")},
        cache_dir=tmp_path / "cache",
    )
    summary = SummaryService(settings).write(sample_facts())
    assert summary.source == "offline"
    assert "not found on PATH" in (summary.reason or "")
