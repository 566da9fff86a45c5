"""Proposers that ask a model: anthropic, openai or claude-code, through the routers.

The request goes through the router's own SDK client, rate limiter and retries (the
anthropic and openai routers' `write`; for claude-code, `claude -p` with no skills
installed, run to its end). The instructions and the other skills' descriptions form the
system prompt, the same on every call for a skill, and are marked for the prompt cache;
the answer's cost counts against `--max-cost`. The model answers with one JSON object,
`{"name": ..., "description": ...}`; anything else is refused (see `proposals`).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from routelens.optimize.proposals import Proposal, ProposalRequest
from routelens.routers.base import RouterError, RouteResult
from routelens.routers.registry import RouterContext, make_router
from routelens.suite.skill_rules import MAX_DESCRIPTION_LENGTH

PROPOSAL_MAX_TOKENS = 1024
PROPOSAL_MAX_RETRIES = 4

INSTRUCTIONS = f"""\
You improve the description of one Claude Code skill. Claude Code shows the model the name \
and description of every installed skill, and the model picks the skill for a request from \
those alone. Routing is a competition: a description that wins more of its own requests can \
take requests that belong to another skill, and that counts as a failure too.

Answer with one JSON object and nothing else:
{{"name": "<the skill's name, unchanged>", "description": "<the new description>"}}

Rules for the description:
- at most {MAX_DESCRIPTION_LENGTH} characters of plain text; no XML tags (nothing like <tag>);
- say what the skill does and when to use it; name the kinds of request it should take and, \
where it helps, the ones it should leave to another skill;
- write for the kind of request, not for the failed examples word for word: the description \
is judged on requests you have not seen."""


class LlmProposerName(StrEnum):
    """The proposers that ask a model."""

    ANTHROPIC = "anthropic"
    OPENAI = "openai"
    CLAUDE_CODE = "claude-code"


@runtime_checkable
class MeasuredWriter(Protocol):
    """A router's text answer with its cost: the anthropic and openai routers, or a
    `RouterTextWriter` over claude-code."""

    async def write(
        self, system: str, prompt: str, *, max_tokens: int, cache_system: bool = False
    ) -> RouteResult:
        """The model's answer (its text in `response_text`) and what it cost."""
        ...

    async def aclose(self) -> None:
        """Release connections or processes."""
        ...


WriterFactory = Callable[[], MeasuredWriter]


def writer_factory(
    proposer: LlmProposerName,
    model: str | None,
    options: Mapping[str, Any],
    pricing: Mapping[str, Mapping[str, Any]] | None = None,
) -> WriterFactory:
    """Builds a writer for each proposal (each runs on its own event loop). The first is
    built now, so a missing key or SDK is an InputError before anything runs."""
    from routelens.summaries.writer import RouterTextWriter

    settings = dict(options)
    if proposer is LlmProposerName.CLAUDE_CODE:
        settings.setdefault("stop_early", False)  # the whole answer is needed
    else:
        settings.setdefault("max_retries", PROPOSAL_MAX_RETRIES)
    context = RouterContext(concurrency=1, pricing=pricing or {})

    def build() -> MeasuredWriter:
        router = make_router(str(proposer), model, settings, context)
        if isinstance(router, MeasuredWriter):
            return router
        return RouterTextWriter(router)

    first = build()
    asyncio.run(first.aclose())
    return build


def system_prompt(request: ProposalRequest) -> str:
    """The instructions and the competition: the same for every call about one skill."""
    others = "\n".join(f"- {name}: {text}" for name, text in sorted(request.other_skills.items()))
    return f"{INSTRUCTIONS}\n\nThe other installed skills:\n{others or '(none)'}"


def user_prompt(request: ProposalRequest) -> str:
    """The skill, its current description, what was tried and the train failures."""
    lines = [f"Skill: {request.skill}", "Current description:", request.description, ""]
    if request.history:
        lines.append("Descriptions tried so far, with their accuracy on the training cases:")
        for tried in request.history:
            shown = "not run" if tried.train_accuracy is None else f"{tried.train_accuracy:.1%}"
            lines.append(f"- ({shown}) {tried.description}")
        lines.append("")
    if request.failures:
        lines.append("Training requests that failed (expected: what should have happened):")
        for failure in request.failures:
            entry: dict[str, str] = {
                "request": failure.input,
                "expected": failure.expected,
                "model chose": failure.actual,
            }
            if failure.question:
                entry["question asked"] = failure.question
            lines.append(json.dumps(entry, ensure_ascii=False))
    else:
        lines.append("No training request failed; make the description clearer for new ones.")
    if request.rejected:
        lines += ["", f"Your previous answer was refused: {request.rejected}. Answer again."]
    return "\n".join(lines)


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


def read_answer(text: str, cost_usd: float = 0.0) -> Proposal:
    """The proposal in a model's answer (a JSON object, perhaps fenced in markdown)."""
    cleaned = _FENCE.sub("", text.strip())
    start, end = cleaned.find("{"), cleaned.rfind("}")
    try:
        parsed = json.loads(cleaned[start : end + 1]) if 0 <= start < end else None
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("description"), str):
        return Proposal(
            "",
            "",
            cost_usd=cost_usd,
            raw=text,
            unreadable='the answer is not one JSON object {"name": ..., "description": ...}',
        )
    name = parsed.get("name")
    return Proposal(
        name if isinstance(name, str) else "", parsed["description"], cost_usd=cost_usd, raw=text
    )


class LlmProposer:
    """Asks a model for each proposal.

    >>> proposer = LlmProposer(LlmProposerName.ANTHROPIC, build)  # doctest: +SKIP
    """

    def __init__(self, name: LlmProposerName, build: WriterFactory) -> None:
        self.name = str(name)
        self._build = build

    def propose(self, request: ProposalRequest) -> Proposal:
        """One model call; a failed call (after the router's retries) is an unreadable
        proposal, so the loop retries it once and then skips it."""
        try:
            result = asyncio.run(self._ask(request))
        except RouterError as error:  # an API failure must not lose the runs made so far
            return Proposal("", "", raw=str(error), unreadable=f"the model call failed: {error}")
        return read_answer(result.response_text, result.cost_usd)

    async def _ask(self, request: ProposalRequest) -> RouteResult:
        writer = self._build()
        try:
            return await writer.write(
                system_prompt(request),
                user_prompt(request),
                max_tokens=PROPOSAL_MAX_TOKENS,
                cache_system=True,
            )
        finally:
            await writer.aclose()
