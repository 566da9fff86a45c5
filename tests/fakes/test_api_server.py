"""FakeApiServer: the official SDKs parse its answers, raise their typed errors, see its limits."""

from __future__ import annotations

import asyncio
import http.client
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import anthropic
import openai
import pytest

from tests.fakes.api_server import (
    FakeApiServer,
    FakeResponse,
    RecordedRequest,
    anthropic_api_error,
    anthropic_authentication_error,
    anthropic_invalid_request_error,
    anthropic_overloaded_error,
    anthropic_rate_limit_error,
    anthropic_text,
    anthropic_tool_use,
    drop_connection,
    openai_error,
    openai_tool_call,
    slow,
)
from tests.fakes.openai_wire import go_duration

MODEL = "claude-sonnet-4-6"  # a current model, so the SDK does not warn
SKILLS = ["jira-issue", "jira-search", "jira-lifecycle"]
LONG_SYSTEM = "You route requests to skills. " * 200


def skill_tool(cache: bool = False) -> dict[str, Any]:
    """The Skill tool as an Anthropic client declares it."""
    tool: dict[str, Any] = {
        "name": "Skill",
        "description": "Run one skill.",
        "input_schema": {
            "type": "object",
            "properties": {"skill": {"type": "string", "enum": SKILLS}},
            "required": ["skill"],
        },
    }
    if cache:
        tool["cache_control"] = {"type": "ephemeral"}
    return tool


def skill_function() -> dict[str, Any]:
    """The Skill tool as an OpenAI client declares it."""
    schema = {"type": "object", "properties": {"skill": {"type": "string", "enum": SKILLS}}}
    return {"type": "function", "function": {"name": "Skill", "parameters": schema}}


def claude(server: FakeApiServer, **options: Any) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(
        api_key="test-key", base_url=server.base_url, max_retries=0, **options
    )


def gpt(server: FakeApiServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key="test-key", base_url=server.openai_base_url, max_retries=0)


async def ask(client: anthropic.AsyncAnthropic, text: str, **extra: Any) -> anthropic.types.Message:
    extra.setdefault("tools", [skill_tool()])
    return await client.messages.create(
        model=MODEL, max_tokens=64, messages=[{"role": "user", "content": text}], **extra
    )


@pytest.fixture
def server() -> Iterator[FakeApiServer]:
    with FakeApiServer() as running:
        yield running


def test_tool_use_answer_parses_into_sdk_types_with_usage(server: FakeApiServer) -> None:
    server.enqueue(
        anthropic_tool_use(
            "jira-search",
            text_before="Searching.",
            input_tokens=120,
            output_tokens=30,
            cache_creation_input_tokens=10,
            cache_read_input_tokens=20,
        )
    )

    async def scenario() -> Any:
        raw = await claude(server).messages.with_raw_response.create(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "x"}]
        )
        return raw.headers, await raw.parse()

    headers, message = asyncio.run(scenario())

    text, tool_use = message.content
    assert isinstance(text, anthropic.types.TextBlock)
    assert text.text == "Searching."
    assert isinstance(tool_use, anthropic.types.ToolUseBlock)
    assert (tool_use.name, tool_use.input) == ("Skill", {"skill": "jira-search"})
    assert tool_use.id.startswith("toolu_")
    assert message.id.startswith("msg_")
    assert (message.stop_reason, message.stop_sequence) == ("tool_use", None)
    usage = message.usage
    assert (usage.input_tokens, usage.output_tokens) == (120, 30)
    assert (usage.cache_creation_input_tokens, usage.cache_read_input_tokens) == (10, 20)
    assert message._request_id == headers["request-id"]
    for family in ("requests", "input-tokens", "output-tokens", "tokens"):
        assert int(headers[f"anthropic-ratelimit-{family}-limit"]) > 0
        assert int(headers[f"anthropic-ratelimit-{family}-remaining"]) >= 0
        datetime.fromisoformat(headers[f"anthropic-ratelimit-{family}-reset"])


