"""Ask a model for the summary text, through a router's SDK client, rate limiter and retries.

`anthropic` and `openai` use the routers' `write_text` (one Messages / chat-completions
request, no tools); `claude-code` runs `claude -p` through its router with no skills
installed and takes the text answer. The facts go in as data (JSON); the instructions say
to state only those numbers, and `summaries.numbers` checks that it did.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from routelens.routers.base import Router, RouteRequest
from routelens.suite.models import SkillSet

SUMMARY_MAX_TOKENS = 400
SUMMARY_MAX_RETRIES = 2
SUMMARY_TIMEOUT_S = 60.0

SUMMARY_INSTRUCTIONS = """\
You write the executive summary of a routing test dashboard. routelens measures how well \
Claude Code picks the right skill for a request; the facts below are what it computed for \
one time window.

Write 3 to 5 plain sentences for an engineering manager: overall accuracy and its change, \
the weakest skills, newly flaky cases, the SKILL.md changes that moved accuracy, and cost. \
Skip a topic whose list is empty.

Rules:
- Every number you write must appear in the facts, written exactly as it is written there \
(for example 87.3%, -2.1 pt, $12.40).
- Never compute a number: no differences, sums, averages, counts or percentages of your own.
- Write numbers in digits. Mention no date other than those in the facts.
- No markdown, no headings, no lists: one short paragraph."""


class RouterChoice(StrEnum):
    """The routers that can write a summary."""

    ANTHROPIC = "anthropic"
    OPENAI = "openai"
    CLAUDE_CODE = "claude-code"


@runtime_checkable
class TextWriter(Protocol):
    """Anything that turns instructions and a prompt into text."""

    model: str | None

    async def write_text(self, system: str, prompt: str, *, max_tokens: int) -> str:
        """The model's text answer."""
        ...

    async def aclose(self) -> None:
        """Release connections or processes."""
        ...


def summary_prompt(display: Mapping[str, Any]) -> str:
    """The user message: the facts as JSON."""
    return "Facts (JSON):\n" + json.dumps(display, indent=2, ensure_ascii=False)


class RouterTextWriter:
    """A `TextWriter` over a router that has no `write_text`: the prompt is routed as one
    request with no skills installed, and the text answer is the summary (claude-code)."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.model = router.model

    async def write_text(self, system: str, prompt: str, *, max_tokens: int) -> str:
        """Route `system` and `prompt` as one input; return the router's text answer."""
        empty = SkillSet(root=Path("."), skills=(), skills_hash="")
        request = RouteRequest(case_id="summary", input=f"{system}\n\n{prompt}", skills=empty)
        result = await self.router.route(request)
        return result.response_text

    async def aclose(self) -> None:
        """Close the router."""
        await self.router.aclose()


def make_writer(
    router: RouterChoice, model: str | None, options: Mapping[str, Any] | None = None
) -> TextWriter:
    """A writer through the named router; `InputError` when it cannot be built (no key, no
    SDK, no `claude` on PATH, no model for openai)."""
    from routelens.routers.registry import make_router

    settings = dict(options or {})
    if router is RouterChoice.CLAUDE_CODE:
        # the whole answer is needed, so Claude Code must not be stopped at a first tool call
        settings.setdefault("stop_early", False)
        return RouterTextWriter(make_router(str(router), model, settings))
    settings.setdefault("max_retries", SUMMARY_MAX_RETRIES)
    settings.setdefault("timeout_s", SUMMARY_TIMEOUT_S)
    built = make_router(str(router), model, settings)
    return built if isinstance(built, TextWriter) else RouterTextWriter(built)
