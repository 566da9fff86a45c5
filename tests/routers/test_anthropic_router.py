"""The anthropic router through the real SDK against a loopback Messages API."""

from __future__ import annotations

import asyncio

import pytest

from routelens.errors import InputError
from routelens.routers.anthropic_router import AnthropicRouter
from routelens.routers.api_call import ApiCaller
from routelens.routers.base import RetryEvent, RouteRequest, RouterError, RouteResult, TokenUsage
from routelens.routers.limits import AdaptiveLimiter, LimiterSettings
from routelens.routers.pricing import load_price_table
from routelens.routers.retry import RetryPolicy
from routelens.suite.models import ContextMessage, SkillSet
from tests.fakes.api_server import (
    FakeApiServer,
    anthropic_api_error,
    anthropic_invalid_request_error,
    anthropic_overloaded_error,
    anthropic_rate_limit_error,
    anthropic_text,
    anthropic_tool_use,
    drop_connection,
    slow,
)

MODEL = "claude-sonnet-4-6"


def make_router(server: FakeApiServer, **changes: object) -> AnthropicRouter:
    arguments: dict[str, object] = {
        "api_key": "test-key",
        "base_url": server.base_url,
        "caller": ApiCaller(
            retry_policy=RetryPolicy(max_retries=3, base_delay_s=0.01, max_delay_s=0.05), seed=3
        ),
    }
    arguments.update(changes)
    return AnthropicRouter(MODEL, **arguments)  # type: ignore[arg-type]


def route(router: AnthropicRouter, request: RouteRequest) -> RouteResult:
    async def once() -> RouteResult:
        try:
            return await router.route(request)
        finally:
            await router.aclose()

    return asyncio.run(once())


def test_the_request_offers_skills_as_claude_code_does(
    server: FakeApiServer, small_skills: SkillSet
) -> None:
    request = RouteRequest(
        "C1",
        "move it to done",
        small_skills,
        context_facts={"last_issue": "TES-42"},
        context_messages=(ContextMessage(role="assistant", content="Created TES-42."),),
    )
    route(make_router(server), request)
    (sent,) = server.requests
    body = sent.body
    assert body["model"] == MODEL
    assert body["max_tokens"] == 256
    skills_block = body["system"][-1]
    assert skills_block["cache_control"] == {"type": "ephemeral"}
    assert skills_block["text"].startswith("<available_skills>")
    assert "<name>jira-lifecycle</name>" in skills_block["text"]
    (tool,) = body["tools"]
    assert tool["name"] == "Skill"
    assert tool["input_schema"]["properties"]["skill"]["enum"] == list(small_skills.names)
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][-1]["content"].endswith("last_issue: TES-42\n\nmove it to done")
    assert sent.headers.get("x-api-key") == "test-key" or "test-key" in sent.headers.get(
        "authorization", ""
    )


def test_a_temperature_reaches_the_request_body(
    server: FakeApiServer, small_skills: SkillSet
) -> None:
    route(make_router(server, temperature=0.3), RouteRequest("C1", "close TES-1", small_skills))
    route(make_router(server), RouteRequest("C1", "close TES-1", small_skills))
    with_temperature, without = (request.body for request in server.requests)
    assert with_temperature["temperature"] == 0.3
    assert "temperature" not in without


def test_a_tool_call_is_the_route_with_usage_and_cost(
    server: FakeApiServer, small_skills: SkillSet
) -> None:
    server.enqueue(
        anthropic_tool_use(
            "jira-search",
            input_tokens=40,
            output_tokens=12,
            cache_creation_input_tokens=900,
            text_before="Let me search.",
        )
    )
    result = route(make_router(server), RouteRequest("C1", "find bugs", small_skills))
    assert result.skill == "jira-search"
    assert not result.asked_clarification
    assert result.tool_calls == ("Skill(skill=jira-search)",)
    assert result.response_text == "Let me search."
    assert result.tokens == TokenUsage(input=40, output=12, cache_read=0, cache_write=900)
    expected = load_price_table().cost_usd("claude-sonnet-4-5", result.tokens)
    assert result.cost_usd == pytest.approx(expected)
    assert result.http_status == 200
    assert result.retries == 0


def test_repeated_calls_read_the_skills_from_the_prompt_cache(
    server: FakeApiServer, small_skills: SkillSet
) -> None:
    router = make_router(server)

    async def twice() -> list[RouteResult]:
        results = [
            await router.route(RouteRequest(f"C{i}", "find issues with jql", small_skills))
            for i in range(2)
        ]
        await router.aclose()
        return results

    first, second = asyncio.run(twice())
    assert first.tokens.cache_write > 0
    assert first.tokens.cache_read == 0
    assert second.tokens.cache_read == first.tokens.cache_write
    assert second.tokens.input < first.tokens.cache_write
    assert second.cost_usd < first.cost_usd


def test_a_text_question_is_a_clarification(server: FakeApiServer, small_skills: SkillSet) -> None:
    server.enqueue(anthropic_text("Do you mean the sprint board or a JQL search?"))
    result = route(make_router(server), RouteRequest("C1", "show sprint", small_skills))
    assert result.skill is None
    assert result.asked_clarification
    assert "sprint board" in result.response_text


