"""The stream-json parser on its own, fed the recorded streams the fake `claude` replays."""

from __future__ import annotations

import json
from typing import Any

import pytest

from routelens.routers.base import TokenUsage
from routelens.routers.claude_stream import ClaudeStream, describe_tool_call, skill_name_in
from routelens.routers.pricing import load_price_table
from tests.fakes.fake_claude import DEFAULT_MODEL, STREAMS, filled_lines

PRICES = load_price_table()
FIRST_TURN = TokenUsage(input=3, output=1, cache_read=15006, cache_write=2093)


def recorded(
    scenario: str,
    *,
    model: str = DEFAULT_MODEL,
    skill: str = "jira-search",
    until_pause: bool = False,
) -> list[str]:
    """The stdout lines of a recorded stream; `until_pause` ends at its first sleep."""
    values = {"skill": skill, "model": model, "cwd": "/tmp/project", "api_key": ""}
    lines = []
    for line in filled_lines(STREAMS / f"{scenario}.jsonl", values, [skill]):
        direction = json.loads(line).get("fake")
        if direction is None:
            lines.append(line)
        elif direction == "raw":
            lines.append(json.loads(line)["text"])
        elif direction == "sleep" and until_pause:
            break
    return lines


def fed(stream: ClaudeStream, lines: list[str], *, until_decided: bool = False) -> ClaudeStream:
    """`stream` after the lines, stopping at the first tool call as the router does."""
    for line in lines:
        stream.feed_line(line)
        if until_decided and stream.tool_decided:
            break
    return stream


def stream_event(event: dict[str, Any], parent: str | None = None) -> dict[str, Any]:
    return {"type": "stream_event", "event": event, "parent_tool_use_id": parent}


def message_start(message_id: str, usage: dict[str, int], model: str | None) -> dict[str, Any]:
    message: dict[str, Any] = {"id": message_id, "usage": usage}
    if model is not None:
        message["model"] = model
    return stream_event({"type": "message_start", "message": message})


def test_stopped_at_the_skill_call_the_cost_is_estimated_from_message_start() -> None:
    stream = fed(ClaudeStream(PRICES), recorded("route"), until_decided=True)
    assert stream.skill == "jira-search"
    assert stream.tool_calls == ["Skill(jira-search)"]
    assert stream.result is None
    assert stream.tokens == FIRST_TURN
    expected = PRICES.cost_usd(DEFAULT_MODEL, FIRST_TURN)
    assert expected is not None
    assert expected > 0.0
    assert stream.cost_usd == pytest.approx(expected)
    assert stream.cost_is_estimated


def test_message_delta_usage_updates_the_estimate() -> None:
    stream = fed(ClaudeStream(PRICES), recorded("route", until_pause=True))
    first_turn = TokenUsage(input=3, output=58, cache_read=15006, cache_write=2093)
    assert stream.tokens == first_turn
    assert stream.cost_usd == pytest.approx(PRICES.cost_usd(DEFAULT_MODEL, first_turn))


def test_the_reported_total_cost_wins_over_the_estimate() -> None:
    stream = fed(ClaudeStream(PRICES), recorded("route"))
    assert stream.tokens == TokenUsage(input=9, output=99, cache_read=32105, cache_write=2905)
    assert stream.reported_cost_usd == pytest.approx(0.0187)
    assert stream.cost_usd == pytest.approx(0.0187)
    assert not stream.cost_is_estimated
    assert stream.estimated_cost_usd > 0.0  # both turns streamed, but the report is the truth
    assert stream.estimated_cost_usd != pytest.approx(0.0187)
    assert stream.text == "Done: followed the jira-search skill."