def test_default_router_calls_the_best_matching_skill_or_asks(server: FakeApiServer) -> None:
    async def scenario() -> tuple[anthropic.types.Message, anthropic.types.Message]:
        client = claude(server)
        return await ask(client, "move TES-1 through its lifecycle"), await ask(client, "hello")

    routed, unsure = asyncio.run(scenario())

    assert routed.stop_reason == "tool_use"
    assert routed.content[-1].input == {"skill": "jira-lifecycle"}  # type: ignore[union-attr]
    assert routed.model == MODEL
    assert unsure.stop_reason == "end_turn"
    assert isinstance(unsure.content[0], anthropic.types.TextBlock)
    assert "jira-search" in unsure.content[0].text


@pytest.mark.parametrize(
    ("response", "error_class", "status"),
    [
        (anthropic_rate_limit_error(retry_after=7), anthropic.RateLimitError, 429),
        (anthropic_overloaded_error(), anthropic.OverloadedError, 529),
        (anthropic_api_error(), anthropic.InternalServerError, 500),
        (anthropic_invalid_request_error("bad"), anthropic.BadRequestError, 400),
        (anthropic_authentication_error(), anthropic.AuthenticationError, 401),
    ],
)
def test_errors_raise_the_sdk_typed_errors(
    server: FakeApiServer, response: FakeResponse, error_class: type[Exception], status: int
) -> None:
    server.enqueue(response)

    with pytest.raises(error_class) as caught:
        asyncio.run(ask(claude(server), "anything"))

    error = caught.value
    assert isinstance(error, anthropic.APIStatusError)
    assert error.status_code == status
    assert error.body["type"] == "error"  # type: ignore[index]
    assert error.body["error"]["type"] == response.body["error"]["type"]  # type: ignore[index]
    assert error.request_id == error.response.headers["request-id"]


def test_rate_limit_error_carries_retry_after_and_no_remaining_requests(
    server: FakeApiServer,
) -> None:
    server.enqueue(anthropic_rate_limit_error(retry_after=2.5))

    with pytest.raises(anthropic.RateLimitError) as caught:
        asyncio.run(ask(claude(server), "anything"))

    headers = caught.value.response.headers
    assert headers["retry-after"] == "3"
    assert headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert datetime.fromisoformat(headers["anthropic-ratelimit-requests-reset"]) > datetime.now(
        UTC
    ).replace(microsecond=0)


def test_dropped_connection_and_slow_answer_are_transport_errors(server: FakeApiServer) -> None:
    server.enqueue(drop_connection(), slow(anthropic_text("late"), 5.0))
    client = claude(server, timeout=0.2)

    with pytest.raises(anthropic.APIConnectionError) as dropped:
        asyncio.run(ask(client, "first"))
    assert not isinstance(dropped.value, anthropic.APITimeoutError)

    started = time.monotonic()
    with pytest.raises(anthropic.APITimeoutError):
        asyncio.run(ask(client, "second"))
    assert time.monotonic() - started < 2


def test_prompt_caching_creates_then_reads_the_marked_prefix(server: FakeApiServer) -> None:
    system = [{"type": "text", "text": LONG_SYSTEM, "cache_control": {"type": "ephemeral"}}]

    async def scenario() -> list[anthropic.types.Usage]:
        client = claude(server)
        texts = ["create an issue", "create an issue", "find jira issues by JQL"]
        return [(await ask(client, text, system=system)).usage for text in texts]

    first, second, third = asyncio.run(scenario())

    assert first.cache_creation_input_tokens > 0  # type: ignore[operator]
    assert first.cache_read_input_tokens == 0
    assert second.cache_creation_input_tokens == 0
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    assert second.input_tokens == first.input_tokens  # only the uncached remainder
    assert third.cache_read_input_tokens == first.cache_creation_input_tokens
    assert third.input_tokens != first.input_tokens


