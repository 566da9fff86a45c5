"""The router contract: a request for one case, a result for one attempt, and the Protocol."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from routelens.store.records import RetryEvent
from routelens.suite.models import ContextMessage, SkillSet

__all__ = [
    "ReportsRunDetails",
    "RetryEvent",
    "RouteRequest",
    "RouteResult",
    "Router",
    "RouterError",
    "TokenUsage",
]


@dataclass(frozen=True)
class RouteRequest:
    """What a router sees for one attempt: the user input, its context and the skills."""

    case_id: str
    input: str
    skills: SkillSet
    context_facts: Mapping[str, Any] = field(default_factory=dict)
    context_messages: tuple[ContextMessage, ...] = ()
    model: str | None = None

    def text_with_context(self) -> str:
        """The input preceded by its context, as one plain text (for lexical routers)."""
        parts = [f"{key}: {value}" for key, value in self.context_facts.items()]
        parts += [message.content for message in self.context_messages]
        parts.append(self.input)
        return "\n".join(parts)


@dataclass(frozen=True)
class TokenUsage:
    """Tokens one attempt used, by type."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            self.input + other.input,
            self.output + other.output,
            self.cache_read + other.cache_read,
            self.cache_write + other.cache_write,
        )


@dataclass(frozen=True)
class RouteResult:
    """The router's answer for one attempt: a skill, or a clarifying question, or neither."""

    skill: str | None
    asked_clarification: bool = False
    response_text: str = ""
    tool_calls: tuple[str, ...] = ()
    confidence: float | None = None
    tokens: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float = 0.0
    latency_s: float = 0.0
    retries: int = 0
    retry_wait_s: float = 0.0
    retry_log: tuple[RetryEvent, ...] = ()
    http_status: int | None = None
    response_model: str | None = None


class RouterError(Exception):
    """A router gave up on an attempt; the runner records it as verdict `error`."""

    def __init__(
        self,
        message: str,
        *,
        error_type: str,
        http_status: int | None = None,
        retries: int = 0,
        retry_wait_s: float = 0.0,
        retry_log: tuple[RetryEvent, ...] = (),
    ) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.http_status = http_status
        self.retries = retries
        self.retry_wait_s = retry_wait_s
        self.retry_log = retry_log


@runtime_checkable
class Router(Protocol):
    """Anything that picks a skill for a request. One instance serves a whole run."""

    name: str
    model: str | None

    async def route(self, request: RouteRequest) -> RouteResult:
        """Route one attempt; raise `RouterError` when the attempt cannot be answered."""
        ...

    async def aclose(self) -> None:
        """Release connections or processes at the end of a run."""
        ...


@runtime_checkable
class ReportsRunDetails(Protocol):
    """A router that learns something about itself while it runs (the version of the CLI it
    drives, say), which the run records in its settings when it ends."""

    def run_details(self) -> Mapping[str, Any]:
        """What to record; empty until learnt."""
        ...
