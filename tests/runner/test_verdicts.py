"""One verdict rule per category, and the secondary scores."""

from __future__ import annotations

from typing import Any

import pytest

from routelens.routers.base import RouteResult
from routelens.runner.verdicts import (
    FIRST_STEP,
    VerdictRules,
    asked_for_confirmation,
    expectation,
    judge,
)
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
            Verdict.PASS,  # any step, by default
        ),
        (
            case("workflow", workflow=[{"skill": "jira-search"}, {"skill": "jira-lifecycle"}]),
            route("jira-issue"),
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


WORKFLOW = case(
    "workflow",
    workflow=[{"skill": "jira-search", "action": "find"}, {"skill": "jira-lifecycle"}],
)


@pytest.mark.parametrize(
    ("rules", "result", "verdict"),
    [
        (VerdictRules(), route("jira-search"), Verdict.PASS),
        (VerdictRules(), route("jira-lifecycle"), Verdict.PASS),
        (VerdictRules(), ASK, Verdict.PASS),
        (VerdictRules(), NOTHING, Verdict.FAIL),
        (VerdictRules(workflow=FIRST_STEP), route("jira-search"), Verdict.PASS),
        (VerdictRules(workflow=FIRST_STEP), route("jira-lifecycle"), Verdict.FAIL),
        (VerdictRules(workflow=FIRST_STEP), ASK, Verdict.PASS),
    ],
)
def test_the_workflow_rule_is_any_step_unless_first_step_is_chosen(
    rules: VerdictRules, result: RouteResult, verdict: Verdict, small_skills: SkillSet
) -> None:
    assert judge(WORKFLOW, result, small_skills, rules).verdict is verdict


@pytest.mark.parametrize(
    ("the_case", "result", "verdict"),
    [
        # direct routes; asking instead of routing fails, whatever it asks
        (case("direct", expected_skill="jira-issue"), ASK, Verdict.FAIL),
        (case("direct"), ASK, Verdict.FAIL),
        (case("direct"), NOTHING, Verdict.PASS),
        (case("direct"), route("jira-issue"), Verdict.FAIL),
        # action ask_for_input: no skill, asked or not
        (case("edge", action="ask_for_input"), NOTHING, Verdict.PASS),
        (case("edge", action="ask_for_input"), ASK, Verdict.PASS),
        (case("edge", action="ask_for_input"), route("jira-issue"), Verdict.FAIL),
        # action show_quick_reference: the expected skill, or a question
        (
            case("edge", expected_skill="jira-search", action="show_quick_reference"),
            route("jira-search"),
            Verdict.PASS,
        ),
        (
            case("edge", expected_skill="jira-search", action="show_quick_reference"),
            ASK,
            Verdict.PASS,
        ),
        (
            case("edge", expected_skill="jira-search", action="show_quick_reference"),
            NOTHING,
            Verdict.FAIL,
        ),
        (
            case("edge", expected_skill="jira-search", action="show_quick_reference"),
            route("jira-issue"),
            Verdict.FAIL,
        ),
        # an action without a rule changes nothing
        (case("edge", expected_skill="jira-search", action="note"), ASK, Verdict.FAIL),
    ],
)
def test_direct_and_the_action_rules(
    the_case: Case, result: RouteResult, verdict: Verdict, small_skills: SkillSet
) -> None:
    assert judge(the_case, result, small_skills).verdict is verdict


@pytest.mark.parametrize(
    ("the_case", "rules", "described"),
    [
        (
            WORKFLOW,
            VerdictRules(),
            "jira-search or jira-lifecycle or a clarifying question (any workflow step)",
        ),
        (
            WORKFLOW,
            VerdictRules(workflow=FIRST_STEP),
            "jira-search or a clarifying question (first step)",
        ),
        (case("negative", not_skill="jira-issue"), VerdictRules(), "any route but jira-issue"),
        (
            case("negative", expected_skill="jira-lifecycle", not_skill="jira-issue"),
            VerdictRules(),
            "jira-lifecycle, never jira-issue",
        ),
        (
            case("edge", action="ask_for_input"),
            VerdictRules(),
            "no skill (a clarifying question or none) (action ask_for_input)",
        ),
        (case("disambiguation"), VerdictRules(), "a clarifying question"),
        (case("direct"), VerdictRules(), "no skill, without a question"),
    ],
)
def test_each_rule_says_what_it_expected(
    the_case: Case, rules: VerdictRules, described: str
) -> None:
    assert expectation(the_case, rules).describe() == described


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("Are you sure you want to delete TES-1? This cannot be undone.", True),
        ("Shall I close all 40 issues?", True),
        ("Please confirm: delete the PROJ board?", True),
        ("Deleting TES-1 now.", False),
        ("Which project do you mean?", False),
    ],
)
def test_a_confirmation_question_is_recognised(text: str, asked: bool) -> None:
    assert asked_for_confirmation(RouteResult(skill=None, response_text=text)) is asked


def test_confirmation_is_a_secondary_score_only_for_cases_that_require_it(
    small_skills: SkillSet,
) -> None:
    destructive = case("direct", expected_skill="jira-issue", requires_confirmation=True)
    asked = RouteResult(skill=None, asked_clarification=True, response_text="Are you sure?")
    judgement = judge(destructive, asked, small_skills)
    assert (judgement.verdict, judgement.confirmation_score) == (Verdict.FAIL, 1.0)
    routed = judge(destructive, route("jira-issue"), small_skills)
    assert (routed.verdict, routed.confirmation_score) == (Verdict.PASS, 0.0)
    plain = judge(case("direct", expected_skill="jira-issue"), asked, small_skills)
    assert plain.confirmation_score is None
