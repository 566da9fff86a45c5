"""LLM proposers through the routers' SDK clients, against the loopback Messages API."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routelens.cli import app
from routelens.experiments.storage import list_experiments
from routelens.optimize.llm import read_answer
from routelens.store.sqlstore import open_store
from tests.fakes.api_server import FakeApiServer, anthropic_text, openai_text

runner = CliRunner()
KEY = "sk-ant-proposer-sentinel-7c6b5a"
SKILL = "jira-worklog"
VALID = "Log work on an issue: record time spent, fill in a timesheet or book hours."
FAKE_CLAUDE = Path(__file__).resolve().parents[1] / "fakes" / "fake_claude.py"


def answer(name: str, description: str) -> str:
    return json.dumps({"name": name, "description": description})


def optimize(skills: Path, cases: Path, store: Path, *arguments: str) -> tuple[int, str, str]:
    result = runner.invoke(
        app,
        [
            "optimize",
            "--skills",
            str(skills),
            "--cases",
            str(cases),
            "--skill",
            SKILL,
            "--store",
            f"sqlite:///{store}",
            "--seed",
            "11",
            *arguments,
        ],
        env={"ANTHROPIC_API_KEY": "", "OPENAI_API_KEY": ""},
    )
    return result.exit_code, result.stdout, result.stderr


def test_invalid_proposals_are_retried_once_then_skipped_never_run_nor_written(
    server: FakeApiServer, timesheet_skills: Path, timesheet_cases: Path, tmp_path: Path
) -> None:
    server.enqueue(
        anthropic_text(answer(SKILL, "Log <b>work</b> and timesheets.")),  # XML tag
        anthropic_text(answer("worklog-helper", VALID)),  # a changed name: skipped
        anthropic_text(answer(SKILL, "Timesheets. " * 100)),  # 1199 characters once stripped
        anthropic_text(f"Here it is:\n```json\n{answer(SKILL, VALID)}\n```"),
    )
    store = tmp_path / "s.sqlite"
    out = tmp_path / "out"
    code, stdout, stderr = optimize(
        timesheet_skills,
        timesheet_cases,
        store,
        "--proposer",
        "anthropic",
        "--proposer-option",
        f"base_url={server.base_url}",
        "--proposer-option",
        f"api_key={KEY}",
        "--iterations",
        "2",
        "--out",
        str(out),
        "--json",
    )
    assert code == 0, stderr
    report = json.loads(stdout)
    first, second = report["iterations"]
    assert first["status"] == "skipped"
    assert first["description"] is None
    assert [r["problems"] for r in first["refused"]] == [
        ["the description contains an XML tag, which is not allowed"],
        ["it changes the skill's name ('worklog-helper' instead of 'jira-worklog')"],
    ]
    assert second["status"] == "evaluated"
    assert second["description"] == VALID
    assert report["best"]["description"] == VALID
    assert report["recommended"] is True, report["reason"]

    messages = [r for r in server.requests if r.path == "/v1/messages"]
    assert len(messages) == 4
    system = messages[0].body["system"]
    assert system[0]["cache_control"] == {"type": "ephemeral"}
    assert "jira-search: Find issues with JQL queries and saved filters." in system[0]["text"]
    prompt = messages[0].body["messages"][0]["content"]
    failures = [json.loads(line) for line in prompt.splitlines() if line.startswith("{")]
    assert failures
    assert all(f["expected"] == SKILL and "timesheet" in f["request"] for f in failures)
    assert {f["model chose"] for f in failures} == {"clarified"}
    assert "Log work on an issue: record the time spent on a ticket." in prompt
    assert "refused" not in prompt
    retry = messages[1].body["messages"][0]["content"]
    assert "Your previous answer was refused: the description contains an XML tag" in retry
    assert "1199 characters" in messages[3].body["messages"][0]["content"]

    with open_store(f"sqlite:///{store}", access="read") as opened:
        overrides = [run.settings["description_overrides"] for run in opened.list_runs()]
        experiments = list_experiments(opened)
    tried = {text for o in overrides for text in o.values()}
    assert tried == {VALID}  # nothing refused was ever run
    [experiment] = experiments
    assert experiment.treatment.descriptions == {SKILL: VALID}
    assert experiment.summary is not None
    assert experiment.summary["optimize"]["best"]["description"] == VALID
    written = (out / "worklog" / "SKILL.md").read_text()
    assert f"description: '{VALID}'" in written or f"description: {VALID}" in written
    assert "<b>" not in written
    assert (timesheet_skills / "worklog" / "SKILL.md").read_text().count("timesheet") == 0
    assert KEY not in store.read_bytes().decode("utf-8", "replace")
    assert KEY not in stdout + stderr


def test_a_failed_model_call_is_a_refused_proposal(
    server: FakeApiServer, timesheet_skills: Path, timesheet_cases: Path, tmp_path: Path
) -> None:
    from tests.fakes.api_server import anthropic_invalid_request_error

    server.enqueue(
        anthropic_invalid_request_error("prompt is too long"),
        anthropic_invalid_request_error("prompt is too long"),
    )
    code, stdout, stderr = optimize(
        timesheet_skills,
        timesheet_cases,
        tmp_path / "s.sqlite",
        "--proposer",
        "anthropic",
        "--proposer-option",
        f"base_url={server.base_url}",
        "--proposer-option",
        f"api_key={KEY}",
        "--iterations",
        "1",
        "--json",
    )
    assert code == 0, stderr
    report = json.loads(stdout)
    [iteration] = report["iterations"]
    assert iteration["status"] == "skipped"
    assert "the model call failed" in iteration["refused"][0]["problems"][0]
    assert report["best"]["description"] == report["original"]["description"]


def test_the_proposer_cost_counts_against_the_budget(
    server: FakeApiServer, timesheet_skills: Path, timesheet_cases: Path, tmp_path: Path
) -> None:
    # 400k input tokens of a Sonnet model cost more than the whole budget of $1
    server.enqueue(anthropic_text(answer(SKILL, VALID), input_tokens=400_000))
    code, _, stderr = optimize(
        timesheet_skills,
        timesheet_cases,
        tmp_path / "s.sqlite",
        "--proposer",
        "anthropic",
        "--proposer-option",
        f"base_url={server.base_url}",
        "--proposer-option",
        f"api_key={KEY}",
        "--iterations",
        "3",
        "--max-cost",
        "1",
    )
    assert code == 3, stderr
    assert "stopped by budget" in stderr
    assert len([r for r in server.requests if r.path == "/v1/messages"]) == 1


def test_the_openai_proposer_asks_chat_completions(
    server: FakeApiServer, timesheet_skills: Path, timesheet_cases: Path, tmp_path: Path
) -> None:
    server.enqueue(openai_text(answer(SKILL, VALID)))
    code, stdout, stderr = optimize(
        timesheet_skills,
        timesheet_cases,
        tmp_path / "s.sqlite",
        "--proposer",
        "openai",
        "--proposer-model",
        "gpt-test",
        "--proposer-option",
        f"base_url={server.openai_base_url}",
        "--iterations",
        "1",
        "--json",
    )
    assert code == 0, stderr
    assert json.loads(stdout)["best"]["description"] == VALID
    [request] = [r for r in server.requests if r.path == "/v1/chat/completions"]
    assert request.body["model"] == "gpt-test"
    assert request.body["messages"][0]["role"] == "system"
    assert "Answer with one JSON object" in request.body["messages"][0]["content"]


def test_the_claude_code_proposer_takes_the_text_answer(
    timesheet_skills: Path,
    timesheet_cases: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert os.access(FAKE_CLAUDE, os.X_OK)
    stream = tmp_path / "proposal.jsonl"
    lines = []
    for line in (FAKE_CLAUDE.parent / "claude_streams" / "no_skill.jsonl").read_text().splitlines():
        event = json.loads(line)
        text = answer(SKILL, VALID)
        if event.get("type") == "assistant":
            event["message"]["content"][0]["text"] = text
        elif event.get("type") == "result":
            event["result"] = text
        elif event.get("event", {}).get("type") == "content_block_delta":
            first = event["event"]["delta"]["text"].startswith("A Jira")
            event["event"]["delta"]["text"] = text if first else ""
        lines.append(json.dumps(event))
    stream.write_text("\n".join(lines) + "\n")
    log = tmp_path / "claude.jsonl"
    monkeypatch.setenv("FAKE_CLAUDE_SCRIPT", str(stream))
    monkeypatch.setenv("FAKE_CLAUDE_LOG", str(log))
    code, stdout, stderr = optimize(
        timesheet_skills,
        timesheet_cases,
        tmp_path / "s.sqlite",
        "--proposer",
        "claude-code",
        "--proposer-option",
        f"executable={FAKE_CLAUDE}",
        "--iterations",
        "1",
        "--json",
    )
    assert code == 0, stderr
    assert json.loads(stdout)["best"]["description"] == VALID
    [call] = [json.loads(line) for line in log.read_text().splitlines()]
    assert call["skills"] == []
    assert "Skill: jira-worklog" in call["prompt"]


def test_an_answer_is_read_from_json_even_inside_a_fence() -> None:
    assert read_answer('```json\n{"name": "a", "description": "b"}\n```').description == "b"
    unreadable = read_answer("I would write: Log work.")
    assert unreadable.unreadable is not None
    assert read_answer('{"name": "a"}').unreadable is not None
