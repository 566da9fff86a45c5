"""Claude Code's captured request replayed by the anthropic router: the real binary's request,
captured at test time, against what `prompt=claude-code` sends to the loopback server."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from routelens.cli import app
from routelens.routers.anthropic_router import AnthropicRouter
from routelens.routers.base import RouteRequest
from routelens.routers.claude_code_capture import capture_claude_code_request
from routelens.routers.claude_code_prompt import (
    BILLING_BLOCK_PREFIX,
    CapturedRequest,
    ClaudeCodePrompt,
    template_from_capture,
)
from routelens.store import open_store
from routelens.suite.models import SkillSet
from tests.fakes.anthropic_stream import skill_names_from_listing
from tests.fakes.api_server import FakeApiServer, RecordedRequest

MODEL = "claude-sonnet-4-5"


def _expected_replay(captured: CapturedRequest, text: str) -> dict[str, Any]:
    """The captured body as routelens should send it: the input in place of the capture's
    prompt, without the ids (`metadata`) and Claude Code's billing attribution block."""
    body = copy.deepcopy(dict(captured.body))
    body.pop("metadata")
    body["system"] = [
        block for block in body["system"] if not block["text"].startswith(BILLING_BLOCK_PREFIX)
    ]
    for message in body["messages"]:
        for block in message["content"] if isinstance(message["content"], list) else []:
            if block.get("text") == captured.prompt_marker:
                block["text"] = text
    return body


def _replay(prompt: ClaudeCodePrompt, request: RouteRequest) -> Any:
    async def route() -> Any:
        router = AnthropicRouter(claude_code_prompt=prompt)
        try:
            return await router.route(request)
        finally:
            await router.aclose()

    return asyncio.run(route())


@pytest.mark.parametrize("model", [None, MODEL])  # Claude Code's default lists in a system turn
def test_the_replayed_request_is_claude_codes_but_for_the_input_and_ids(
    claude_executable: str, claude_api: FakeApiServer, small_skills: SkillSet, model: str | None
) -> None:
    captured = capture_claude_code_request(claude_executable, small_skills, model=model)
    prompt = template_from_capture(captured, small_skills)

    result = _replay(prompt, RouteRequest("C1", "search with jql please", small_skills))

    (sent,) = claude_api.requests
    assert sent.body == _expected_replay(captured, "search with jql please")
    assert sent.query == "beta=true"
    for header in ("anthropic-beta", "anthropic-version"):
        assert sent.headers[header] == captured.headers[header]
    assert skill_names_from_listing(sent.body["messages"])[:3] == ["issue", "lifecycle", "search"]
    assert result.skill == "jira-search"
    assert result.tool_calls == ("Skill(search)",)
    assert result.tokens.cache_write > 0  # the captured cache_control marks are kept
    assert prompt.claude_code_version == captured.claude_code_version
    assert "dataviz" in prompt.bundled_skills


def test_a_replayed_route_to_a_bundled_skill_is_builtin(
    claude_executable: str, claude_api: FakeApiServer, small_skills: SkillSet
) -> None:
    prompt = template_from_capture(
        capture_claude_code_request(claude_executable, small_skills, model=MODEL), small_skills
    )

    result = _replay(prompt, RouteRequest("C1", "draw a dataviz chart", small_skills))

    assert result.skill == "builtin:dataviz"


def _routelens(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_capture_then_run_records_the_template_on_the_run(
    claude_executable: str,
    claude_api: FakeApiServer,
    skills_dir: Path,
    cases_file: Path,
    tmp_path: Path,
) -> None:
    store_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    stored = _routelens(
        "claude-prompt",
        "capture",
        "--skills",
        str(skills_dir),
        "--executable",
        claude_executable,
        "--model",
        MODEL,
        "--store",
        store_url,
        "--json",
    )
    assert stored["added"] is True
    assert stored["model"] == MODEL
    assert "dataviz" in stored["bundled_skills"]

    report = _routelens(
        "run",
        "--skills",
        str(skills_dir),
        "--cases",
        str(cases_file),
        "--router",
        "anthropic",
        "--router-option",
        "prompt=claude-code",
        "--store",
        store_url,
        "--json",
    )

    assert (report["router"], report["model"]) == ("anthropic", MODEL)
    assert report["attempts"] == 4
    assert report["errors"] == 0
    with open_store(store_url) as store:
        (run,) = store.list_runs()
        assert run.settings["router_options"]["template"] == stored["template_hash"]
        assert "claude_code_prompt" not in run.settings["router_options"]
    inputs = [
        json.dumps(request.body["messages"])
        for request in claude_api.requests
        if isinstance(request, RecordedRequest) and request.headers.get("anthropic-beta")
    ]
    assert len(inputs) == 4
    assert all("The following skills are available" in text for text in inputs)


def test_prompt_claude_code_without_a_capture_is_an_input_error(
    skills_dir: Path, cases_file: Path, tmp_path: Path, claude_api: FakeApiServer
) -> None:
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--skills",
            str(skills_dir),
            "--cases",
            str(cases_file),
            "--router",
            "anthropic",
            "--router-option",
            "prompt=claude-code",
            "--store",
            f"sqlite:///{tmp_path / 'empty.sqlite'}",
        ],
    )
    assert result.exit_code == 2
    assert "no captured Claude Code prompt" in result.output
    assert "routelens claude-prompt capture" in result.output
    assert claude_api.requests == []
