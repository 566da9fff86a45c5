"""The Anthropic Messages API wire format: response builders, errors, simulated prompt caching.

Shapes follow the public API reference: a Message body with `content` blocks and `usage`,
errors as `{"type": "error", "error": {"type", "message"}, "request_id"}`, a `request-id`
header on every answer and `anthropic-ratelimit-*` headers with RFC 3339 reset times. Streamed
answers and Claude Code's skills listing are in `anthropic_stream`.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tests.fakes.anthropic_stream import anthropic_streamed, skill_names_from_listing
from tests.fakes.exchange import (
    FakeResponse,
    RecordedRequest,
    answers_a_tool_call,
    choose_skill,
    clarifying_question,
    estimate_tokens,
    last_user_text,
    random_id,
    rfc3339_after,
)

DEFAULT_MODEL = "claude-sonnet-4-5"
SKILL_TOOL = "Skill"
CACHE_TTL_S = {"5m": 300.0, "1h": 3600.0}
MAX_CACHE_BREAKPOINTS = 4
FOLLOW_UP_ANSWER = "Done."
# Generous static limits reported when the server does not enforce a request rate.
REQUESTS_LIMIT = 4000
INPUT_TOKENS_LIMIT = 2_000_000
OUTPUT_TOKENS_LIMIT = 400_000


def anthropic_ratelimit_headers(
    *,
    requests_limit: int = REQUESTS_LIMIT,
    requests_remaining: int = REQUESTS_LIMIT - 1,
    requests_reset_s: float = 60.0 / REQUESTS_LIMIT,
    input_tokens: int = 0,
    output_tokens: int = 0,
) -> dict[str, str]:
    """The `anthropic-ratelimit-*` family: requests, input, output and combined tokens."""
    input_left = max(INPUT_TOKENS_LIMIT - input_tokens, 0)
    output_left = max(OUTPUT_TOKENS_LIMIT - output_tokens, 0)
    token_reset = rfc3339_after(1.0)
    return {
        "anthropic-ratelimit-requests-limit": str(requests_limit),
        "anthropic-ratelimit-requests-remaining": str(requests_remaining),
        "anthropic-ratelimit-requests-reset": rfc3339_after(requests_reset_s),
        "anthropic-ratelimit-input-tokens-limit": str(INPUT_TOKENS_LIMIT),
        "anthropic-ratelimit-input-tokens-remaining": str(input_left),
        "anthropic-ratelimit-input-tokens-reset": token_reset,
        "anthropic-ratelimit-output-tokens-limit": str(OUTPUT_TOKENS_LIMIT),
        "anthropic-ratelimit-output-tokens-remaining": str(output_left),
        "anthropic-ratelimit-output-tokens-reset": token_reset,
        "anthropic-ratelimit-tokens-limit": str(INPUT_TOKENS_LIMIT + OUTPUT_TOKENS_LIMIT),
        "anthropic-ratelimit-tokens-remaining": str(input_left + output_left),
        "anthropic-ratelimit-tokens-reset": token_reset,
    }


def anthropic_message(
    content: Sequence[Mapping[str, Any]],
    stop_reason: str,
    *,
    model: str = DEFAULT_MODEL,
    input_tokens: int = 512,
    output_tokens: int = 24,
    cache_creation_input_tokens: int = 0,
    cache_read_input_tokens: int = 0,
    cache_ttl: str = "5m",
) -> FakeResponse:
    """A 200 carrying a Message with the given content blocks and usage."""
    request_id = random_id("req_01")
    body = {
        "id": random_id("msg_01"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [dict(block) for block in content],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "cache_creation_input_tokens": cache_creation_input_tokens,
            "cache_read_input_tokens": cache_read_input_tokens,
            "cache_creation": {
                "ephemeral_5m_input_tokens": cache_creation_input_tokens
                if cache_ttl == "5m"
                else 0,
                "ephemeral_1h_input_tokens": cache_creation_input_tokens
                if cache_ttl == "1h"
                else 0,
            },
            "output_tokens": output_tokens,
            "service_tier": "standard",
        },
    }
    billed_input = input_tokens + cache_creation_input_tokens
    headers = {
        "request-id": request_id,
        **anthropic_ratelimit_headers(input_tokens=billed_input, output_tokens=output_tokens),
    }
    return FakeResponse(status=200, body=body, headers=headers)


def anthropic_tool_use(
    skill: str,
    *,
    model: str = DEFAULT_MODEL,
    input_tokens: int = 512,
    output_tokens: int = 24,
    cache_creation_input_tokens: int = 0,
    cache_read_input_tokens: int = 0,
    text_before: str | None = None,
    tool_name: str = SKILL_TOOL,
) -> FakeResponse:
    """A 200 where the model calls the Skill tool with `{"skill": skill}`."""
    content: list[dict[str, Any]] = []
    if text_before is not None:
        content.append({"type": "text", "text": text_before})
    content.append(
        {
            "type": "tool_use",
            "id": random_id("toolu_01"),
            "name": tool_name,
            "input": {"skill": skill},
        }
    )
    return anthropic_message(
        content,
        "tool_use",
        model=model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_creation_input_tokens=cache_creation_input_tokens,
        cache_read_input_tokens=cache_read_input_tokens,
    )


def anthropic_text(
    text: str,
    *,
    model: str = DEFAULT_MODEL,
    input_tokens: int = 512,
    output_tokens: int | None = None,
    cache_creation_input_tokens: int = 0,
    cache_read_input_tokens: int = 0,
) -> FakeResponse:
    """A 200 where the model answers in text and stops (`stop_reason: end_turn`)."""
    return anthropic_message(
        [{"type": "text", "text": text}],
        "end_turn",
        model=model,
        input_tokens=input_tokens,
        output_tokens=estimate_tokens(text) if output_tokens is None else output_tokens,
        cache_creation_input_tokens=cache_creation_input_tokens,
        cache_read_input_tokens=cache_read_input_tokens,
    )


def anthropic_error(
    status: int,
    type: str,  # the API's own field name; kept so calls read like the error body
    message: str,
    *,
    retry_after: float | None = None,
    headers: Mapping[str, str] | None = None,
) -> FakeResponse:
    """An error in the documented shape, with a `request-id` header matching the body."""
    request_id = random_id("req_01")
    body = {"type": "error", "error": {"type": type, "message": message}, "request_id": request_id}
    all_headers = {"request-id": request_id}
    if retry_after is not None:
        all_headers["retry-after"] = str(math.ceil(retry_after))
    all_headers.update(headers or {})
    return FakeResponse(status=status, body=body, headers=all_headers)


def anthropic_rate_limit_error(
    retry_after: float = 1.0,
    *,
    requests_limit: int = 50,
    message: str = "Number of requests has exceeded your per-minute rate limit",
) -> FakeResponse:
    """429 `rate_limit_error` with `retry-after` and request headers showing none remaining."""
    headers = {
        "anthropic-ratelimit-requests-limit": str(requests_limit),
        "anthropic-ratelimit-requests-remaining": "0",
        "anthropic-ratelimit-requests-reset": rfc3339_after(retry_after),
    }
    return anthropic_error(
        429, "rate_limit_error", message, retry_after=retry_after, headers=headers
    )


def anthropic_overloaded_error(message: str = "Overloaded") -> FakeResponse:
    """529 `overloaded_error`: the API is busy for everyone."""
    return anthropic_error(529, "overloaded_error", message)


def anthropic_api_error(message: str = "Internal server error") -> FakeResponse:
    """500 `api_error`: something broke inside the API."""
    return anthropic_error(500, "api_error", message)


def anthropic_invalid_request_error(message: str = "Invalid request") -> FakeResponse:
    """400 `invalid_request_error`: the request itself is wrong."""
    return anthropic_error(400, "invalid_request_error", message)


def anthropic_authentication_error(message: str = "invalid x-api-key") -> FakeResponse:
    """401 `authentication_error`: the API key is missing or wrong."""
    return anthropic_error(401, "authentication_error", message)


def anthropic_not_found_error(message: str = "Not found") -> FakeResponse:
    """404 `not_found_error`: no such endpoint or resource."""
    return anthropic_error(404, "not_found_error", message)


@dataclass(frozen=True)
class _Breakpoint:
    prefix_key: str
    prefix_tokens: int
    ttl: str


@dataclass(frozen=True)
class CacheUsage:
    """How one request's input tokens split between uncached, written and read."""

    input_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int
    cache_ttl: str = "5m"


