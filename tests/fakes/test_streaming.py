"""FakeApiServer's streamed Messages answers, as the official SDK reads them, and Claude Code's
listing of skills, read the way the real binary sends it."""

from __future__ import annotations

import asyncio
import http.client
import json
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from tests.fakes.anthropic_stream import skill_names_from_listing
from tests.fakes.anthropic_wire import FOLLOW_UP_ANSWER
from tests.fakes.api_server import (
    FakeApiServer,
    anthropic_rate_limit_error,
    anthropic_streamed,
    anthropic_tool_use,
)
from tests.fakes.exchange import estimate_tokens

MODEL = "claude-sonnet-4-6"
SKILLS = ["jira-issue", "jira-search"]
# what Claude Code 2.1.332 sent: a reminder block before the prompt, the listing in a
# system-role message after it
REMINDER = "<system-reminder>\nAttribution for git commits and pull requests\n</system-reminder>\n"
LISTING = (
    "# Environment\n - Primary working directory: /tmp/p\n\n"
    "The following skills are available for use with the Skill tool:\n\n"
    "- jira-issue: Create and update Jira issues.\n"
    "- zzz-folder (search-things): Search for things.\n"
    "- claude-api: Reference for the Claude API.\nTRIGGER — read FIRST: - not: an entry\n"
    "- jira-fields\n- jira-dev (jira-dev-integration)\n\n"
    "Today's date is 2026-12-01."
)


def listing_messages(prompt: str) -> list[dict[str, Any]]:
    """A Claude Code-shaped conversation: reminder and prompt, then the listing."""
    user = [{"type": "text", "text": REMINDER}, {"type": "text", "text": prompt}]
    return [
        {"role": "user", "content": user},
        {"role": "system", "content": [{"type": "text", "text": LISTING}]},
    ]


def skill_tool() -> dict[str, Any]:
    schema = {"type": "object", "properties": {"skill": {"type": "string", "enum": SKILLS}}}
    return {"name": "Skill", "description": "Run one skill.", "input_schema": schema}


@pytest.fixture
def server() -> Iterator[FakeApiServer]:
    with FakeApiServer() as running:
        yield running


def client(server: FakeApiServer, **options: Any) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(
        api_key="test-key", base_url=server.base_url, max_retries=0, **options
    )


async def stream_events(
    server: FakeApiServer, messages: list[dict[str, Any]], **extra: Any
) -> tuple[list[Any], anthropic.types.Message, dict[str, str]]:
    async with client(server).messages.stream(
        model=MODEL, max_tokens=64, messages=messages, **extra
    ) as stream:
        events = [event async for event in stream]
        message = await stream.get_final_message()
        return events, message, dict(stream.response.headers)


