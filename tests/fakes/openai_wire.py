"""The OpenAI chat completions wire format: function-calling answers, errors, rate-limit headers.

Shapes follow the public API reference: a `chat.completion` object whose message carries
`tool_calls` with JSON-string `arguments`, errors as `{"error": {"message", "type", "param",
"code"}}`, an `x-request-id` header and `x-ratelimit-*` headers with Go-style durations.
Prompt caching is not simulated here: `cached_tokens` is whatever the builder is given.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from typing import Any

from tests.fakes.exchange import (
    FakeResponse,
    RecordedRequest,
    choose_skill,
    clarifying_question,
    estimate_tokens,
    last_user_text,
    random_id,
)

DEFAULT_MODEL = "gpt-4o-mini"
SKILL_TOOL = "Skill"
REQUESTS_LIMIT = 5000
TOKENS_LIMIT = 2_000_000


def go_duration(seconds: float) -> str:
    """A duration the way OpenAI's reset headers spell it: "12ms", "1s", "1.5s", "6m0s"."""
    if seconds < 1:
        milliseconds = max(round(seconds * 1000), 0)
        return f"{milliseconds}ms" if milliseconds else "0s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    secs_text = f"{secs:.3f}".rstrip("0").rstrip(".")
    if hours:
        return f"{int(hours)}h{int(minutes)}m{secs_text}s"
    if minutes:
        return f"{int(minutes)}m{secs_text}s"
    return f"{secs_text}s"


def openai_ratelimit_headers(
    *,
    requests_limit: int = REQUESTS_LIMIT,
    requests_remaining: int = REQUESTS_LIMIT - 1,
    requests_reset_s: float = 60.0 / REQUESTS_LIMIT,
    tokens_used: int = 0,
) -> dict[str, str]:
    """The `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` headers."""
    return {
        "x-ratelimit-limit-requests": str(requests_limit),
        "x-ratelimit-remaining-requests": str(requests_remaining),
        "x-ratelimit-reset-requests": go_duration(requests_reset_s),
        "x-ratelimit-limit-tokens": str(TOKENS_LIMIT),
        "x-ratelimit-remaining-tokens": str(max(TOKENS_LIMIT - tokens_used, 0)),
        "x-ratelimit-reset-tokens": go_duration(tokens_used * 60.0 / TOKENS_LIMIT),
    }


def _response_headers() -> dict[str, str]:
    return {"x-request-id": random_id("req_"), "openai-processing-ms": "1"}


def openai_chat_completion(
    message: Mapping[str, Any],
    finish_reason: str,
    *,
    model: str = DEFAULT_MODEL,
    prompt_tokens: int = 512,
    completion_tokens: int = 16,
    cached_tokens: int = 0,
) -> FakeResponse:
    """A 200 carrying one `chat.completion` choice with the given assistant message."""
    body = {
        "id": random_id("chatcmpl-", 29),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"refusal": None, "annotations": [], **message},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": random_id("fp_", 10),
    }
    headers = {
        **_response_headers(),
        **openai_ratelimit_headers(tokens_used=prompt_tokens + completion_tokens),
    }
    return FakeResponse(status=200, body=body, headers=headers)


def openai_tool_call(
    skill: str,
    *,
    model: str = DEFAULT_MODEL,
    prompt_tokens: int = 512,
    completion_tokens: int = 16,
    cached_tokens: int = 0,
    tool_name: str = SKILL_TOOL,
) -> FakeResponse:
    """A 200 where the model calls the Skill function with `{"skill": skill}`."""
    call = {
        "id": random_id("call_"),
        "type": "function",
        "function": {"name": tool_name, "arguments": json.dumps({"skill": skill})},
    }
    return openai_chat_completion(
        {"role": "assistant", "content": None, "tool_calls": [call]},
        "tool_calls",
        model=model,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cached_tokens=cached_tokens,
    )


def openai_text(
    text: str,
    *,
    model: str = DEFAULT_MODEL,
    prompt_tokens: int = 512,
    completion_tokens: int | None = None,
    cached_tokens: int = 0,
) -> FakeResponse:
    """A 200 where the model answers in text (`finish_reason: stop`)."""
    return openai_chat_completion(
        {"role": "assistant", "content": text},
        "stop",
        model=model,
        prompt_tokens=prompt_tokens,
        completion_tokens=estimate_tokens(text) if completion_tokens is None else completion_tokens,
        cached_tokens=cached_tokens,
    )


def openai_error(
    status: int,
    type: str,  # the API's own field name; kept so calls read like the error body
    message: str,
    code: str | None = None,
    retry_after: float | None = None,
    *,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> FakeResponse:
    """An error in the documented `{"error": {...}}` shape."""
    body = {"error": {"message": message, "type": type, "param": param, "code": code}}
    all_headers = _response_headers()
    if retry_after is not None:
        all_headers["retry-after"] = str(math.ceil(retry_after))
    all_headers.update(headers or {})
    return FakeResponse(status=status, body=body, headers=all_headers)


def openai_rate_limit_error(
    retry_after: float = 1.0,
    *,
    requests_limit: int = 500,
    message: str = "Rate limit reached for requests",
) -> FakeResponse:
    """429 `rate_limit_exceeded` with `retry-after` and no requests remaining."""
    headers = {
        **openai_ratelimit_headers(requests_limit=requests_limit, requests_remaining=0),
        "x-ratelimit-reset-requests": go_duration(retry_after),
    }
    return openai_error(
        429, "requests", message, "rate_limit_exceeded", retry_after, headers=headers
    )


def openai_server_error(
    message: str = "The server had an error while processing your request.",
) -> FakeResponse:
    """500 `server_error`."""
    return openai_error(500, "server_error", message)


def openai_authentication_error(message: str = "Incorrect API key provided.") -> FakeResponse:
    """401 with `code: invalid_api_key`, as the API answers a missing or wrong key."""
    return openai_error(401, "invalid_request_error", message, "invalid_api_key")


def openai_not_found_error(method: str, path: str) -> FakeResponse:
    """404 for an unknown URL, worded as the API words it."""
    return openai_error(404, "invalid_request_error", f"Invalid URL ({method} {path})")


def skill_names_from_functions(tools: Any) -> list[str]:
    """The enum of `skill` in the parameters of the function named Skill, if there is one."""
    for tool in tools or []:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if isinstance(function, Mapping) and function.get("name") == SKILL_TOOL:
            parameters = function.get("parameters") or {}
            names = parameters.get("properties", {}).get("skill", {}).get("enum", [])
            return [str(name) for name in names]
    return []


def openai_default_response(request: RecordedRequest) -> FakeResponse:
    """Route like a tiny model: call Skill with the best-matching skill, else ask a question."""
    if not request.headers.get("authorization", "").startswith("Bearer "):
        return openai_authentication_error("You didn't provide an API key.")
    body = request.body
    if not isinstance(body, Mapping):
        return openai_error(400, "invalid_request_error", "We could not parse the JSON body.")
    for required in ("model", "messages"):
        if required not in body:
            return openai_error(
                400,
                "invalid_request_error",
                f"Missing required parameter: '{required}'.",
                "missing_required_parameter",
                param=required,
            )
    prompt = json.dumps(body.get("tools") or []) + json.dumps(body["messages"])
    names = skill_names_from_functions(body.get("tools"))
    skill = choose_skill(last_user_text(body["messages"]), names)
    model = str(body["model"])
    if skill is None:
        return openai_text(
            clarifying_question(names), model=model, prompt_tokens=estimate_tokens(prompt)
        )
    return openai_tool_call(skill, model=model, prompt_tokens=estimate_tokens(prompt))