class PromptCache:
    """Simulated prompt caching: prefixes ending at a `cache_control` block, kept for their TTL.

    The prefix runs in the API's order (tools, then system, then messages). The longest
    live prefix is reported as read, the rest up to the last breakpoint as written, and
    `input_tokens` counts only what follows the last breakpoint. A hit refreshes the TTL.
    """

    def __init__(self) -> None:
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def account(self, body: Mapping[str, Any]) -> CacheUsage:
        """Split the request's input tokens and remember its cached prefixes."""
        total, breakpoints = _prefix_breakpoints(body)
        if not breakpoints:
            return CacheUsage(total, 0, 0)
        now = time.monotonic()
        with self._lock:
            read = 0
            for point in breakpoints:
                if self._expiry.get(point.prefix_key, 0.0) > now:
                    read = point.prefix_tokens
            for point in breakpoints:
                self._expiry[point.prefix_key] = now + CACHE_TTL_S[point.ttl]
        cached = breakpoints[-1].prefix_tokens
        return CacheUsage(total - cached, cached - read, read, breakpoints[-1].ttl)


def count_cache_breakpoints(body: Mapping[str, Any]) -> int:
    """How many blocks carry `cache_control` (the API allows at most four)."""
    return len(_prefix_breakpoints(body)[1])


