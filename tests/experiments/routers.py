"""Routers for experiment tests, loaded by name (`tests.experiments.routers:keyword_router`)."""

from __future__ import annotations

from typing import Any

from routelens.routers.base import RouteRequest
from routelens.routers.function import FunctionRouter

IMPROVED_MARKER = "(improved)"
KEYWORD_ROUTES = {"bug": "jira-issue", "JQL": "jira-search", "Done": "jira-lifecycle"}


def keyword_router(model: str | None = None, **_: Any) -> FunctionRouter:
    """Routes right when the skills carry the improved marker, else always to `jira-issue`.

    With the small cases that is 4 of 4 right on the improved skills and 1 of 4 without:
    a planted difference of +0.75.
    """

    def answer(request: RouteRequest) -> str | None:
        improved = any(IMPROVED_MARKER in skill.description for skill in request.skills.skills)
        if not improved:
            return "jira-issue"
        for keyword, skill in KEYWORD_ROUTES.items():
            if keyword in request.input:
                return skill
        return None

    return FunctionRouter(answer, name="keyword", model=model or "keyword-1")
