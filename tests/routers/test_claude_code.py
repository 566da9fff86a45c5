"""The claude-code router against a fake `claude` that replays recorded stream-json events."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from routelens.cli import app
from routelens.errors import InputError
from routelens.routers.base import RouteRequest, RouterError, RouteResult, TokenUsage
from routelens.routers.claude_code import (
    EMPTY_INPUT_RESPONSE,
    HEADLESS_ARGS,
    ClaudeCodeRouter,
    ClaudeCodeSettings,
)
from routelens.routers.pricing import load_price_table
from routelens.routers.registry import RouterContext, make_router
from routelens.suite.models import CommandPattern, ContextMessage, SkillSet
from tests.fakes.fake_claude import DEFAULT_MODEL

FAKE_CLAUDE = Path(__file__).resolve().parents[1] / "fakes" / "fake_claude.py"
FAKE_STREAMS = FAKE_CLAUDE.parent / "claude_streams"
FAKE_VARIABLES = (
    "FAKE_CLAUDE_SCENARIO",
    "FAKE_CLAUDE_SCRIPT",
    "FAKE_CLAUDE_SKILL",
    "FAKE_CLAUDE_SLEEP_SCALE",
    "FAKE_CLAUDE_IGNORE_TERM",
)
# every scenario that routes sleeps 30 s after its first tool call; an early stop beats that
EARLY = 10.0
API_KEY = "sk-ant-api03-test-0123456789abcdef"


@pytest.fixture
def fake_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the fake records each call; the FAKE_CLAUDE_* settings start unset."""
    assert os.access(FAKE_CLAUDE, os.X_OK), f"chmod +x {FAKE_CLAUDE}"
    for variable in FAKE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    log = tmp_path / "fake-claude.jsonl"
    monkeypatch.setenv("FAKE_CLAUDE_LOG", str(log))
    return log


def _router(model: str | None = None, **settings: Any) -> ClaudeCodeRouter:
    return ClaudeCodeRouter(ClaudeCodeSettings(executable=str(FAKE_CLAUDE), **settings), model)


def _route(router: ClaudeCodeRouter, request: RouteRequest) -> tuple[RouteResult, float]:
    started = time.perf_counter()
    result = asyncio.run(router.route(request))
    return result, time.perf_counter() - started


def _fail(router: ClaudeCodeRouter, request: RouteRequest) -> tuple[RouterError, float]:
    started = time.perf_counter()
    with pytest.raises(RouterError) as raised:
        asyncio.run(router.route(request))
    return raised.value, time.perf_counter() - started


