"""FunctionRouter: plain functions, sync or async, become routers."""

from __future__ import annotations

import asyncio

from routelens.routers.base import Router, RouteRequest, RouteResult, TokenUsage
from routelens.routers.function import FunctionRouter
from routelens.suite.models import SkillSet


def test_a_skill_name_becomes_a_route(small_skills: SkillSet) -> None:
    router = FunctionRouter(lambda request: "jira-search")
    result = asyncio.run(router.route(RouteRequest("a", "x", small_skills)))
    assert result.skill == "jira-search"
    assert not result.asked_clarification
    assert isinstance(router, Router)


def test_none_becomes_a_clarifying_question(small_skills: SkillSet) -> None:
    result = asyncio.run(FunctionRouter(lambda r: None).route(RouteRequest("a", "x", small_skills)))
    assert result.skill is None
    assert result.asked_clarification


def test_async_functions_and_full_results_pass_through(small_skills: SkillSet) -> None:
    full = RouteResult(skill="jira-issue", tokens=TokenUsage(input=10, output=2), cost_usd=0.5)

    async def answer(request: RouteRequest) -> RouteResult:
        await asyncio.sleep(0)
        return full

    result = asyncio.run(FunctionRouter(answer).route(RouteRequest("a", "x", small_skills)))
    assert result is full


def test_token_usage_adds_by_type() -> None:
    total = TokenUsage(1, 2, 3, 4) + TokenUsage(10, 20, 30, 40)
    assert total == TokenUsage(input=11, output=22, cache_read=33, cache_write=44)