def test_prompt_caching_extends_a_cached_tool_prefix_and_misses_on_change(
    server: FakeApiServer,
) -> None:
    cached_system = [{"type": "text", "text": LONG_SYSTEM, "cache_control": {"type": "ephemeral"}}]

    async def scenario() -> list[anthropic.types.Usage]:
        client = claude(server)
        tools = [skill_tool(cache=True)]
        return [
            (await ask(client, "x", tools=tools)).usage,
            (await ask(client, "x", tools=tools, system=cached_system)).usage,
            (await ask(client, "x", tools=tools, system=LONG_SYSTEM + "!")).usage,
        ]

    tools_only, extended, changed_system = asyncio.run(scenario())

    assert tools_only.cache_creation_input_tokens > 0  # type: ignore[operator]
    assert extended.cache_read_input_tokens == tools_only.cache_creation_input_tokens
    assert extended.cache_creation_input_tokens > 0  # type: ignore[operator]
    # an uncached system string after the cached tools: tools read, system billed in full
    assert changed_system.cache_read_input_tokens == tools_only.cache_creation_input_tokens
    assert changed_system.input_tokens > extended.input_tokens


def test_requests_per_minute_limit_refuses_past_the_bucket() -> None:
    async def scenario(server: FakeApiServer) -> list[Any]:
        client = claude(server)
        outcomes: list[Any] = []
        for _ in range(5):
            try:
                raw = await client.messages.with_raw_response.create(
                    model=MODEL, max_tokens=8, messages=[{"role": "user", "content": "x"}]
                )
                outcomes.append(raw.headers)
            except anthropic.RateLimitError as error:
                outcomes.append(error)
        return outcomes

    with FakeApiServer(requests_per_minute=3) as server:
        outcomes = asyncio.run(scenario(server))

    remaining = [o["anthropic-ratelimit-requests-remaining"] for o in outcomes[:3]]
    assert remaining == ["2", "1", "0"]
    assert all(o["anthropic-ratelimit-requests-limit"] == "3" for o in outcomes[:3])
    for refused in outcomes[3:]:
        assert isinstance(refused, anthropic.RateLimitError)
        assert int(refused.response.headers["retry-after"]) in (19, 20)  # one token: 20 s
        assert refused.response.headers["anthropic-ratelimit-requests-remaining"] == "0"
        assert refused.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]


def test_concurrency_cap_refuses_requests_beyond_the_slots_in_flight() -> None:
    async def scenario(server: FakeApiServer) -> list[Any]:
        client = claude(server)
        calls = [ask(client, "create an issue") for _ in range(4)]
        return await asyncio.gather(*calls, return_exceptions=True)

    with FakeApiServer(max_concurrent=2) as server:
        server.script(lambda request: slow(server.default_response(request), 0.3))
        outcomes = asyncio.run(scenario(server))

    refused = [o for o in outcomes if isinstance(o, anthropic.RateLimitError)]
    assert len(refused) == 2
    assert all(o.response.headers["retry-after"] == "1" for o in refused)
    assert sum(isinstance(o, anthropic.types.Message) for o in outcomes) == 2


def test_openai_tool_call_and_errors_parse_in_the_openai_sdk(server: FakeApiServer) -> None:
    server.enqueue(
        openai_tool_call("jira-search", prompt_tokens=90, completion_tokens=12, cached_tokens=64),
        openai_error(429, "requests", "Rate limit reached", "rate_limit_exceeded", retry_after=4),
    )

    async def scenario() -> tuple[Any, openai.RateLimitError]:
        client = gpt(server)
        messages: Any = [{"role": "user", "content": "find issues"}]
        completion = await client.chat.completions.create(model="gpt-4o-mini", messages=messages)
        try:
            await client.chat.completions.create(model="gpt-4o-mini", messages=messages)
        except openai.RateLimitError as error:
            return completion, error
        raise AssertionError("expected a 429")

    completion, error = asyncio.run(scenario())

    choice = completion.choices[0]
    assert completion.id.startswith("chatcmpl-")
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    call = choice.message.tool_calls[0]
    assert call.id.startswith("call_")
    assert call.function.name == "Skill"
    assert json.loads(call.function.arguments) == {"skill": "jira-search"}
    assert (completion.usage.prompt_tokens, completion.usage.total_tokens) == (90, 102)
    assert completion.usage.prompt_tokens_details.cached_tokens == 64
    assert error.code == "rate_limit_exceeded"
    assert error.response.headers["retry-after"] == "4"


