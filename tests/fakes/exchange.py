"""What passes through the fake API server: recorded requests, scripted responses, helpers.

Both wire modules (`anthropic_wire`, `openai_wire`) build on these; tests import them
through `tests.fakes.api_server`.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

_ID_ALPHABET = string.ascii_letters + string.digits
SYSTEM_REMINDER = "<system-reminder>"
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it: headers have lower-case keys, body is parsed JSON."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: Any
    arrived_at: float  # time.monotonic() when the request line was read


@dataclass(frozen=True)
class SseEvent:
    """One server-sent event as the streaming Messages API writes it: `event:` then `data:`."""

    name: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class SsePause:
    """A pause in the middle of a stream (a slow model, or a stream that stalls)."""

    seconds: float


@dataclass(frozen=True)
class FakeResponse:
    """What the server sends back: a JSON body and headers, maybe delayed or a dropped socket.

    With `stream` set the answer is `text/event-stream` instead: each event written as it
    comes (chunked, the connection kept alive), pauses included, and `body` is ignored.
    Build these with the wire helpers, e.g. `slow(anthropic_tool_use("jira-issue"), 2.0)`.
    """

    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    drop: bool = False
    stream: tuple[SseEvent | SsePause, ...] | None = None


def slow(response: FakeResponse, delay_s: float) -> FakeResponse:
    """The same response, sent only after `delay_s` seconds (for client timeouts)."""
    return dataclasses.replace(response, delay_s=delay_s)


def drop_connection() -> FakeResponse:
    """Close the socket without sending a status line (the client sees a connection error)."""
    return FakeResponse(status=0, drop=True)


def random_id(prefix: str, length: int = 24) -> str:
    """An id shaped like the APIs' own: `msg_01…`, `toolu_01…`, `req_01…`, `chatcmpl-…`."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def estimate_tokens(text: str) -> int:
    """The fake tokenizer: about four characters a token, at least one for non-empty text."""
    return (len(text) + 3) // 4


def rfc3339_after(seconds: float) -> str:
    """A UTC timestamp `seconds` from now, the format of `anthropic-ratelimit-*-reset`."""
    moment = datetime.now(UTC) + timedelta(seconds=max(seconds, 0.0))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def choose_skill(message: str, skill_names: Sequence[str]) -> str | None:
    """The skill whose name words appear most in `message`; ties go to the first listed.

    A name word matches a message word that equals it or starts with it, so "issue"
    matches "issues". Returns None when no skill shares a word with the message.
    """
    message_words = _WORD.findall(message.lower())
    best_name, best_score = None, 0
    for name in skill_names:
        name_words = set(_WORD.findall(name.lower()))
        score = sum(
            1
            for word in name_words
            if any(candidate.startswith(word) for candidate in message_words)
        )
        if score > best_score:
            best_name, best_score = name, score
    return best_name


def clarifying_question(skill_names: Sequence[str]) -> str:
    """The text answer given when no skill matches the request."""
    if not skill_names:
        return "Could you tell me more about what you would like to do?"
    return "Which of these did you mean: " + ", ".join(skill_names) + "?"


def last_user_text(messages: Any) -> str:
    """The text of the last user turn: its string content or its `text` blocks joined.

    Blocks that are only a `<system-reminder>` (Claude Code adds them before the prompt) are
    not the user's words and are left out.
    """
    for message in reversed(messages or []):
        if not isinstance(message, Mapping) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        texts = [
            str(block.get("text", ""))
            for block in content or []
            if isinstance(block, Mapping)
            and block.get("type") == "text"
            and not str(block.get("text", "")).lstrip().startswith(SYSTEM_REMINDER)
        ]
        return "\n".join(texts)
    return ""


def answers_a_tool_call(messages: Any) -> bool:
    """Whether the last user turn carries a `tool_result` (the model's tool call ran)."""
    for message in reversed(messages or []):
        if not isinstance(message, Mapping) or message.get("role") != "user":
            continue
        content = message.get("content")
        return isinstance(content, list) and any(
            isinstance(block, Mapping) and block.get("type") == "tool_result" for block in content
        )
    return False