def test_429_waits_retry_after_then_succeeds_and_the_retry_is_counted(
    server: FakeApiServer, small_skills: SkillSet
) -> None:
    server.enqueue(anthropic_rate_limit_error(retry_after=1), anthropic_tool_use("jira-issue"))
    router = make_router(server)
    result = route(router, RouteRequest("C1", "x", small_skills))
    assert result.skill == "jira-issue"
    assert result.retries == 1
    assert result.retry_wait_s == 1.0
    assert result.retry_log == (RetryEvent("rate_limit_error", 429, 1.0),)
    arrivals = [r.arrived_at for r in server.requests]
    assert arrivals[1] - arrivals[0] >= 0.95
    assert router.caller.limiter.throttles == 1


def test_overload_server_error_and_dropped_connection_are_retried(
    server: FakeApiServer, small_skills: SkillSet
) -> None:
    server.enqueue(
        anthropic_overloaded_error(),
        anthropic_api_error(),
        drop_connection(),
        anthropic_tool_use("jira-lifecycle"),
    )
    result = route(make_router(server), RouteRequest("C1", "x", small_skills))
    assert result.skill == "jira-lifecycle"
    assert result.retries == 3
    assert len(server.requests) == 4


def test_exhausted_retries_raise_with_type_status_and_count(
    server: FakeApiServer, small_skills: SkillSet
) -> None:
    server.script(lambda request: anthropic_overloaded_error())
    caller = ApiCaller(retry_policy=RetryPolicy(max_retries=2, base_delay_s=0.01))
    router = make_router(server, caller=caller)
    with pytest.raises(RouterError) as raised:
        route(router, RouteRequest("C1", "x", small_skills))
    assert (raised.value.error_type, raised.value.http_status) == ("overloaded_error", 529)
    assert raised.value.retries == 2
    assert len(server.requests) == 3


def test_bad_requests_fail_at_once(server: FakeApiServer, small_skills: SkillSet) -> None:
    server.enqueue(
        anthropic_invalid_request_error("messages: text content blocks must be non-empty")
    )
    with pytest.raises(RouterError) as raised:
        route(make_router(server), RouteRequest("C1", "x", small_skills))
    assert raised.value.error_type == "invalid_request_error"
    assert "non-empty" in str(raised.value)
    assert raised.value.retries == 0
    assert len(server.requests) == 1


def test_slow_answers_time_out_and_are_retried(
    server: FakeApiServer, small_skills: SkillSet
) -> None:
    server.enqueue(slow(anthropic_tool_use("jira-issue"), 2.0), anthropic_tool_use("jira-search"))
    result = route(make_router(server, timeout_s=0.3), RouteRequest("C1", "x", small_skills))
    assert result.skill == "jira-search"
    assert result.retries == 1


def test_a_shared_limiter_bounds_requests_in_flight(
    server: FakeApiServer, small_skills: SkillSet
) -> None:
    server.script(lambda request: slow(server.default_response(request), 0.05))
    limiter = AdaptiveLimiter(LimiterSettings(max_concurrency=2))
    router = make_router(server, caller=ApiCaller(limiter=limiter))
    peak = 0

    async def many() -> None:
        nonlocal peak

        async def one(i: int) -> None:
            nonlocal peak
            task = asyncio.create_task(router.route(RouteRequest(f"C{i}", "jql", small_skills)))
            while not task.done():
                peak = max(peak, limiter.in_flight)
                await asyncio.sleep(0.005)
            await task

        await asyncio.gather(*(one(i) for i in range(6)))
        await router.aclose()

    asyncio.run(many())
    assert peak == 2
    assert len(server.requests) == 6


def test_no_key_is_a_clear_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(InputError, match="ANTHROPIC_API_KEY") as raised:
        AnthropicRouter(MODEL)
    assert raised.value.field == "api_key"


def test_write_text_is_one_plain_request_retried_like_an_attempt(server: FakeApiServer) -> None:
    server.enqueue(anthropic_overloaded_error(), anthropic_text("Accuracy held at 91.0%."))
    router = make_router(server)

    async def once() -> str:
        try:
            return await router.write_text("Summarise.", "Facts: {}", max_tokens=123)
        finally:
            await router.aclose()

    assert asyncio.run(once()) == "Accuracy held at 91.0%."
    first, second = server.requests
    assert first.body == second.body
    assert second.body == {
        "model": MODEL,
        "max_tokens": 123,
        "system": "Summarise.",
        "messages": [{"role": "user", "content": "Facts: {}"}],
    }


def test_the_limiter_learns_the_input_tokens_a_request_counts_against_the_limit(
    small_skills: SkillSet,
) -> None:
    with FakeApiServer(requests_per_minute=600, input_tokens_per_minute=200_000) as server:
        router = make_router(server, prompt_cache=False)
        result = route(router, RouteRequest("C1", "find the open bugs", small_skills))
    counted = result.tokens.input + result.tokens.cache_write
    assert counted > 0
    assert router.caller.limiter.input_tokens_per_request == counted