def test_openai_default_router_and_limit_headers() -> None:
    async def scenario(server: FakeApiServer) -> list[Any]:
        client = gpt(server)
        outcomes: list[Any] = []
        for text in ["create a jira issue", "hello"]:
            try:
                raw = await client.chat.completions.with_raw_response.create(
                    model="gpt-4o-mini",
                    messages=[{"role": "user", "content": text}],
                    tools=[skill_function()],  # type: ignore[list-item]
                )
                outcomes.append((raw.headers, raw.parse()))
            except openai.RateLimitError as error:
                outcomes.append(error)
        return outcomes

    with FakeApiServer(requests_per_minute=1) as server:
        (headers, completion), refused = asyncio.run(scenario(server))

    call = completion.choices[0].message.tool_calls[0]
    assert json.loads(call.function.arguments) == {"skill": "jira-issue"}
    assert headers["x-ratelimit-limit-requests"] == "1"
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert headers["x-ratelimit-reset-requests"].endswith("s")
    assert isinstance(refused, openai.RateLimitError)
    assert refused.code == "rate_limit_exceeded"
    assert refused.response.headers["x-ratelimit-remaining-requests"] == "0"
    assert refused.response.headers["retry-after"] in ("59", "60")


def test_server_records_requests_with_headers_and_parsed_bodies(server: FakeApiServer) -> None:
    async def scenario() -> None:
        await ask(claude(server), "create an issue")
        await gpt(server).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )

    asyncio.run(scenario())

    first, second = server.requests
    assert isinstance(first, RecordedRequest)
    assert (first.method, first.path) == ("POST", "/v1/messages")
    # anthropic 2.x sends the key as a bearer token; older SDKs and curl send x-api-key
    credential = first.headers.get("x-api-key") or first.headers["authorization"]
    assert credential.removeprefix("Bearer ") == "test-key"
    assert "anthropic-version" in first.headers
    assert first.body["messages"][0]["content"] == "create an issue"
    assert second.path == "/v1/chat/completions"
    assert second.headers["authorization"] == "Bearer test-key"
    assert second.body["model"] == "gpt-4o-mini"
    assert first.arrived_at <= second.arrived_at


def test_queue_then_script_then_defaults(server: FakeApiServer) -> None:
    server.enqueue(anthropic_text("queued"))
    seen: list[str] = []

    def script(request: RecordedRequest) -> FakeResponse:
        seen.append(request.body["messages"][0]["content"])
        return anthropic_text("scripted")

    async def scenario() -> list[anthropic.types.Message]:
        client = claude(server)
        answers = [await ask(client, "one")]
        server.script(script)
        answers.append(await ask(client, "two"))
        server.script(None)
        answers.append(await ask(client, "create an issue"))
        return answers

    queued, scripted, default = asyncio.run(scenario())

    assert queued.content[0].text == "queued"  # type: ignore[union-attr]
    assert scripted.content[0].text == "scripted"  # type: ignore[union-attr]
    assert seen == ["two"]
    assert default.content[0].input == {"skill": "jira-issue"}  # type: ignore[union-attr]


def test_unknown_paths_are_404_in_each_api_shape(server: FakeApiServer) -> None:
    async def scenario() -> tuple[anthropic.NotFoundError, openai.NotFoundError]:
        try:
            await claude(server).get("/v1/nowhere", cast_to=object)
        except anthropic.NotFoundError as anthropic_error:
            try:
                await gpt(server).models.list()
            except openai.NotFoundError as openai_error:
                return anthropic_error, openai_error
        raise AssertionError("expected two 404s")

    anthropic_404, openai_404 = asyncio.run(scenario())

    assert anthropic_404.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    assert openai_404.type == "invalid_request_error"
    assert "GET /v1/models" in openai_404.message


