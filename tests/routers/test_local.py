"""The offline router: lexical ranking, clarification when unsure, determinism."""

from __future__ import annotations

import asyncio
from pathlib import Path

from routelens.routers.base import RouteRequest
from routelens.routers.local import LocalRouter, LocalRouterSettings
from routelens.suite.models import ContextMessage, SkillSet
from routelens.suite.skills import load_skill_set
from tests.conftest import write_skill


def test_routes_to_the_skill_whose_description_matches(small_skills: SkillSet) -> None:
    router = LocalRouter()
    assert router.route_now(RouteRequest("a", "transition TES-1 to Done", small_skills)).skill == (
        "jira-lifecycle"
    )
    assert router.route_now(
        RouteRequest("b", "list issues with a JQL filter", small_skills)
    ).skill == ("jira-search")


def test_asks_for_more_when_nothing_matches(small_skills: SkillSet) -> None:
    result = LocalRouter().route_now(RouteRequest("a", "zzzz qqqq", small_skills))
    assert result.skill is None
    assert result.asked_clarification
    assert result.confidence == 0.0


def test_asks_which_one_and_names_the_options_when_the_top_two_are_close(tmp_path: Path) -> None:
    root = tmp_path / "skills"
    write_skill(root, "alpha", "alpha-board", "Show the sprint board and sprint progress.")
    write_skill(root, "beta", "beta-report", "Show the sprint report and sprint velocity.")
    write_skill(root, "gamma", "gamma-admin", "Manage project permissions.")
    skills = load_skill_set(root)
    result = LocalRouter().route_now(RouteRequest("a", "show me the sprint", skills))
    assert result.asked_clarification
    assert result.skill is None
    assert "alpha-board" in result.response_text
    assert "beta-report" in result.response_text
    assert "gamma-admin" not in result.response_text
    strict = LocalRouter(LocalRouterSettings(ambiguity_ratio=1.01))
    assert strict.route_now(RouteRequest("a", "show me the sprint", skills)).skill in {
        "alpha-board",
        "beta-report",
    }


def test_context_is_part_of_what_is_ranked(small_skills: SkillSet) -> None:
    router = LocalRouter()
    bare = router.route_now(RouteRequest("a", "do it", small_skills))
    with_context = router.route_now(
        RouteRequest(
            "a",
            "do it",
            small_skills,
            context_messages=(ContextMessage(role="user", content="I need a JQL query"),),
        )
    )
    assert bare.skill is None
    assert with_context.skill == "jira-search"


def test_same_input_gives_the_same_answer_and_confidence_is_a_share(
    small_skills: SkillSet,
) -> None:
    router = LocalRouter()
    request = RouteRequest("a", "create a bug for the crash", small_skills)
    first, second = router.route_now(request), asyncio.run(router.route(request))
    assert first == second
    assert first.confidence is not None
    assert 0.0 < first.confidence <= 1.0
    assert first.tool_calls == ("Skill(jira-issue)",)