def _segments(body: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Every block of the prompt in cache order, as (fingerprint, cache_control or None)."""
    segments: list[tuple[str, Any]] = []
    for tool in body.get("tools") or []:
        segments.append(_fingerprint(tool))
    system = body.get("system")
    if isinstance(system, str):
        segments.append((system, None))
    elif isinstance(system, list):
        segments.extend(_fingerprint(block) for block in system)
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            segments.append((f"{message.get('role')}: {content}", None))
        elif isinstance(content, list):
            segments.extend(_fingerprint(block) for block in content)
    return segments


def _fingerprint(block: Any) -> tuple[str, Any]:
    if not isinstance(block, Mapping):
        return json.dumps(block, sort_keys=True), None
    without_marker = {key: value for key, value in block.items() if key != "cache_control"}
    if set(without_marker) == {"type", "text"}:
        return str(without_marker["text"]), block.get("cache_control")
    return json.dumps(without_marker, sort_keys=True), block.get("cache_control")


def _prefix_breakpoints(body: Mapping[str, Any]) -> tuple[int, list[_Breakpoint]]:
    digest = hashlib.sha256(str(body.get("model")).encode())
    total = 0
    breakpoints: list[_Breakpoint] = []
    for text, cache_control in _segments(body):
        digest.update(b"\x00" + text.encode())
        total += estimate_tokens(text)
        if isinstance(cache_control, Mapping) and cache_control.get("type") == "ephemeral":
            ttl = "1h" if cache_control.get("ttl") == "1h" else "5m"
            breakpoints.append(_Breakpoint(digest.copy().hexdigest(), total, ttl))
    return total, breakpoints


def skill_names_from_tools(tools: Any) -> list[str]:
    """The enum of `skill` in the input schema of the tool named Skill, if there is one."""
    for tool in tools or []:
        if isinstance(tool, Mapping) and tool.get("name") == SKILL_TOOL:
            schema = tool.get("input_schema") or {}
            names = schema.get("properties", {}).get("skill", {}).get("enum", [])
            return [str(name) for name in names]
    return []


def anthropic_default_response(request: RecordedRequest, cache: PromptCache) -> FakeResponse:
    """Route like a tiny model: call Skill with the best-matching skill, else ask a question.

    The skills are the Skill tool's enum, else the names in Claude Code's listing. A turn
    that answers a tool call gets a short closing text. `stream: true` gets the same answer
    as server-sent events.
    """
    if "x-api-key" not in request.headers and "authorization" not in request.headers:
        return anthropic_authentication_error("x-api-key header is required")
    body = request.body
    if not isinstance(body, Mapping):
        return anthropic_invalid_request_error("The request body is not valid JSON.")
    for required in ("model", "messages", "max_tokens"):
        if required not in body:
            return anthropic_invalid_request_error(f"{required}: Field required")
    breakpoints = count_cache_breakpoints(body)
    if breakpoints > MAX_CACHE_BREAKPOINTS:
        return anthropic_invalid_request_error(
            f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {breakpoints}."
        )
    response = _default_message(body, cache.account(body))
    return anthropic_streamed(response) if body.get("stream") is True else response


def _default_message(body: Mapping[str, Any], usage: CacheUsage) -> FakeResponse:
    common: dict[str, Any] = {
        "model": str(body["model"]),
        "input_tokens": usage.input_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "cache_ttl": usage.cache_ttl,
    }
    if answers_a_tool_call(body["messages"]):
        return anthropic_message(
            [{"type": "text", "text": FOLLOW_UP_ANSWER}],
            "end_turn",
            output_tokens=estimate_tokens(FOLLOW_UP_ANSWER),
            **common,
        )
    names = skill_names_from_tools(body.get("tools")) or skill_names_from_listing(body["messages"])
    skill = choose_skill(last_user_text(body["messages"]), names)
    if skill is None:
        question = clarifying_question(names)
        return anthropic_message(
            [{"type": "text", "text": question}],
            "end_turn",
            output_tokens=estimate_tokens(question),
            **common,
        )
    tool_use = {
        "type": "tool_use",
        "id": random_id("toolu_01"),
        "name": SKILL_TOOL,
        "input": {"skill": skill},
    }
    return anthropic_message(
        [tool_use], "tool_use", output_tokens=estimate_tokens(json.dumps(tool_use)), **common
    )


def anthropic_count_tokens(request: RecordedRequest) -> FakeResponse:
    """`POST /v1/messages/count_tokens`: the request's input tokens by the fake tokenizer."""
    if not isinstance(request.body, Mapping) or "messages" not in request.body:
        return anthropic_invalid_request_error("messages: Field required")
    total, _ = _prefix_breakpoints(request.body)
    return FakeResponse(
        status=200, body={"input_tokens": total}, headers={"request-id": random_id("req_01")}
    )
