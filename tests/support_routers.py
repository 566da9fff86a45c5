"""Routers loaded by name (`--router tests.support_routers:slow_router`) in tests."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from routelens.routers.base import RouteRequest, RouteResult
from routelens.routers.function import FunctionRouter


def slow_router(model: str | None = None, delay_s: float = 0.2, **_: Any) -> FunctionRouter:
    """Answers the expected-looking skill (the first skill) after `delay_s` seconds."""

    async def answer(request: RouteRequest) -> RouteResult:
        await asyncio.sleep(delay_s)
        return RouteResult(skill=request.skills.skills[0].name)

    return FunctionRouter(answer, name="slow", model=model or "slow-1")


def not_a_router(model: str | None = None, **_: Any) -> object:
    """Returns something that is not a Router, to test the registry's check."""
    return object()


def priced_router(model: str | None = None, cost_usd: float = 0.01, **_: Any) -> FunctionRouter:
    """Routes to the first skill at a fixed cost per attempt."""

    def answer(request: RouteRequest) -> RouteResult:
        return RouteResult(skill=request.skills.skills[0].name, cost_usd=cost_usd)

    return FunctionRouter(answer, name="priced", model=model or "priced-1")


def wavering_router(model: str | None = None, **_: Any) -> FunctionRouter:
    """Answers each input with the next skill in turn: every case passes only some repeats."""
    calls: dict[str, int] = {}

    def answer(request: RouteRequest) -> RouteResult:
        count = calls.get(request.input, 0)
        calls[request.input] = count + 1
        skills = request.skills.skills
        return RouteResult(skill=skills[count % len(skills)].name, cost_usd=0.002)

    return FunctionRouter(answer, name="wavering", model=model or "wavering-1")


def mostly_failing_router(model: str | None = None, **_: Any) -> FunctionRouter:
    """Errors on every case but C1 (an API outage); routes C1 to jira-issue."""
    from routelens.routers.base import RouterError

    def answer(request: RouteRequest) -> RouteResult:
        if request.case_id != "C1":
            raise RouterError("overloaded", error_type="overloaded_error", http_status=529)
        return RouteResult(skill="jira-issue")

    return FunctionRouter(answer, name="outage", model=model or "outage-1")


def url_router(model: str | None = None, base_url: str = "", **_: Any) -> FunctionRouter:
    """Routes to the first skill; takes a `base_url` option like an API router would."""

    def answer(request: RouteRequest) -> RouteResult:
        return RouteResult(skill=request.skills.skills[0].name)

    return FunctionRouter(answer, name="url", model=model or "url-1")


def strict_router(model: str | None = None) -> FunctionRouter:
    """Takes no options at all: any `--router-option` is a TypeError at construction."""
    return FunctionRouter(lambda request: RouteResult(skill=None), name="strict", model=model)


def blocking_router(model: str | None = None, block_s: float = 0.5, **_: Any) -> FunctionRouter:
    """Answers the first skill after blocking the event loop for `block_s` seconds (a signal
    then arrives while one of the run's tasks is running, not while the loop waits)."""

    async def answer(request: RouteRequest) -> RouteResult:
        time.sleep(block_s)
        return RouteResult(skill=request.skills.skills[0].name)

    return FunctionRouter(answer, name="blocking", model=model or "blocking-1")