def test_a_streamed_tool_call_arrives_as_the_documented_events(server: FakeApiServer) -> None:
    messages = [{"role": "user", "content": "search jira"}]
    events, message, headers = asyncio.run(stream_events(server, messages, tools=[skill_tool()]))

    raw = [event.type for event in events if event.type not in ("input_json", "text")]
    assert raw[:3] == ["message_start", "content_block_start", "content_block_delta"]
    assert raw[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    deltas = [e for e in events if e.type == "content_block_delta"]
    assert len(deltas) > 1  # the input arrives in pieces
    assert {e.delta.type for e in deltas} == {"input_json_delta"}
    assert json.loads("".join(e.delta.partial_json for e in deltas)) == {"skill": "jira-search"}
    (tool_use,) = message.content
    assert isinstance(tool_use, anthropic.types.ToolUseBlock)
    assert (tool_use.name, tool_use.input) == ("Skill", {"skill": "jira-search"})
    assert message.stop_reason == "tool_use"
    assert message.usage.output_tokens > 1  # message_delta's count replaced message_start's
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["request-id"].startswith("req_01")
    assert int(headers["anthropic-ratelimit-requests-limit"]) > 0


def test_a_streamed_question_arrives_as_text_deltas(server: FakeApiServer) -> None:
    messages = [{"role": "user", "content": "hello there"}]
    events, message, _ = asyncio.run(stream_events(server, messages, tools=[skill_tool()]))

    texts = [e.delta.text for e in events if e.type == "content_block_delta"]
    assert "".join(texts) == "Which of these did you mean: jira-issue, jira-search?"
    assert message.stop_reason == "end_turn"


def test_the_listing_is_read_from_claude_codes_system_message(server: FakeApiServer) -> None:
    assert skill_names_from_listing(listing_messages("x")) == [
        "jira-issue",
        "zzz-folder",
        "claude-api",
        "jira-fields",  # listed by name alone once the listing's budget is spent
        "jira-dev",
    ]
    # the reminder mentions "pull requests"; only the prompt's words choose
    _, message, _ = asyncio.run(stream_events(server, listing_messages("ask claude about the api")))

    (tool_use,) = message.content
    assert isinstance(tool_use, anthropic.types.ToolUseBlock)
    assert tool_use.input == {"skill": "claude-api"}
    assert server.requests[0].body["messages"][1]["role"] == "system"


def test_a_turn_answering_a_tool_call_gets_a_closing_text(server: FakeApiServer) -> None:
    messages = [
        *listing_messages("create a jira issue"),
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "Skill", "input": {"skill": "a"}}
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}],
        },
    ]
    _, message, _ = asyncio.run(stream_events(server, messages))

    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == FOLLOW_UP_ANSWER  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"


def test_count_tokens_answers_with_the_fake_tokenizer(server: FakeApiServer) -> None:
    async def scenario() -> int:
        counted = await client(server).messages.count_tokens(
            model=MODEL, messages=[{"role": "user", "content": "x" * 40}]
        )
        return counted.input_tokens

    # the prompt counts as "<role>: <content>", as the prompt cache fingerprints it
    assert asyncio.run(scenario()) == estimate_tokens("user: " + "x" * 40)


def test_errors_stay_json_when_a_stream_was_asked_for(server: FakeApiServer) -> None:
    server.enqueue(anthropic_streamed(anthropic_rate_limit_error(retry_after=3)))

    with pytest.raises(anthropic.RateLimitError) as raised:
        asyncio.run(stream_events(server, [{"role": "user", "content": "x"}]))

    assert raised.value.response.headers["retry-after"] == "3"
    assert raised.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]


def test_a_stream_can_stall_after_its_first_block(server: FakeApiServer) -> None:
    server.enqueue(
        anthropic_streamed(anthropic_tool_use("jira-issue"), pause_after_first_block_s=30)
    )

    async def first_block_then_give_up() -> float:
        started = time.monotonic()
        async with client(server).messages.stream(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "x"}]
        ) as stream:
            async for event in stream:
                if event.type == "content_block_stop":
                    return time.monotonic() - started
        raise AssertionError("no block arrived")

    assert asyncio.run(first_block_then_give_up()) < 5


def test_the_connection_stays_open_after_a_stream(server: FakeApiServer) -> None:
    connection = http.client.HTTPConnection(server.base_url.removeprefix("http://"))
    body = json.dumps(
        {"model": MODEL, "max_tokens": 8, "stream": True, "messages": [{"role": "user"}]}
    )
    headers = {"x-api-key": "k", "content-type": "application/json"}
    sockets, payloads = [], []
    for _ in range(2):
        connection.request("POST", "/v1/messages", body=body, headers=headers)
        response = connection.getresponse()
        payloads.append(response.read().decode())
        sockets.append(connection.sock)
    connection.close()

    assert sockets[0] is sockets[1]
    for payload in payloads:
        names = [
            line.removeprefix("event: ") for line in payload.splitlines() if line[:6] == "event:"
        ]
        assert names[0] == "message_start"
        assert names[-1] == "message_stop"