@pytest.mark.parametrize(
    ("scenario", "skill", "decided", "tool_calls", "cost"),
    [
        ("route", "jira-search", True, ["Skill(jira-search)"], 0.0187),
        ("route_assistant_only", "jira-search", True, ["Skill(jira-search)"], 0.011),
        ("no_skill", None, False, [], 0.0094),
        ("clarification", None, False, [], 0.0102),
        (
            "other_tool",
            None,
            True,
            ['Bash(jira issue create --type Bug --summary "Login crash")'],
            None,
        ),
        ("error_result", None, False, [], 0.0),
    ],
)
def test_each_recorded_stream_decides_as_expected(
    scenario: str, skill: str | None, decided: bool, tool_calls: list[str], cost: float | None
) -> None:
    stream = fed(ClaudeStream(PRICES), recorded(scenario))
    assert (stream.skill, stream.tool_decided, stream.tool_calls) == (skill, decided, tool_calls)
    assert stream.session_id == "5f6e8a1c-2b3d-4e5f-8a9b-0c1d2e3f4a5b"
    assert stream.model == DEFAULT_MODEL
    if cost is not None:
        assert stream.cost_usd == pytest.approx(cost)
    assert stream.malformed_lines == 0


def test_malformed_and_blank_lines_are_counted_and_skipped() -> None:
    stream = fed(ClaudeStream(PRICES), ["", "   ", *recorded("malformed"), "[1, 2]"])
    assert stream.skill == "jira-search"
    assert stream.malformed_lines == 3  # two raw lines in the recording, and a JSON list


def test_the_model_falls_back_to_the_init_event_then_the_requested_model() -> None:
    usage = {"input_tokens": 1000, "output_tokens": 100}
    tokens = TokenUsage(input=1000, output=100)
    init = {"type": "system", "subtype": "init", "model": "claude-opus-4-1-20250805"}
    from_init = fed(
        ClaudeStream(PRICES), [json.dumps(init), json.dumps(message_start("m", usage, None))]
    )
    assert from_init.cost_usd == pytest.approx(PRICES.cost_usd("claude-opus-4-1", tokens))
    requested = ClaudeStream(PRICES, requested_model="claude-haiku-4-5")
    requested.feed(message_start("m", usage, None))
    assert requested.cost_usd == pytest.approx(PRICES.cost_usd("claude-haiku-4-5", tokens))


@pytest.mark.parametrize("model", ["sonnet", "haiku", "opus", "mystery-model"])
def test_a_model_without_a_price_gives_no_estimate(model: str) -> None:
    stream = fed(ClaudeStream(PRICES), recorded("route", model=model), until_decided=True)
    assert stream.tokens == FIRST_TURN
    assert stream.cost_usd == 0.0
    assert stream.cost_is_estimated


def test_without_a_price_table_there_is_no_estimate() -> None:
    stream = fed(ClaudeStream(), recorded("route"), until_decided=True)
    assert stream.tokens == FIRST_TURN
    assert stream.cost_usd == 0.0


def test_a_subagent_counts_at_its_own_price_but_does_not_decide_or_rename_the_model() -> None:
    stream = ClaudeStream(PRICES)
    stream.feed(message_start("main", {"input_tokens": 1000}, "claude-sonnet-4-5-20250929"))
    stream.feed(
        {
            "type": "assistant",
            "parent_tool_use_id": "toolu_parent",
            "message": {
                "id": "sub",
                "model": "claude-haiku-4-5-20251001",
                "usage": {"input_tokens": 2000, "output_tokens": 10},
                "content": [{"type": "tool_use", "id": "t", "name": "Bash", "input": {}}],
            },
        }
    )
    assert not stream.tool_decided
    assert stream.model == "claude-sonnet-4-5-20250929"
    assert stream.tokens == TokenUsage(input=3000, output=10)
    expected = (PRICES.cost_usd("claude-sonnet-4-5", TokenUsage(input=1000)) or 0.0) + (
        PRICES.cost_usd("claude-haiku-4-5", TokenUsage(input=2000, output=10)) or 0.0
    )
    assert stream.cost_usd == pytest.approx(expected)


def test_the_skill_name_is_read_before_the_streamed_input_is_complete() -> None:
    stream = ClaudeStream()
    block = {"type": "tool_use", "id": "t1", "name": "Skill", "input": {}}
    stream.feed(stream_event({"type": "content_block_start", "index": 0, "content_block": block}))
    for chunk in ['{"skill": "jira-se', 'arch", "args": "assignee = curr']:
        delta = {"type": "input_json_delta", "partial_json": chunk}
        stream.feed(stream_event({"type": "content_block_delta", "index": 0, "delta": delta}))
    assert stream.tool_decided
    assert stream.skill == "jira-search"


