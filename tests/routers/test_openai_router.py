"""The openai router through the real SDK against a loopback chat-completions server."""

from __future__ import annotations

import asyncio

import pytest

from routelens.errors import InputError
from routelens.routers.api_call import ApiCaller
from routelens.routers.base import RouteRequest, RouterError, RouteResult, TokenUsage
from routelens.routers.openai_router import OpenAIRouter
from routelens.routers.pricing import load_price_table
from routelens.routers.retry import RetryPolicy
from routelens.suite.models import SkillSet
from tests.fakes.api_server import (
    FakeApiServer,
    openai_authentication_error,
    openai_rate_limit_error,
    openai_server_error,
    openai_text,
    openai_tool_call,
)


def route(server: FakeApiServer, request: RouteRequest, **changes: object) -> RouteResult:
    arguments: dict[str, object] = {
        "api_key": "test-key",
        "base_url": server.openai_base_url,
        "caller": ApiCaller(
            retry_policy=RetryPolicy(max_retries=2, base_delay_s=0.01, max_delay_s=0.05)
        ),
    }
    arguments.update(changes)
    router = OpenAIRouter("gpt-4o-mini", **arguments)  # type: ignore[arg-type]

    async def once() -> RouteResult:
        try:
            return await router.route(request)
        finally:
            await router.aclose()

    return asyncio.run(once())


def test_function_calling_request_and_route_with_cached_tokens_split_out(
    server: FakeApiServer, small_skills: SkillSet
) -> None:
    server.enqueue(
        openai_tool_call(
            "jira-lifecycle", prompt_tokens=1000, completion_tokens=9, cached_tokens=768
        )
    )
    result = route(server, RouteRequest("C1", "close TES-1", small_skills))
    body = server.requests[0].body
    assert body["messages"][0]["role"] == "system"
    assert "<available_skills>" in body["messages"][0]["content"]
    function = body["tools"][0]["function"]
    assert function["name"] == "Skill"
    assert function["parameters"]["properties"]["skill"]["enum"] == list(small_skills.names)
    assert result.skill == "jira-lifecycle"
    assert result.tokens == TokenUsage(input=232, output=9, cache_read=768, cache_write=0)
    expected = load_price_table().cost_usd("gpt-4o-mini", result.tokens)
    assert expected is not None
    assert result.cost_usd == pytest.approx(expected)


def test_text_question_is_a_clarification(server: FakeApiServer, small_skills: SkillSet) -> None:
    server.enqueue(openai_text("Which project do you mean?"))
    result = route(server, RouteRequest("C1", "show it", small_skills))
    assert result.skill is None
    assert result.asked_clarification


def test_rate_limits_and_server_errors_retry_and_auth_errors_do_not(
    server: FakeApiServer, small_skills: SkillSet
) -> None:
    server.enqueue(openai_rate_limit_error(), openai_server_error(), openai_tool_call("jira-issue"))
    result = route(server, RouteRequest("C1", "x", small_skills))
    assert result.skill == "jira-issue"
    assert result.retries == 2
    server.enqueue(openai_authentication_error())
    with pytest.raises(RouterError) as raised:
        route(server, RouteRequest("C1", "x", small_skills))
    assert raised.value.http_status == 401
    assert raised.value.retries == 0


def test_model_is_required_and_local_servers_need_no_key(
    server: FakeApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(InputError, match="--model") as raised:
        OpenAIRouter(None, base_url=server.openai_base_url)
    assert raised.value.field == "model"
    with pytest.raises(InputError, match="OPENAI_API_KEY"):
        OpenAIRouter("gpt-4o-mini")
    assert OpenAIRouter("local-model", base_url=server.openai_base_url).model == "local-model"


def test_write_text_is_one_plain_request_retried_like_an_attempt(server: FakeApiServer) -> None:
    server.enqueue(openai_server_error(), openai_text("Accuracy held at 91.0%."))
    router = OpenAIRouter(
        "gpt-4o-mini",
        api_key="test-key",
        base_url=server.openai_base_url,
        caller=ApiCaller(retry_policy=RetryPolicy(max_retries=1, base_delay_s=0.01)),
    )

    async def once() -> str:
        try:
            return await router.write_text("Summarise.", "Facts: {}", max_tokens=123)
        finally:
            await router.aclose()

    assert asyncio.run(once()) == "Accuracy held at 91.0%."
    first, second = server.requests
    assert first.body == second.body
    assert second.body == {
        "model": "gpt-4o-mini",
        "max_tokens": 123,
        "messages": [
            {"role": "system", "content": "Summarise."},
            {"role": "user", "content": "Facts: {}"},
        ],
    }
