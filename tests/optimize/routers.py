"""Routers the optimize tests load by name (`tests.optimize.routers:adversarial_router`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routelens.routers.base import RouteRequest, RouteResult
from routelens.routers.function import FunctionRouter
from routelens.routers.local import LocalRouter


def adversarial_router(
    model: str | None = None,
    expected: Mapping[str, str] | None = None,
    punish: str = "",
    **_: Any,
) -> FunctionRouter:
    """The local router, except on the cases in `expected` (the test split): there it routes
    every skills set to the expected skill but the one whose skills hash is `punish`, which
    fails them all. Test scores then reward any description but that one."""
    local = LocalRouter()
    answers = dict(expected or {})

    def answer(request: RouteRequest) -> RouteResult:
        wanted = answers.get(request.case_id)
        if wanted is None:
            return local.route_now(request)
        if request.skills.skills_hash == punish:
            return RouteResult(skill=None, asked_clarification=True, response_text="Which one?")
        return RouteResult(skill=wanted)

    return FunctionRouter(answer, name="adversarial", model=model or "adversarial-1")
