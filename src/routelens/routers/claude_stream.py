"""Claude Code's stream-json output, parsed without I/O: the first tool call, tokens, cost.

Also what the session says about itself: its version and skills (the `init` event) and each
API request it retried (`api_retry` events).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from routelens.routers.base import RetryEvent, TokenUsage
from routelens.routers.pricing import PriceTable

SKILL_TOOL_NAME = "Skill"
READ_TOOL_NAME = "Read"
# The Messages API's error type for each status, as its error bodies name them; Claude Code
# reports only the status, and the API routers record the type.
API_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
# Claude Code names the skill in `skill`; `command` and `name` are accepted in case a build differs
SKILL_INPUT_KEYS = ("skill", "command", "name")
# tool input fields that say what a call does, in the order they are tried
TOOL_ARGUMENT_KEYS = ("command", "file_path", "path", "pattern", "url", "query", "prompt")
_FINISHED_SKILL_FIELD = re.compile(r'"(skill|command|name)"\s*:\s*("(?:[^"\\]|\\.)*")')


def skill_name_in(tool_input: Mapping[str, Any]) -> str | None:
    """The skill a Skill tool input names (`skill`, or `command` / `name`), without a '/'."""
    for key in SKILL_INPUT_KEYS:
        value = tool_input.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().removeprefix("/")
    return None


def describe_tool_call(name: str, tool_input: Mapping[str, Any]) -> str:
    """`Skill(jira-issue)`, `Bash(jira issue create ...)`: one line per tool call."""
    if name == SKILL_TOOL_NAME:
        return f"{name}({skill_name_in(tool_input) or ''})"
    for key in TOOL_ARGUMENT_KEYS:
        value = tool_input.get(key)
        if isinstance(value, str):
            return f"{name}({value})"
    return f"{name}({json.dumps(dict(tool_input), sort_keys=True)})" if tool_input else name


def _partial_skill_name(partial_json: str) -> str | None:
    """The skill name as soon as the streamed input holds it, before the JSON is complete."""
    with contextlib.suppress(json.JSONDecodeError):
        parsed = json.loads(partial_json)
        return skill_name_in(parsed) if isinstance(parsed, dict) else None
    match = _FINISHED_SKILL_FIELD.search(partial_json)
    with contextlib.suppress(json.JSONDecodeError):
        return skill_name_in({match.group(1): json.loads(match.group(2))}) if match else None
    return None


def api_error_type(status: int) -> str:
    """`rate_limit_error` for 429 and so on; `http_<status>` for a status the API does not name."""
    return API_ERROR_TYPES.get(status, f"http_{status}")


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _token_usage(usage: Mapping[str, Any]) -> TokenUsage:
    return TokenUsage(
        input=_int(usage.get("input_tokens")),
        output=_int(usage.get("output_tokens")),
        cache_read=_int(usage.get("cache_read_input_tokens")),
        cache_write=_int(usage.get("cache_creation_input_tokens")),
    )


class ClaudeStream:
    """Reads stream-json lines and decides the route: the first tool call, or the text answer.

    Only top-level events decide (a subagent's have a `parent_tool_use_id`); every message's
    usage counts. The `result` event, when one arrives, is the authority on tokens and cost;
    without it (the process was stopped early) the cost is estimated from the streamed usage
    at `prices`, for each message's model, else the stream's, else `requested_model`. A first
    `Read` chooses the skill `read_resolver` names for its file (None: no skill).

    >>> stream = ClaudeStream(load_price_table(), requested_model="m")  # doctest: +SKIP
    >>> for line in stdout_lines:  # doctest: +SKIP
    ...     stream.feed_line(line)
    >>> stream.skill, stream.tokens, stream.cost_usd  # doctest: +SKIP
    """

    def __init__(
        self,
        prices: PriceTable | None = None,
        requested_model: str | None = None,
        read_resolver: Callable[[str], str | None] | None = None,
    ) -> None:
        self.prices = prices
        self.requested_model = requested_model
        self.read_resolver = read_resolver
        self.claude_code_version: str | None = None
        self.session_skills: frozenset[str] = frozenset()
        self.retry_events: list[RetryEvent] = []
        self.tool_calls: list[str] = []
        self.skill: str | None = None
        self.tool_decided = False
        self.result: dict[str, Any] | None = None
        self.session_id: str | None = None
        self.model: str | None = None
        self.malformed_lines = 0
        self._seen_tool_ids: set[str] = set()
        self._blocks: dict[int, dict[str, Any]] = {}
        self._usage_by_message: dict[str, dict[str, Any]] = {}
        self._model_by_message: dict[str, str] = {}
        self._message_id = ""
        self._streamed_text: list[str] = []
        self._answer_text: list[str] = []

    def feed_line(self, line: str) -> None:
        """Feed one stdout line; blank lines are ignored, malformed ones counted."""
        if not line.strip():
            return
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            self.malformed_lines += 1
            return
        if isinstance(event, dict):
            self.feed(event)
        else:
            self.malformed_lines += 1

    def feed(self, event: Mapping[str, Any]) -> None:
        """Feed one parsed event."""
        kind = event.get("type")
        if isinstance(event.get("session_id"), str):
            self.session_id = event["session_id"]
        top_level = event.get("parent_tool_use_id") is None
        if kind == "system" and event.get("subtype") == "init":
            self._init(event)
        elif kind == "system" and event.get("subtype") == "api_retry":
            self._retry(event)
        elif kind == "stream_event" and isinstance(event.get("event"), dict):
            self._stream_event(event["event"], top_level)
        elif kind == "assistant" and isinstance(event.get("message"), dict):
            self._assistant_message(event["message"], top_level)
        elif kind == "result":
            self.result = dict(event)

    def _init(self, event: Mapping[str, Any]) -> None:
        self.model = self.model or _str_or_none(event.get("model"))
        self.claude_code_version = _str_or_none(event.get("claude_code_version"))
        names: set[str] = set()
        for key in ("skills", "slash_commands"):
            listed = event.get(key)
            if isinstance(listed, list):
                names.update(str(name) for name in listed if isinstance(name, str))
        self.session_skills = frozenset(names)

    def _retry(self, event: Mapping[str, Any]) -> None:
        status = event.get("error_status")
        http_status = status if isinstance(status, int) and not isinstance(status, bool) else None
        delay_ms = event.get("retry_delay_ms")
        wait_s = float(delay_ms) / 1000 if isinstance(delay_ms, int | float) else 0.0
        error_type = api_error_type(http_status) if http_status else str(event.get("error") or "")
        self.retry_events.append(RetryEvent(error_type or "api_error", http_status, wait_s))

    def _stream_event(self, event: Mapping[str, Any], top_level: bool) -> None:
        kind = event.get("type")
        if kind == "message_start" and isinstance(event.get("message"), dict):
            message = event["message"]
            self._message_id = str(message.get("id", len(self._usage_by_message)))
            self._usage_by_message[self._message_id] = dict(message.get("usage") or {})
            self._note_model(self._message_id, message, top_level=True)
        elif kind == "message_delta" and isinstance(event.get("usage"), dict):
            known = self._usage_by_message.setdefault(self._message_id, {})
            known.update({k: v for k, v in event["usage"].items() if v is not None})
        if not top_level:
            return
        index = _int(event.get("index"))
        if kind == "content_block_start" and isinstance(event.get("content_block"), dict):
            block = event["content_block"]
            if block.get("type") == "tool_use":
                self._blocks[index] = {**block, "partial_json": ""}
                if block.get("input"):
                    self._tool_call(block)
        elif kind == "content_block_delta" and isinstance(event.get("delta"), dict):
            self._delta(index, event["delta"])
        elif kind == "content_block_stop" and index in self._blocks:
            block = self._blocks.pop(index)
            with contextlib.suppress(json.JSONDecodeError):
                block["input"] = json.loads(block["partial_json"] or "{}")
            if isinstance(block.get("input"), dict):
                self._tool_call(block)

    def _note_model(self, message_id: str, message: Mapping[str, Any], top_level: bool) -> None:
        model = _str_or_none(message.get("model"))
        if model is not None:
            self._model_by_message.setdefault(message_id, model)
            self.model = model if top_level else self.model

    def _delta(self, index: int, delta: Mapping[str, Any]) -> None:
        if delta.get("type") == "text_delta" and isinstance(delta.get("text"), str):
            self._streamed_text.append(delta["text"])
        block = self._blocks.get(index)
        if block is None or delta.get("type") != "input_json_delta":
            return
        block["partial_json"] += str(delta.get("partial_json") or "")
        if block.get("name") == SKILL_TOOL_NAME:
            name = _partial_skill_name(block["partial_json"])
            if name is not None:
                self._tool_call({**block, "input": {"skill": name}})

    def _assistant_message(self, message: Mapping[str, Any], top_level: bool) -> None:
        message_id = _str_or_none(message.get("id"))
        if message_id is not None:
            # without partial messages this is the only usage; with them, message_start's
            # figures (and message_delta's later ones) are kept
            known = self._usage_by_message.setdefault(message_id, {})
            for key, value in dict(message.get("usage") or {}).items():
                known.setdefault(key, value)
            self._note_model(message_id, message, top_level)
        if not top_level:
            return
        for block in message.get("content") or []:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                self._answer_text.append(block["text"])
            elif block.get("type") == "tool_use" and isinstance(block.get("input"), dict):
                self._tool_call(block)

    def _tool_call(self, block: Mapping[str, Any]) -> None:
        tool_id = str(block.get("id") or f"unnamed-{len(self._seen_tool_ids)}")
        if tool_id in self._seen_tool_ids:
            return
        self._seen_tool_ids.add(tool_id)
        name = str(block.get("name") or "")
        tool_input = block.get("input") or {}
        self.tool_calls.append(describe_tool_call(name, tool_input))
        if not self.tool_decided:
            self.tool_decided = True
            self.skill = self._chosen_skill(name, tool_input)

    def _chosen_skill(self, tool: str, tool_input: Mapping[str, Any]) -> str | None:
        """The skill a first tool call chooses: Skill's input, or a SKILL.md that is read."""
        if tool == SKILL_TOOL_NAME:
            return skill_name_in(tool_input)
        file_path = tool_input.get("file_path")
        if tool == READ_TOOL_NAME and self.read_resolver and isinstance(file_path, str):
            return self.read_resolver(file_path)
        return None

    @property
    def api_error_status(self) -> int | None:
        """The HTTP status of the API error the session ended on, if it ended on one."""
        status = (self.result or {}).get("api_error_status")
        return status if isinstance(status, int) and not isinstance(status, bool) else None

    @property
    def text(self) -> str:
        """The answer's text: the result's, else the assistant messages', else the streamed."""
        if self.result is not None and isinstance(self.result.get("result"), str):
            return str(self.result["result"])
        return "\n".join(self._answer_text) or "".join(self._streamed_text)

    @property
    def tokens(self) -> TokenUsage:
        """Tokens from the result event, else summed over the messages streamed so far."""
        if self.result is not None and isinstance(self.result.get("usage"), dict):
            return _token_usage(self.result["usage"])
        total = TokenUsage()
        for usage in self._usage_by_message.values():
            total += _token_usage(usage)
        return total

    @property
    def reported_cost_usd(self) -> float | None:
        """The result's `total_cost_usd`, or None before (or without) it."""
        cost = (self.result or {}).get("total_cost_usd")
        return float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) else None

    @property
    def estimated_cost_usd(self) -> float:
        """The streamed usage at list prices; a message whose model has no price adds 0.0."""
        if self.prices is None:
            return 0.0
        total = 0.0
        for message_id, usage in self._usage_by_message.items():
            model = self._model_by_message.get(message_id) or self.model or self.requested_model
            total += self.prices.cost_usd(model, _token_usage(usage)) or 0.0
        return total

    @property
    def cost_is_estimated(self) -> bool:
        """True when Claude Code reported no cost, so `cost_usd` is the estimate."""
        return self.reported_cost_usd is None

    @property
    def cost_usd(self) -> float:
        """What Claude Code reported when it got that far, else the estimate from usage."""
        reported = self.reported_cost_usd
        return self.estimated_cost_usd if reported is None else reported