def _calls(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _request(skills: SkillSet, text: str = "create a bug for the login crash") -> RouteRequest:
    return RouteRequest("C1", text, skills)


def test_a_skill_call_is_the_route_and_stops_claude_at_once(
    small_skills: SkillSet, fake_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_CLAUDE_SKILL", "jira-search")
    result, elapsed = _route(_router(), _request(small_skills))
    assert elapsed < EARLY
    assert result.skill == "jira-search"
    assert result.tool_calls == ("Skill(jira-search)",)
    assert not result.asked_clarification
    assert result.response_text == "I'll use the jira-search skill for this."
    # decided on the streamed input, before message_delta's usage: only message_start's counts
    assert result.tokens == TokenUsage(input=3, output=1, cache_read=15006, cache_write=2093)
    # stopped before the result event: the streamed usage at the model's list price
    expected = load_price_table().cost_usd(DEFAULT_MODEL, result.tokens)
    assert expected is not None
    assert expected > 0.0
    assert result.cost_usd == pytest.approx(expected)
    assert result.response_model == DEFAULT_MODEL
    assert 0.0 < result.latency_s <= elapsed
    (call,) = _calls(fake_log)
    assert _gone(call["pid"])
    assert not Path(call["cwd"]).exists()


def test_without_early_stop_tokens_and_cost_come_from_the_result_event(
    small_skills: SkillSet, fake_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_CLAUDE_SLEEP_SCALE", "0")
    result, _ = _route(_router(stop_early=False), _request(small_skills))
    assert result.skill == "jira-issue"  # the first folder, `issue`, named by front matter
    assert result.tokens == TokenUsage(input=9, output=99, cache_read=32105, cache_write=2905)
    assert result.cost_usd == pytest.approx(0.0187)  # Claude Code's figure, not an estimate
    assert result.cost_usd != pytest.approx(
        load_price_table().cost_usd(DEFAULT_MODEL, result.tokens)
    )
    assert result.response_text == "Done: followed the jira-issue skill."


def test_skills_are_project_skills_and_the_flags_and_prompt_are_passed(
    small_skills: SkillSet, fake_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    _route(_router("haiku", extra_args=("--max-turns", "3")), _request(small_skills))
    _route(_router(), _request(small_skills, "find my issues"))
    with_model, without_model = _calls(fake_log)
    assert with_model["argv"][1:] == [
        *HEADLESS_ARGS,
        "--model",
        "haiku",
        "--max-turns",
        "3",
    ]
    assert without_model["argv"][1:] == list(HEADLESS_ARGS)
    assert with_model["prompt"] == "create a bug for the login crash"
    assert without_model["prompt"] == "find my issues"
    assert with_model["skills"] == [
        ".claude/skills/issue/SKILL.md",
        ".claude/skills/lifecycle/SKILL.md",
        ".claude/skills/search/SKILL.md",
    ]
    assert with_model["api_key_set"]  # the parent environment is passed through
    assert with_model["cwd"] != without_model["cwd"]
    assert not Path(with_model["cwd"]).exists()
    assert not Path(without_model["cwd"]).exists()


def test_context_is_prepended_to_the_prompt(small_skills: SkillSet, fake_log: Path) -> None:
    request = RouteRequest(
        "C9",
        "do it",
        small_skills,
        context_facts={"project": "TES", "labels": ["web"]},
        context_messages=(
            ContextMessage(role="user", content="I need the open bugs"),
            ContextMessage(role="assistant", content="In which project?"),
        ),
    )
    _route(_router(), request)
    assert _calls(fake_log)[0]["prompt"] == (
        'Context:\n- project: TES\n- labels: ["web"]\n\n'
        "Earlier in this conversation:\nuser: I need the open bugs\n"
        "assistant: In which project?\n\ndo it"
    )


def test_a_complete_assistant_message_routes_too(
    small_skills: SkillSet, fake_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_CLAUDE_SCENARIO", "route_assistant_only")
    monkeypatch.setenv("FAKE_CLAUDE_SKILL", "lifecycle")  # folder name; the input uses `command`
    result, elapsed = _route(_router(), _request(small_skills))
    assert elapsed < EARLY
    assert result.skill == "jira-lifecycle"
    # no partial messages: the assistant message's usage is the one there is
    assert result.tokens == TokenUsage(input=3, output=1, cache_read=15006, cache_write=2093)
    assert result.cost_usd == pytest.approx(
        load_price_table().cost_usd(DEFAULT_MODEL, result.tokens)
    )


def test_an_early_stop_with_a_model_alias_has_no_price_and_costs_nothing(
    small_skills: SkillSet, fake_log: Path
) -> None:
    result, _ = _route(_router("haiku"), _request(small_skills))  # the fake streams "haiku"
    assert result.response_model == "haiku"
    assert result.tokens.cache_read == 15006
    assert result.cost_usd == 0.0


def test_the_registry_passes_the_configured_prices(small_skills: SkillSet, fake_log: Path) -> None:
    pricing = {"claude-sonnet-4-5": {"input": 300.0, "output": 1500.0}}  # 100x the list price
    router = make_router(
        "claude-code", None, {"executable": str(FAKE_CLAUDE)}, RouterContext(pricing=pricing)
    )
    assert isinstance(router, ClaudeCodeRouter)
    result, _ = _route(router, _request(small_skills))
    list_price = load_price_table().cost_usd(DEFAULT_MODEL, result.tokens)
    assert list_price is not None
    assert result.cost_usd == pytest.approx(100 * list_price)


def test_a_plain_answer_is_no_skill_and_no_question(
    small_skills: SkillSet, fake_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_CLAUDE_SCENARIO", "no_skill")
    result, _ = _route(_router(), _request(small_skills, "what is an epic"))
    assert result.skill is None
    assert not result.asked_clarification
    assert result.response_text.startswith("A Jira epic groups")
    assert result.tool_calls == ()
    assert result.tokens == TokenUsage(input=4, output=37, cache_read=15006, cache_write=2093)
    assert result.cost_usd == pytest.approx(0.0094)


def test_a_question_is_a_clarification(
    small_skills: SkillSet, fake_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_CLAUDE_SCENARIO", "clarification")
    result, _ = _route(_router(), _request(small_skills, "jira stuff"))
    assert result.skill is None
    assert result.asked_clarification
    assert result.response_text.endswith("search existing ones with JQL?")
    assert result.cost_usd == pytest.approx(0.0102)


def test_another_tool_first_means_no_skill_and_the_call_is_recorded(
    small_skills: SkillSet, fake_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_CLAUDE_SCENARIO", "other_tool")
    result, elapsed = _route(_router(), _request(small_skills))
    assert elapsed < EARLY
    assert result.skill is None
    assert not result.asked_clarification
    assert result.tool_calls == ('Bash(jira issue create --type Bug --summary "Login crash")',)
    assert CommandPattern(pattern="jira issue create").matches("\n".join(result.tool_calls))
    assert _gone(_calls(fake_log)[0]["pid"])


def test_malformed_lines_are_skipped_and_counted(
    small_skills: SkillSet,
    fake_log: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("FAKE_CLAUDE_SCENARIO", "malformed")
    caplog.set_level(logging.DEBUG, logger="routelens.routers.claude_code")
    result, _ = _route(_router(), _request(small_skills))
    assert result.skill == "jira-issue"
    assert "2 malformed lines" in caplog.text


def test_a_hung_process_is_killed_at_the_timeout(
    small_skills: SkillSet, fake_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_CLAUDE_SCENARIO", "hang")
    monkeypatch.setenv("FAKE_CLAUDE_IGNORE_TERM", "1")  # only SIGKILL ends it
    error, elapsed = _fail(_router(timeout_s=1.0, terminate_grace_s=0.2), _request(small_skills))
    assert error.error_type == "timeout"
    assert elapsed < EARLY
    (call,) = _calls(fake_log)
    assert _gone(call["pid"])
    assert not Path(call["cwd"]).exists()


def test_a_cancelled_attempt_still_kills_claude_and_cleans_up(
    small_skills: SkillSet, fake_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_CLAUDE_SCENARIO", "hang")
    router = _router(terminate_grace_s=0.2)
    with pytest.raises(TimeoutError):  # the runner's own per-attempt timeout cancels route()
        asyncio.run(asyncio.wait_for(router.route(_request(small_skills)), 1.0))
    (call,) = _calls(fake_log)
    assert _gone(call["pid"])
    assert not Path(call["cwd"]).exists()


def test_the_answer_is_read_at_the_result_even_if_claude_lingers(
    small_skills: SkillSet, fake_log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = (FAKE_STREAMS / "clarification.jsonl").read_text().splitlines()
    script = tmp_path / "lingers.jsonl"
    script.write_text("\n".join([*lines, '{"fake": "sleep", "seconds": 30}']) + "\n")
    monkeypatch.setenv("FAKE_CLAUDE_SCRIPT", str(script))
    result, elapsed = _route(
        _router(stop_early=False, terminate_grace_s=0.2), _request(small_skills)
    )
    assert elapsed < EARLY
    assert result.asked_clarification
    assert _gone(_calls(fake_log)[0]["pid"])


def test_an_error_result_is_a_router_error_typed_by_its_subtype(
    small_skills: SkillSet, fake_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_CLAUDE_SCENARIO", "error_result")
    error, _ = _fail(_router(), _request(small_skills))
    assert error.error_type == "error_during_execution"
    assert "Request was aborted" in str(error)
    assert "5f6e8a1c-2b3d-4e5f-8a9b-0c1d2e3f4a5b" in str(error)  # the session, to look it up


def test_a_failing_cli_is_a_cli_error_with_its_last_stderr_line_and_no_key(
    small_skills: SkillSet, fake_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_CLAUDE_SCENARIO", "exit_error")
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    error, _ = _fail(_router(), _request(small_skills))
    assert error.error_type == "cli_error"
    assert "exited with code 1" in str(error)
    assert "Invalid API key [redacted]" in str(error)
    assert API_KEY not in str(error)


def test_a_flag_the_cli_rejects_is_a_cli_error(small_skills: SkillSet, fake_log: Path) -> None:
    error, _ = _fail(_router(extra_args=("--no-such-flag",)), _request(small_skills))
    assert error.error_type == "cli_error"
    assert "unknown option '--no-such-flag'" in str(error)


def test_the_fake_insists_on_the_headless_stream_json_flags(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(FAKE_CLAUDE), "-p", "--output-format", "stream-json", "hello"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 1
    assert "requires --verbose" in done.stderr


def test_a_missing_executable_is_an_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InputError) as raised:
        make_router("claude-code")
    assert raised.value.field == "executable"
    assert raised.value.message == (
        "claude not found on PATH; install Claude Code or pass --router-option executable=PATH"
    )
    with pytest.raises(InputError, match="no-claude-here not found"):
        make_router("claude-code", None, {"executable": str(tmp_path / "no-claude-here")})


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"stop_erly": True}, "stop_erly"),
        ({"stop_early": "yes"}, "stop_early"),
        ({"timeout_s": 0}, "timeout_s"),
        ({"extra_args": [1, 2]}, "extra_args"),
        ({"isolate": "yes"}, "isolate"),
        ({"count_skill_reads": 1}, "count_skill_reads"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"credentials_file": 3}, "credentials_file"),
    ],
)
def test_bad_options_are_input_errors(options: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as raised:
        make_router("claude-code", None, {"executable": str(FAKE_CLAUDE), **options})
    assert raised.value.field == field


def test_the_registry_builds_it_from_options() -> None:
    router = make_router(
        "claude-code",
        "haiku",
        {"executable": str(FAKE_CLAUDE), "timeout_s": 30, "extra_args": "--max-turns 2"},
    )
    assert isinstance(router, ClaudeCodeRouter)
    assert (router.name, router.model) == ("claude-code", "haiku")
    assert router.settings == ClaudeCodeSettings(
        executable=str(FAKE_CLAUDE), timeout_s=30.0, extra_args=("--max-turns", "2")
    )


def test_routelens_run_with_the_claude_code_router(
    skills_dir: Path, cases_file: Path, tmp_path: Path, fake_log: Path
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
            "claude-code",
            "--router-option",
            f"executable={FAKE_CLAUDE}",
            "--model",
            "haiku",
            "--store",
            f"sqlite:///{tmp_path / 'store.sqlite'}",
            "--json",
        ],
    )
    # the fake always calls the first skill: C1 passes; C2, C3 (not_skill) and C4 (ask) fail
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["router"], report["model"]) == ("claude-code", "haiku")
    assert (report["attempts"], report["passed"], report["failed"]) == (4, 1, 3)
    assert report["errors"] == 0
    assert report["tokens"] == {
        "input": 12,
        "output": 4,
        "cache_read": 4 * 15006,
        "cache_write": 4 * 2093,
    }
    assert report["cost_usd"] == 0.0  # stopped early, and "haiku" is an alias with no list price
    calls = _calls(fake_log)
    assert len(calls) == 4
    assert all("--model" in call["argv"] and "haiku" in call["argv"] for call in calls)
    assert all(not Path(call["cwd"]).exists() for call in calls)


def test_an_empty_input_is_a_request_for_input_and_starts_nothing(
    small_skills: SkillSet, fake_log: Path
) -> None:
    result, _ = _route(_router(), _request(small_skills, " \t\n"))
    assert (result.skill, result.asked_clarification) == (None, True)
    assert result.response_text == EMPTY_INPUT_RESPONSE
    assert not fake_log.exists()  # the fake never ran


def test_max_retries_from_the_run_reaches_claude_code() -> None:
    router = make_router("claude-code", None, {"executable": str(FAKE_CLAUDE), "max_retries": 3})
    assert isinstance(router, ClaudeCodeRouter)
    assert router.settings.max_retries == 3
    assert router.settings.isolate  # the defaults
    assert router.settings.count_skill_reads
