"""The claude-code router with the real Claude Code binary against the loopback Messages API.

Skipped unless ROUTELENS_TEST_CLAUDE_EXECUTABLE names a binary (.ci/run installs the pinned
npm release and sets it). The fake API streams its answers and chooses skills from the
listing Claude Code sends, so each test drives the real CLI through a real decision.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from routelens.routers.base import RouteRequest, RouterError, RouteResult
from routelens.routers.claude_code import (
    EMPTY_INPUT_RESPONSE,
    ClaudeCodeRouter,
    ClaudeCodeSettings,
)
from routelens.routers.pricing import load_price_table
from routelens.suite.models import SkillSet
from tests.conftest import write_skill
from tests.fakes.anthropic_stream import skill_names_from_listing
from tests.fakes.anthropic_wire import anthropic_message
from tests.fakes.api_server import (
    FakeApiServer,
    FakeResponse,
    RecordedRequest,
    anthropic_api_error,
    anthropic_overloaded_error,
    anthropic_rate_limit_error,
    anthropic_streamed,
    anthropic_tool_use,
    slow,
)

MODEL = "claude-sonnet-4-5"  # priced in pricing.toml, so an early stop has an estimate
PERSONAL_SKILL = "personal-notes"
CLAUDE_MD_MARKER = "ALWAYS-ANSWER-IN-LATIN-7f3a"
_WORKING_DIRECTORY = re.compile(r"Primary working directory: (\S+)")


def _router(executable: str, **settings: Any) -> ClaudeCodeRouter:
    settings.setdefault("timeout_s", 60.0)
    settings.setdefault("max_retries", 0)
    return ClaudeCodeRouter(ClaudeCodeSettings(executable=executable, **settings), MODEL)


def _route(router: ClaudeCodeRouter, skills: SkillSet, text: str) -> tuple[RouteResult, float]:
    started = time.perf_counter()
    result = asyncio.run(router.route(RouteRequest("C1", text, skills)))
    return result, time.perf_counter() - started


def _fail(router: ClaudeCodeRouter, skills: SkillSet, text: str) -> tuple[RouterError, float]:
    started = time.perf_counter()
    with pytest.raises(RouterError) as raised:
        asyncio.run(router.route(RouteRequest("C1", text, skills)))
    return raised.value, time.perf_counter() - started


def _texts(request: RecordedRequest) -> str:
    return json.dumps(request.body)


def _working_directory(request: RecordedRequest) -> Path:
    match = _WORKING_DIRECTORY.search(_texts(request).replace("\\n", "\n"))
    assert match, "Claude Code names its working directory in every request"
    return Path(match.group(1))


def _listed(request: RecordedRequest) -> list[str]:
    return skill_names_from_listing(request.body["messages"])


def _first_turn_then_defaults(
    server: FakeApiServer, first: Callable[[RecordedRequest], FakeResponse]
) -> None:
    """Answer the first request with `first`, every later one as the default router does."""
    answered: list[bool] = []

    def handler(request: RecordedRequest) -> FakeResponse:
        if answered:
            return server.default_response(request)
        answered.append(True)
        return first(request)

    server.script(handler)


def _tool_call(name: str, tool_input: dict[str, Any], **stream: Any) -> FakeResponse:
    block = {"type": "tool_use", "id": "toolu_01A", "name": name, "input": tool_input}
    return anthropic_streamed(anthropic_message([block], "tool_use", model=MODEL), **stream)


def test_a_skill_call_routes_and_stops_claude_code(
    claude_executable: str, claude_api: FakeApiServer, small_skills: SkillSet
) -> None:
    result, _ = _route(_router(claude_executable), small_skills, "create a jira issue")

    assert result.skill == "jira-issue"  # listed by its folder, `issue`, reported by its name
    assert result.tool_calls == ("Skill(issue)",)
    assert not result.asked_clarification
    assert result.response_model == MODEL
    request = claude_api.requests[0]  # a second may have left before the stop took effect
    assert request.query == "beta=true"
    assert request.body["stream"] is True
    assert request.headers["user-agent"].startswith("claude-cli/")
    assert request.headers["x-api-key"].startswith("sk-ant-")
    assert _listed(request)[:3] == ["issue", "lifecycle", "search"]
    assert not _working_directory(request).exists()  # the throwaway project is gone


def test_a_question_is_a_clarification(
    claude_executable: str, claude_api: FakeApiServer, small_skills: SkillSet
) -> None:
    result, _ = _route(_router(claude_executable), small_skills, "hello there")

    assert result.skill is None
    assert result.asked_clarification
    assert result.response_text.startswith("Which of these did you mean: issue, lifecycle")
    assert result.tool_calls == ()


def test_another_tool_first_means_no_skill(
    claude_executable: str, claude_api: FakeApiServer, small_skills: SkillSet
) -> None:
    _first_turn_then_defaults(claude_api, lambda _: _tool_call("Bash", {"command": "ls -la"}))

    result, _ = _route(_router(claude_executable), small_skills, "create a jira issue")

    assert result.skill is None
    assert not result.asked_clarification
    assert result.tool_calls == ("Bash(ls -la)",)


def test_an_early_stop_does_not_wait_for_the_rest_of_the_stream(
    claude_executable: str, claude_api: FakeApiServer, small_skills: SkillSet
) -> None:
    stalled = _tool_call("Skill", {"skill": "search"}, pause_after_first_block_s=60)
    _first_turn_then_defaults(claude_api, lambda _: stalled)

    result, elapsed = _route(_router(claude_executable), small_skills, "find my issues")

    assert result.skill == "jira-search"
    assert elapsed < 30  # decided on the tool call, long before the stream would end
    # no result event: the tokens are message_start's, the cost their list price
    assert result.tokens.output == 1
    assert result.tokens.input == 512
    estimate = load_price_table().cost_usd(MODEL, result.tokens)
    assert estimate is not None
    assert result.cost_usd == pytest.approx(estimate)


def test_run_to_the_end_the_cost_is_claude_codes_total(
    claude_executable: str, claude_api: FakeApiServer, small_skills: SkillSet
) -> None:
    reported: list[dict[str, Any]] = []

    def record(request: RecordedRequest) -> FakeResponse:
        response = claude_api.default_response(request)
        usage = response.stream[0].data["message"]["usage"]  # type: ignore[index,union-attr]
        final = response.stream[-2].data["usage"]  # type: ignore[index,union-attr]
        reported.append({**usage, "output_tokens": final["output_tokens"]})
        return response

    claude_api.script(record)
    result, _ = _route(
        _router(claude_executable, stop_early=False), small_skills, "create a jira issue"
    )

    assert result.skill == "jira-issue"
    assert result.response_text == "Done."  # the skill ran, and the session ended
    assert len(reported) == 2  # the Skill call, then the turn after the skill loaded
    for field, key in (
        ("input", "input_tokens"),
        ("output", "output_tokens"),
        ("cache_read", "cache_read_input_tokens"),
        ("cache_write", "cache_creation_input_tokens"),
    ):
        assert getattr(result.tokens, field) == sum(usage[key] for usage in reported)
    assert result.tokens.cache_write > 0  # Claude Code marks its prompt for caching
    # Claude Code's own total_cost_usd, which agrees with the list price of those tokens
    assert result.cost_usd > 0
    assert result.cost_usd == pytest.approx(load_price_table().cost_usd(MODEL, result.tokens))


@pytest.mark.parametrize(
    ("error", "error_type", "status"),
    [
        (anthropic_rate_limit_error(retry_after=0), "rate_limit_error", 429),
        (anthropic_overloaded_error(), "overloaded_error", 529),
        (anthropic_api_error(), "api_error", 500),
    ],
)
def test_api_errors_surface_through_claude_code_with_its_retries(
    claude_executable: str,
    claude_api: FakeApiServer,
    small_skills: SkillSet,
    error: FakeResponse,
    error_type: str,
    status: int,
) -> None:
    claude_api.script(lambda _: error)

    failure, _ = _fail(_router(claude_executable, max_retries=1), small_skills, "create an issue")

    assert failure.error_type == error_type
    assert failure.http_status == status
    assert failure.retries == 1
    (retry,) = failure.retry_log
    assert (retry.error_type, retry.http_status) == (error_type, status)
    assert retry.wait_s > 0
    assert f"(HTTP {status}) after 1 retries" in str(failure)
    assert len(claude_api.requests) == 2


def test_a_retried_overload_still_routes_and_the_retry_is_recorded(
    claude_executable: str, claude_api: FakeApiServer, small_skills: SkillSet
) -> None:
    claude_api.enqueue(anthropic_overloaded_error())

    result, _ = _route(_router(claude_executable, max_retries=2), small_skills, "create an issue")

    assert result.skill == "jira-issue"
    assert result.retries == 1
    assert [(r.error_type, r.http_status) for r in result.retry_log] == [("overloaded_error", 529)]


def test_a_silent_api_is_a_timeout_and_the_process_is_killed(
    claude_executable: str, claude_api: FakeApiServer, small_skills: SkillSet
) -> None:
    claude_api.script(lambda _: slow(anthropic_tool_use("issue"), 60))

    failure, elapsed = _fail(
        _router(claude_executable, timeout_s=3.0, terminate_grace_s=0.5),
        small_skills,
        "create an issue",
    )

    assert failure.error_type == "timeout"
    assert elapsed < 15
    (request,) = claude_api.requests
    assert not _working_directory(request).exists()


@pytest.mark.parametrize("count_skill_reads", [True, False])
def test_reading_a_skills_skill_md_first_chooses_that_skill(
    claude_executable: str,
    claude_api: FakeApiServer,
    small_skills: SkillSet,
    count_skill_reads: bool,
) -> None:
    def read_skill_file(request: RecordedRequest) -> FakeResponse:
        path = _working_directory(request) / ".claude" / "skills" / "search" / "SKILL.md"
        return _tool_call("Read", {"file_path": str(path)})

    _first_turn_then_defaults(claude_api, read_skill_file)
    router = _router(claude_executable, count_skill_reads=count_skill_reads)

    result, _ = _route(router, small_skills, "find my issues")

    assert len(result.tool_calls) == 1
    assert result.tool_calls[0].startswith("Read(/")
    assert result.tool_calls[0].endswith("/.claude/skills/search/SKILL.md)")
    assert result.skill == ("jira-search" if count_skill_reads else None)


def _plant_personal_skill(home: Path) -> None:
    write_skill(home / ".claude" / "skills", PERSONAL_SKILL, PERSONAL_SKILL, "My personal notes.")
    (home / ".claude" / "CLAUDE.md").write_text(f"{CLAUDE_MD_MARKER}\n", encoding="utf-8")


def test_isolated_attempts_never_see_the_users_skills_or_claude_md(
    claude_executable: str, claude_api: FakeApiServer, small_skills: SkillSet
) -> None:
    _plant_personal_skill(Path(os.environ["HOME"]))

    result, _ = _route(_router(claude_executable), small_skills, "personal notes please")

    (request,) = claude_api.requests
    assert PERSONAL_SKILL not in _listed(request)
    assert CLAUDE_MD_MARKER not in _texts(request)
    assert result.skill is None
    assert result.asked_clarification


def test_without_isolation_the_users_skills_and_claude_md_are_visible(
    claude_executable: str, claude_api: FakeApiServer, small_skills: SkillSet
) -> None:
    _plant_personal_skill(Path(os.environ["HOME"]))

    result, _ = _route(
        _router(claude_executable, isolate=False), small_skills, "personal notes please"
    )

    request = claude_api.requests[0]
    assert _listed(request)[0] == PERSONAL_SKILL
    assert CLAUDE_MD_MARKER in _texts(request)
    assert result.skill == PERSONAL_SKILL  # the user's own skill: a plain, unknown name


def test_a_route_to_a_bundled_skill_is_builtin(
    claude_executable: str, claude_api: FakeApiServer, small_skills: SkillSet
) -> None:
    result, _ = _route(_router(claude_executable), small_skills, "draw a dataviz chart")

    request = claude_api.requests[0]
    listed = _listed(request)
    assert "dataviz" in listed
    assert len(listed) > len(small_skills.skills)  # Claude Code's own skills compete
    assert result.skill == "builtin:dataviz"
    assert result.tool_calls == ("Skill(dataviz)",)


def test_an_empty_input_asks_for_input_without_starting_claude_code(
    claude_executable: str, claude_api: FakeApiServer, small_skills: SkillSet
) -> None:
    result, elapsed = _route(_router(claude_executable), small_skills, "  \n")

    assert result.skill is None
    assert result.asked_clarification
    assert result.response_text == EMPTY_INPUT_RESPONSE
    assert claude_api.requests == []
    assert elapsed < 1


def test_a_run_records_the_claude_code_version_it_ran_on(
    claude_executable: str,
    claude_api: FakeApiServer,
    small_skills: SkillSet,
    small_suite: Any,
    tmp_path: Path,
) -> None:
    import subprocess

    from routelens.runner.session import RunSettings, create_run, execute_run
    from routelens.store import open_store

    version = subprocess.run(
        [claude_executable, "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[0]
    settings = RunSettings(router="claude-code", model=MODEL)
    with open_store(tmp_path / "s.sqlite") as store:
        run = create_run(store, small_skills, small_suite, settings)
        assert "claude_code_version" not in run.settings
        outcome = execute_run(
            store, run, small_skills, small_suite.cases[:1], _router(claude_executable), settings
        )
    assert outcome.run.settings["claude_code_version"] == version
