"""The `openai` router: any OpenAI-compatible chat-completions server, through the `openai` SDK.

Same prompt as the `anthropic` router (routing instructions and `<available_skills>` as the
system message, a `Skill` function whose argument is an enum of the names), sent as function
calling. The route is the first `Skill` tool call; a text answer that asks is a clarification.
Works with OpenAI itself and with local servers (vLLM, Ollama, llama.cpp) via `base_url`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from routelens.errors import InputError
from routelens.extras import install_hint
from routelens.routers.api_call import ApiCaller
from routelens.routers.base import RouteRequest, RouteResult, TokenUsage
from routelens.routers.limits import (
    RateLimitSnapshot,
    parse_rate_limit_headers,
)
from routelens.routers.prompt import (
    ROUTING_INSTRUCTIONS,
    SKILL_TOOL_DESCRIPTION,
    SKILL_TOOL_NAME,
    available_skills_block,
    conversation,
    skill_input_schema,
    text_answer,
)
from routelens.routers.sdk_errors import classify_sdk_error

OPENAI_ROUTER_NAME = "openai"
DEFAULT_MAX_TOKENS = 256
# local OpenAI-compatible servers ignore the key, but the SDK insists on one
PLACEHOLDER_KEY_FOR_LOCAL_SERVERS = "not-needed"

try:  # the SDK is an optional extra (install_hint('openai'))
    import openai
except ImportError:  # pragma: no cover - exercised only without the extra
    openai = None  # type: ignore[assignment]


class OpenAIRouter:
    """Routes through `/v1/chat/completions` with function calling.

    >>> router = OpenAIRouter(model="gpt-4.1-mini")  # doctest: +SKIP
    """

    name = OPENAI_ROUTER_NAME

    def __init__(
        self,
        model: str | None = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float | None = None,
        timeout_s: float = 60.0,
        caller: ApiCaller | None = None,
    ) -> None:
        if openai is None:
            raise InputError(
                "--router",
                f"the openai router needs the SDK: {install_hint('openai')}",
                field="router",
            )
        if not model:
            raise InputError(
                "--model",
                "the openai router needs --model (e.g. gpt-4.1-mini, "
                "or the name your server serves)",
                field="model",
            )
        self.model: str | None = model
        url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key and url is None:
            raise InputError(
                "OPENAI_API_KEY",
                "no API key: set OPENAI_API_KEY, or base_url for a local server",
                field="api_key",
            )
        self._client = openai.AsyncOpenAI(
            api_key=key or PLACEHOLDER_KEY_FOR_LOCAL_SERVERS,
            base_url=url,
            max_retries=0,
            timeout=timeout_s,
        )
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.caller = caller or ApiCaller()

    def request_body(self, request: RouteRequest) -> dict[str, Any]:
        """The chat-completions request for one attempt."""
        system = f"{ROUTING_INSTRUCTIONS}\n\n{available_skills_block(request.skills)}"
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "messages": [
                {"role": "system", "content": system},
                *({"role": t.role, "content": t.content} for t in conversation(request)),
            ],
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": SKILL_TOOL_NAME,
                        "description": SKILL_TOOL_DESCRIPTION,
                        "parameters": skill_input_schema(request.skills),
                    },
                }
            ],
            "tool_choice": "auto",
        }
        if self.temperature is not None:
            body["temperature"] = self.temperature
        return body

    async def _call_once(self, body: Mapping[str, Any]) -> tuple[Any, RateLimitSnapshot]:
        try:
            raw = await self._client.chat.completions.with_raw_response.create(**body)
        except openai.APIError as error:
            raise classify_sdk_error(error, openai) from None
        completion = raw.parse()
        snapshot = parse_rate_limit_headers(dict(raw.headers))
        if completion.usage is not None:  # OpenAI's token limit counts prompt and completion
            snapshot = replace(snapshot, input_tokens_used=completion.usage.total_tokens)
        return completion, snapshot

    async def route(self, request: RouteRequest) -> RouteResult:
        """One routed attempt, retried on 429/5xx/timeouts within the retry policy."""
        body = self.request_body(request)
        completion, stats = await self.caller.call(lambda: self._call_once(body))
        measured = self.caller.measured(
            _tokens(completion.usage), stats, self.model, completion.model
        )
        if not completion.choices:
            return text_answer("", **measured)
        message = completion.choices[0].message
        calls = [call for call in (message.tool_calls or []) if call.type == "function"]
        tool_calls = tuple(f"{c.function.name}({c.function.arguments})" for c in calls)
        for call in calls:
            if call.function.name == SKILL_TOOL_NAME:
                skill = _skill_argument(call.function.arguments)
                return RouteResult(
                    skill=skill,
                    response_text=message.content or "",
                    tool_calls=tool_calls,
                    **measured,
                )
        return replace(text_answer(message.content or "", **measured), tool_calls=tool_calls)

    async def write_text(self, system: str, prompt: str, *, max_tokens: int) -> str:
        """A plain text answer to `prompt` (no tools), through the same client, rate limiter
        and retries as a routed attempt: how `routelens summarize` asks for its summary."""
        return (await self.write(system, prompt, max_tokens=max_tokens)).response_text

    async def write(
        self, system: str, prompt: str, *, max_tokens: int, cache_system: bool = False
    ) -> RouteResult:
        """`write_text` with what the answer cost, as a `RouteResult` without a skill. The
        API caches a repeated prompt prefix by itself, so `cache_system` changes nothing."""
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": max_tokens,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": prompt},
            ],
        }
        if self.temperature is not None:
            body["temperature"] = self.temperature
        completion, stats = await self.caller.call(lambda: self._call_once(body))
        measured = self.caller.measured(
            _tokens(completion.usage), stats, self.model, completion.model
        )
        text = str(completion.choices[0].message.content or "") if completion.choices else ""
        return RouteResult(skill=None, response_text=text, **measured)

    async def aclose(self) -> None:
        """Close the HTTP client and the limiter's connections."""
        await self._client.close()
        await self.caller.aclose()


def _tokens(usage: Any) -> TokenUsage:
    """Tokens of a chat completion: the cached share of the prompt counted as cache reads."""
    if usage is None:
        return TokenUsage()
    cached = 0
    if usage.prompt_tokens_details is not None:
        cached = usage.prompt_tokens_details.cached_tokens or 0
    return TokenUsage(
        input=usage.prompt_tokens - cached, output=usage.completion_tokens, cache_read=cached
    )


def _skill_argument(arguments: str) -> str | None:
    try:
        parsed = json.loads(arguments)
    except json.JSONDecodeError:
        return None
    value = parsed.get("skill") if isinstance(parsed, dict) else None
    return str(value) if value is not None else None
