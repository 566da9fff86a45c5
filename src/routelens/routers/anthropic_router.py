"""The `anthropic` router: the Messages API through the official SDK, as Claude Code asks it.

One request per attempt: the routing instructions and an `<available_skills>` block as the
system prompt (the block marked `cache_control` so repeated calls read it from the prompt
cache), a `Skill` tool whose input is an enum of the skill names, and the conversation. The
route is the first `Skill` tool call; a text answer that asks something is a clarification.
The SDK's own retries are off: `call_with_retries` retries, paces and records instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from routelens.errors import InputError
from routelens.extras import install_hint
from routelens.routers.api_call import ApiCaller
from routelens.routers.base import RouteRequest, RouteResult, TokenUsage
from routelens.routers.claude_code import build_prompt
from routelens.routers.claude_code_prompt import (
    ClaudeCodePrompt,
    render_body,
    route_from_content,
    sdk_arguments,
)
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

ANTHROPIC_ROUTER_NAME = "anthropic"
DEFAULT_ANTHROPIC_MODEL = "claude-sonnet-4-6"
DEFAULT_MAX_TOKENS = 256

try:  # the SDK is an optional extra (install_hint('anthropic'))
    import anthropic
except ImportError:  # pragma: no cover - exercised only without the extra
    anthropic = None  # type: ignore[assignment]


def _require_sdk() -> None:
    if anthropic is None:
        raise InputError(
            "--router",
            f"the anthropic router needs the SDK: {install_hint('anthropic')}",
            field="router",
        )


class AnthropicRouter:
    """Routes through the Messages API; usage, cost and rate limits are recorded per attempt.

    >>> router = AnthropicRouter(model="claude-sonnet-4-5")  # doctest: +SKIP
    """

    name = ANTHROPIC_ROUTER_NAME

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
        prompt_cache: bool = True,
        claude_code_prompt: ClaudeCodePrompt | None = None,
    ) -> None:
        _require_sdk()
        self.claude_code_prompt = claude_code_prompt
        if claude_code_prompt is not None:
            model = _model_of_prompt(claude_code_prompt, model)
        self.model: str | None = model or DEFAULT_ANTHROPIC_MODEL
        key = api_key or os.environ.get("ANTHROPIC_API_KEY")
        if not key:
            raise InputError(
                "ANTHROPIC_API_KEY",
                "no API key: set ANTHROPIC_API_KEY (or api_key under [router_options.anthropic])",
                field="api_key",
            )
        self._client = anthropic.AsyncAnthropic(
            api_key=key,
            base_url=base_url or os.environ.get("ANTHROPIC_BASE_URL") or None,
            max_retries=0,
            timeout=timeout_s,
        )
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.caller = caller or ApiCaller()
        self.prompt_cache = prompt_cache

    def request_body(self, request: RouteRequest) -> dict[str, Any]:
        """The Messages API request for one attempt (without model-independent headers)."""
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "system": [
                {"type": "text", "text": ROUTING_INSTRUCTIONS},
                {"type": "text", "text": available_skills_block(request.skills)},
            ],
            "tools": [
                {
                    "name": SKILL_TOOL_NAME,
                    "description": SKILL_TOOL_DESCRIPTION,
                    "input_schema": skill_input_schema(request.skills),
                }
            ],
            "tool_choice": {"type": "auto"},
            "messages": [
                {"role": turn.role, "content": turn.content} for turn in conversation(request)
            ],
        }
        if self.prompt_cache:
            # tools and system form the cached prefix; the skills block closes it
            body["system"][-1]["cache_control"] = {"type": "ephemeral"}
        if self.temperature is not None:
            # the SDK (2.x) no longer takes `temperature` as an argument; the API still reads
            # it from the body for the models that accept it
            body["extra_body"] = {"temperature": self.temperature}
        return body

    async def _call_once(self, body: Mapping[str, Any]) -> tuple[Any, RateLimitSnapshot]:
        try:
            raw = await self._client.messages.with_raw_response.create(**body)
        except anthropic.APIError as error:
            raise classify_sdk_error(error, anthropic) from None
        message = await raw.parse()
        usage = message.usage
        # the input-token limit counts uncached input and cache writes, not cache reads
        counted = usage.input_tokens + (usage.cache_creation_input_tokens or 0)
        snapshot = replace(parse_rate_limit_headers(dict(raw.headers)), input_tokens_used=counted)
        return message, snapshot

    async def _stream_once(self, arguments: Mapping[str, Any]) -> tuple[Any, RateLimitSnapshot]:
        try:
            async with self._client.beta.messages.stream(**arguments) as stream:
                message = await stream.get_final_message()
                headers = dict(stream.response.headers)
        except anthropic.APIError as error:
            raise classify_sdk_error(error, anthropic) from None
        return message, parse_rate_limit_headers(headers)

    async def _route_as_claude_code(
        self, request: RouteRequest, prompt: ClaudeCodePrompt
    ) -> RouteResult:
        body = render_body(
            prompt,
            request,
            today=date.today(),
            prompt_text=build_prompt(request),
            prompt_cache=self.prompt_cache,
        )
        arguments = sdk_arguments(body, prompt)
        message, stats = await self.caller.call(lambda: self._stream_once(arguments))
        measured = self.caller.measured(_tokens(message.usage), stats, self.model, message.model)
        return route_from_content(message.content, prompt, request.skills, **measured)

    async def route(self, request: RouteRequest) -> RouteResult:
        """One routed attempt, retried on 429/529/5xx/timeouts within the retry policy."""
        if self.claude_code_prompt is not None:
            return await self._route_as_claude_code(request, self.claude_code_prompt)
        body = self.request_body(request)
        message, stats = await self.caller.call(lambda: self._call_once(body))
        measured = self.caller.measured(_tokens(message.usage), stats, self.model, message.model)
        texts: list[str] = []
        tool_calls: list[str] = []
        for block in message.content:
            if block.type == "tool_use":
                tool_calls.append(f"{block.name}({_compact(block.input)})")
                if block.name == SKILL_TOOL_NAME and isinstance(block.input, dict):
                    skill = block.input.get("skill")
                    return RouteResult(
                        skill=str(skill) if skill is not None else None,
                        response_text="\n".join(texts),
                        tool_calls=tuple(tool_calls),
                        **measured,
                    )
            elif block.type == "text":
                texts.append(block.text)
        return replace(text_answer("\n".join(texts), **measured), tool_calls=tuple(tool_calls))

    async def write_text(self, system: str, prompt: str, *, max_tokens: int) -> str:
        """A plain text answer to `prompt` (no tools), through the same client, rate limiter
        and retries as a routed attempt: how `routelens summarize` asks for its summary."""
        return (await self.write(system, prompt, max_tokens=max_tokens)).response_text

    async def write(
        self, system: str, prompt: str, *, max_tokens: int, cache_system: bool = False
    ) -> RouteResult:
        """`write_text` with what the answer cost (usage, price, retries) as a `RouteResult`
        without a skill; `cache_system` marks the system prompt for the prompt cache (when
        the router's `prompt_cache` is on), for a prefix repeated across calls."""
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": max_tokens,
            "system": system,
            "messages": [{"role": "user", "content": prompt}],
        }
        if cache_system and self.prompt_cache:
            body["system"] = [
                {"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}
            ]
        message, stats = await self.caller.call(lambda: self._call_once(body))
        measured = self.caller.measured(_tokens(message.usage), stats, self.model, message.model)
        text = "".join(block.text for block in message.content if block.type == "text")
        return RouteResult(skill=None, response_text=text, **measured)

    async def aclose(self) -> None:
        """Close the HTTP client and the limiter's connections."""
        await self._client.close()
        await self.caller.aclose()


def _tokens(usage: Any) -> TokenUsage:
    return TokenUsage(
        input=usage.input_tokens,
        output=usage.output_tokens,
        cache_read=usage.cache_read_input_tokens or 0,
        cache_write=usage.cache_creation_input_tokens or 0,
    )


def _model_of_prompt(prompt: ClaudeCodePrompt, model: str | None) -> str:
    """The captured prompt's model; another is refused, since the prompt names its model."""
    if model is not None and model != prompt.model:
        raise InputError(
            "--model",
            f"the captured Claude Code prompt is for {prompt.model}, not {model}; capture one "
            f"for {model} with `routelens claude-prompt capture --model {model}`",
            field="model",
        )
    return prompt.model


def _compact(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key}={item}" for key, item in value.items())
    return str(value)
