"""The streaming Messages API and Claude Code's skills listing, for the fake API server.

A streamed Message is the documented server-sent events: `message_start`, `ping`, then per
block `content_block_start`, `content_block_delta` (`text_delta` / `input_json_delta`) and
`content_block_stop`, then `message_delta` (stop reason, output tokens) and `message_stop`.
Errors are never streamed: the API answers them as JSON before any event.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

from tests.fakes.exchange import FakeResponse, SseEvent, SsePause

# Claude Code lists skills in a message, each line `- <name>: <description>` (`- <folder>
# (<name>): ...` when they differ), after this lead-in
SKILLS_LISTING_LEAD_IN = "skills are available for use with the Skill tool"
STREAM_CHUNK_CHARS = 12


def anthropic_stream_events(
    message: Mapping[str, Any], *, pause_after_first_block_s: float = 0.0
) -> tuple[SseEvent | SsePause, ...]:
    """The server-sent events that stream `message` (a Message body), in the documented order.

    Text arrives as `text_delta`s and tool input as `input_json_delta`s of a few characters
    each; `message_start` reports the input tokens and one output token, `message_delta` the
    final output tokens. `pause_after_first_block_s` stalls the stream after the first
    block's `content_block_stop` (a model that keeps going after its first decision).
    """
    usage = dict(message["usage"])
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
    start["usage"] = {**usage, "output_tokens": 1}
    events: list[SseEvent | SsePause] = [
        SseEvent("message_start", {"type": "message_start", "message": start}),
        SseEvent("ping", {"type": "ping"}),
    ]
    for index, block in enumerate(message["content"]):
        events.extend(_block_events(index, block))
        if index == 0 and pause_after_first_block_s > 0:
            events.append(SsePause(pause_after_first_block_s))
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    final_usage = {"output_tokens": usage["output_tokens"]}
    events.append(
        SseEvent("message_delta", {"type": "message_delta", "delta": delta, "usage": final_usage})
    )
    events.append(SseEvent("message_stop", {"type": "message_stop"}))
    return tuple(events)


def _chunks(text: str) -> list[str]:
    return [text[i : i + STREAM_CHUNK_CHARS] for i in range(0, len(text), STREAM_CHUNK_CHARS)]


def _block_events(index: int, block: Mapping[str, Any]) -> list[SseEvent]:
    if block["type"] == "tool_use":
        opening = {**block, "input": {}}
        deltas = [
            {"type": "input_json_delta", "partial_json": piece}
            for piece in _chunks(json.dumps(block["input"]))
        ]
    else:
        opening = {**block, "text": ""}
        deltas = [{"type": "text_delta", "text": piece} for piece in _chunks(block["text"])]
    events = [
        SseEvent(
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": opening},
        )
    ]
    events += [
        SseEvent(
            "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        )
        for delta in deltas
    ]
    events.append(SseEvent("content_block_stop", {"type": "content_block_stop", "index": index}))
    return events


def anthropic_streamed(
    response: FakeResponse, *, pause_after_first_block_s: float = 0.0
) -> FakeResponse:
    """A 200 Message answer turned into its event stream (same headers); errors stay JSON."""
    if response.status != 200 or not isinstance(response.body, Mapping):
        return response
    events = anthropic_stream_events(
        response.body, pause_after_first_block_s=pause_after_first_block_s
    )
    return dataclasses.replace(response, body=None, stream=events)


def skill_names_from_listing(messages: Any) -> list[str]:
    """The skill names a Claude Code listing offers (in a system- or user-role message).

    Each entry starts a line `- <name>: ` after the lead-in; a skill whose folder differs from
    its name is listed `- <folder> (<name>): ` and is called by its folder name. Past its
    length budget Claude Code lists a skill by name alone (`- <name>`).
    """
    names: list[str] = []
    for message in messages or []:
        if not isinstance(message, Mapping):
            continue
        for text in _texts(message.get("content")):
            _, lead_in, listing = text.partition(SKILLS_LISTING_LEAD_IN)
            if not lead_in:
                continue
            for line in listing.splitlines():
                match = _LISTING_ENTRY.match(line)
                if match:
                    names.append(match.group(1))
    return names


_LISTING_ENTRY = re.compile(r"- ([\w:.-]+)(?: \([^)]*\))?(?:: |$)")


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    return [
        str(block.get("text", ""))
        for block in content or []
        if isinstance(block, Mapping) and block.get("type") == "text"
    ]
