"""One verdict rule per category, and the secondary scores."""

from __future__ import annotations

from typing import Any

import pytest

from routelens.routers.base import RouteResult
from routelens.runner.verdicts import judge
from routelens.store.records import Verdict
from routelens.suite.models import Case, SkillSet

ASK = RouteResult(skill=None, asked_clarification=True, response_text="Which one?")
NOTHING = RouteResult(skill=None)


def route(skill: str) -> RouteResult:
    return RouteResult(skill=skill)


def case(category: str, **fields: Any) -> Case:
    return Case.model_validate({"id": "T", "category": category, "input": "x", **fields})


@pytest.mark.parametrize(
    ("the_case", "result", "verdict"),
    [
        (case("direct", expected_skill="jira-issue"), route("jira-issue"), Verdict.PASS),
        (case("direct", expected_skill="jira-issue"), route("issue"), Verdict.PASS),  # folder name
        (case("direct", expected_skill="jira-issue"), route("jira-search"), Verdict.FAIL),
        (case("direct", expected_skill="jira-issue"), ASK, Verdict.FAIL),
        (
            case("direct", expected_skill="jira-issue", alternate_skills=["jira-search"]),
            route("jira-search"),
            Verdict.PASS,
        ),
        (case("edge", expected_skill=None), ASK, Verdict.PASS),
        (case("edge", expected_skill=None), route("jira-issue"), Verdict.FAIL),
        (case("edge", expected_skill=None), NOTHING, Verdict.FAIL),
        (case("disambiguation", disambiguation_options=["jira-issue"]), ASK, Verdict.PASS),
        (case("disambiguation"), route("jira-issue"), Verdict.FAIL),
        (case("disambiguation", expected_skill="jira-issue"), route("jira-issue"), Verdict.PASS),
        (
            case("negative", expected_skill="jira-lifecycle", not_skill="jira-issue"),
            route("jira-lifecycle"),
            Verdict.PASS,
        ),
        (
            case("negative", expected_skill="jira-lifecycle", not_skill="jira-issue"),
            route("jira-issue"),
            Verdict.FAIL,
        ),
        (
            case("negative", expected_skill="jira-lifecycle", not_skill="jira-issue"),
            route("jira-search"),
            Verdict.FAIL,
        ),
        (case("negative", not_skill="jira-issue"), route("jira-search"), Verdict.PASS),
        (case("negative", not_skill="jira-issue"), ASK, Verdict.PASS),
        (case("negative", not_skill="jira-issue"), route("jira-issue"), Verdict.FAIL),
        (
            case("workflow", workflow=[{"skill": "jira-search"}, {"skill": "jira-lifecycle"}]),
            route("jira-search"),
            Verdict.PASS,
        ),
        (
            case("workflow", workflow=[{"skill": "jira-search"}, {"skill": "jira-lifecycle"}]),
            ASK,
            Verdict.PASS,
        ),
        (
            case("workflow", workflow=[{"skill": "jira-search"}, {"skill": "jira-lifecycle"}]),
            route("jira-lifecycle"),
            Verdict.FAIL,
        ),
        (
            case("context", expected_skill="jira-lifecycle", context={"last_issue": "TES-1"}),
            route("jira-lifecycle"),
            Verdict.PASS,
        ),
        (case("context", expected_skill="jira-lifecycle"), route("jira-issue"), Verdict.FAIL),
    ],
)
def test_category_rules(
    the_case: Case, result: RouteResult, verdict: Verdict, small_skills: SkillSet
) -> None:
    assert judge(the_case, result, small_skills).verdict is verdict


def test_options_score_counts_options_named_by_any_alias(small_skills: SkillSet) -> None:
    the_case = case(
        "disambiguation", disambiguation_options=["jira-issue", "jira-search", "lifecycle"]
    )
    question = RouteResult(
        skill=None, asked_clarification=True, response_text="Do you mean the issue or jira search?"
    )
    judgement = judge(the_case, question, small_skills)
    # "issue" is the folder name of jira-issue; "jira search" matches jira-search with a space
    assert judgement.options_score == pytest.approx(2 / 3)
    assert judge(the_case, route("jira-issue"), small_skills).options_score is None


def test_commands_score_is_secondary_and_matches_literals_and_regexes(
    small_skills: SkillSet,
) -> None:
    the_case = case(
        "direct",
        expected_skill="jira-issue",
        expected_commands=[{"pattern": "JIRA ISSUE CREATE"}, {"pattern_regex": r"--project\s+TES"}],
    )
    half = RouteResult(skill="jira-search", response_text="run: jira issue create --type Bug")
    judgement = judge(the_case, half, small_skills)
    assert judgement.commands_score == 0.5
    assert judgement.verdict is Verdict.FAIL  # commands never decide the verdict
    assert (
        judge(case("direct", expected_skill="jira-issue"), half, small_skills).commands_score
        is None
    )