def test_a_subagent_tool_call_does_not_decide() -> None:
    stream = ClaudeStream()
    stream.feed(
        {
            "type": "assistant",
            "parent_tool_use_id": "toolu_parent",
            "message": {"content": [{"type": "tool_use", "id": "t", "name": "Bash", "input": {}}]},
        }
    )
    assert not stream.tool_decided


def test_skill_inputs_and_tool_calls_are_described_in_one_line() -> None:
    assert skill_name_in({"command": "/jira-issue"}) == "jira-issue"
    assert skill_name_in({"skill": "  "}) is None
    assert describe_tool_call("Skill", {"skill": "jira-issue"}) == "Skill(jira-issue)"
    assert describe_tool_call("Read", {"file_path": "a.md"}) == "Read(a.md)"
    assert describe_tool_call("Todo", {"b": 1, "a": 2}) == 'Todo({"a": 2, "b": 1})'
    assert describe_tool_call("Todo", {}) == "Todo"


def test_the_init_event_names_the_version_and_every_skill_the_session_knows() -> None:
    stream = ClaudeStream()
    stream.feed(
        {
            "type": "system",
            "subtype": "init",
            "claude_code_version": "2.1.332",
            "model": "claude-opus-5-5",
            "skills": ["jira-issue", "dataviz"],
            "slash_commands": ["jira-issue", "security-review", 7],
        }
    )
    assert stream.claude_code_version == "2.1.332"
    assert stream.session_skills == {"jira-issue", "dataviz", "security-review"}
    assert stream.model == "claude-opus-5-5"


def test_api_retry_events_become_retry_events_typed_like_the_api() -> None:
    stream = ClaudeStream()
    for status, error, delay in (
        (429, "rate_limit", 602),
        (529, "overloaded", 1200),
        (418, "x", 5),
    ):
        stream.feed(
            {
                "type": "system",
                "subtype": "api_retry",
                "error_status": status,
                "error": error,
                "retry_delay_ms": delay,
            }
        )
    stream.feed({"type": "system", "subtype": "api_retry", "error": "connection_refused"})
    assert [(e.error_type, e.http_status, e.wait_s) for e in stream.retry_events] == [
        ("rate_limit_error", 429, 0.602),
        ("overloaded_error", 529, 1.2),
        ("http_418", 418, 0.005),
        ("connection_refused", None, 0.0),
    ]


def test_an_api_error_result_carries_its_status() -> None:
    stream = ClaudeStream()
    stream.feed({"type": "result", "is_error": True, "subtype": "success", "api_error_status": 529})
    assert stream.api_error_status == 529
    assert ClaudeStream().api_error_status is None


def _tool_use(name: str, tool_input: dict[str, Any]) -> dict[str, Any]:
    block = {"type": "tool_use", "id": "toolu_1", "name": name, "input": tool_input}
    return {"type": "assistant", "message": {"id": "m1", "content": [block]}}


@pytest.mark.parametrize(
    ("path", "chosen"),
    [
        ("/p/.claude/skills/search/SKILL.md", "jira-search"),
        ("/p/.claude/skills/search/reference.md", None),
    ],
)
def test_a_first_read_asks_the_resolver_which_skill_it_chooses(
    path: str, chosen: str | None
) -> None:
    resolved = {"/p/.claude/skills/search/SKILL.md": "jira-search"}
    stream = ClaudeStream(read_resolver=resolved.get)
    stream.feed(_tool_use("Read", {"file_path": path}))
    assert stream.tool_decided
    assert stream.skill == chosen
    assert stream.tool_calls == [f"Read({path})"]


def test_without_a_resolver_a_read_is_just_another_tool() -> None:
    stream = ClaudeStream()
    stream.feed(_tool_use("Read", {"file_path": "/p/.claude/skills/search/SKILL.md"}))
    assert stream.tool_decided
    assert stream.skill is None
