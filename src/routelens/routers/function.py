"""A router made from a plain function: the test double that replaces ad-hoc mocks."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from routelens.routers.base import RouteRequest, RouteResult

RouteAnswer = RouteResult | str | None
RouteFunction = Callable[[RouteRequest], RouteAnswer | Awaitable[RouteAnswer]]


class FunctionRouter:
    """Wrap `fn(request)`; it returns a `RouteResult`, a skill name, or None (ask for more).

    >>> router = FunctionRouter(lambda request: "jira-search")
    """

    def __init__(self, fn: RouteFunction, *, name: str = "function", model: str | None = None):
        self.fn = fn
        self.name = name
        self.model = model

    async def route(self, request: RouteRequest) -> RouteResult:
        """Call the function; await it when it is a coroutine function."""
        answer = self.fn(request)
        if inspect.isawaitable(answer):
            answer = await answer
        if isinstance(answer, RouteResult):
            return answer
        if answer is None:
            return RouteResult(skill=None, asked_clarification=True, response_text="Which one?")
        return RouteResult(skill=answer, tool_calls=(f"Skill({answer})",))

    async def aclose(self) -> None:
        """Nothing to release."""