def test_connections_stay_open_and_chunked_bodies_are_read(server: FakeApiServer) -> None:
    connection = http.client.HTTPConnection(server.base_url.removeprefix("http://"))
    body = json.dumps({"model": MODEL, "max_tokens": 8, "messages": []}).encode()
    headers = {"x-api-key": "k", "content-type": "application/json"}

    def post(payload: Any) -> int:
        connection.request("POST", "/v1/messages", body=payload, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status

    first_status, first_socket = post(body), connection.sock
    second_status = post(iter([body]))  # an iterator without a length goes out chunked
    second_socket = connection.sock
    connection.close()

    assert (first_status, second_status) == (200, 200)
    assert second_socket is first_socket
    assert server.requests[1].headers["transfer-encoding"] == "chunked"
    assert server.requests[1].body == json.loads(body)
    assert server.requests[1].headers["x-api-key"] == "k"


def test_stop_releases_a_sleeping_slow_answer() -> None:
    with FakeApiServer() as server:
        server.enqueue(slow(anthropic_text("never"), 30.0))
        client = claude(server, timeout=0.1)
        with pytest.raises(anthropic.APITimeoutError):
            asyncio.run(ask(client, "x"))
        started = time.monotonic()
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    ("seconds", "spelled"),
    [(0.012, "12ms"), (1, "1s"), (1.5, "1.5s"), (360, "6m0s"), (3725, "1h2m5s")],
)
def test_go_duration_spells_reset_times_like_openai(seconds: float, spelled: str) -> None:
    assert go_duration(seconds) == spelled


async def _outcomes(server: FakeApiServer, count: int, text: str = "x") -> list[Any]:
    client = claude(server)
    outcomes: list[Any] = []
    for _ in range(count):
        try:
            raw = await client.messages.with_raw_response.create(
                model=MODEL, max_tokens=8, messages=[{"role": "user", "content": text}]
            )
            outcomes.append((raw.headers, await raw.parse()))
        except anthropic.RateLimitError as error:
            outcomes.append(error)
    return outcomes


def test_a_burst_smaller_than_the_limit_caps_the_bucket_but_the_limit_header_stays() -> None:
    with FakeApiServer(requests_per_minute=600, burst=3) as server:
        outcomes = asyncio.run(_outcomes(server, 5))
        counts = server.rate_limit_counts()
    admitted = [o for o in outcomes if isinstance(o, tuple)]
    assert len(admitted) >= 3  # the burst, plus what refilled meanwhile (10 a second)
    assert len(admitted) < 5
    assert all(h["anthropic-ratelimit-requests-limit"] == "600" for h, _ in admitted)
    assert [h["anthropic-ratelimit-requests-remaining"] for h, _ in admitted[:3]] == [
        "2",
        "1",
        "0",
    ]
    assert (counts.admitted, counts.refused) == (len(admitted), 5 - len(admitted))


def test_input_tokens_are_charged_after_the_answer_and_refuse_once_spent() -> None:
    with FakeApiServer(input_tokens_per_minute=500) as server:
        outcomes = asyncio.run(_outcomes(server, 3, text="find the open bugs " * 60))
        counts = server.rate_limit_counts()
    headers, message = outcomes[0]
    spent = message.usage.input_tokens + (message.usage.cache_creation_input_tokens or 0)
    assert spent > 250  # so two requests overdraw the bucket of 500
    assert headers["anthropic-ratelimit-input-tokens-limit"] == "500"
    remaining = int(headers["anthropic-ratelimit-input-tokens-remaining"])
    assert remaining in (500 - spent, 501 - spent)
    refused = outcomes[2]  # the second overdrew the bucket: the third waits for a refill
    assert isinstance(refused, anthropic.RateLimitError)
    assert refused.response.headers["anthropic-ratelimit-input-tokens-remaining"] == "0"
    assert "input tokens per minute" in str(refused)
    assert counts.input_tokens == 2 * spent
    assert (counts.admitted, counts.refused) == (2, 1)


def test_a_refusal_for_requests_in_flight_still_tells_the_budget_left() -> None:
    async def scenario(server: FakeApiServer) -> list[Any]:
        client = claude(server)
        calls = [ask(client, "create an issue") for _ in range(3)]
        return await asyncio.gather(*calls, return_exceptions=True)

    with FakeApiServer(requests_per_minute=600, max_concurrent=1) as server:
        server.script(lambda request: slow(server.default_response(request), 0.3))
        outcomes = asyncio.run(scenario(server))
    refused = [o for o in outcomes if isinstance(o, anthropic.RateLimitError)]
    assert len(refused) == 2
    # the bucket of 600 is nearly full: the refusal was for concurrency, not for the budget
    assert all(
        int(o.response.headers["anthropic-ratelimit-requests-remaining"]) > 500 for o in refused
    )
