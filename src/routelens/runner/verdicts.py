"""One verdict rule per case category (and per `action`), plus the secondary scores.

Each rule is first turned into an `Expectation` (the routes that pass, whether a question
or no skill at all passes, the skill that must not be chosen), which both decides the
verdict and says in words what the rule expected when an attempt fails.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from routelens.routers.base import RouteResult
from routelens.store.records import Verdict
from routelens.suite.models import (
    ACTION_ASK_FOR_INPUT,
    ACTION_SHOW_QUICK_REFERENCE,
    Case,
    Category,
    SkillSet,
)

WorkflowRule = Literal["any-step", "first-step"]
ANY_STEP: WorkflowRule = "any-step"
FIRST_STEP: WorkflowRule = "first-step"

# A question that asks leave to go on: "Are you sure you want to delete TES-1?"
_CONFIRMATION_CUE = re.compile(
    r"\b(confirm\w*|are you sure|sure you want|do you want me to|shall i|should i|proceed|"
    r"go ahead|irreversibl\w*|cannot be undone|can't be undone|permanent\w*)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class VerdictRules:
    """The choices between rules (`[verdicts]` in routelens.toml); recorded with each run."""

    workflow: WorkflowRule = ANY_STEP

    @classmethod
    def of_run(cls, settings: Mapping[str, Any]) -> VerdictRules:
        """The rules a run recorded in its settings; runs recorded before the workflow rule
        was a setting judged by the first step."""
        workflow = settings.get("workflow_rule")
        return cls(workflow=ANY_STEP if workflow == ANY_STEP else FIRST_STEP)


@dataclass(frozen=True)
class Judgement:
    """The verdict of one attempt and its secondary scores (None when they do not apply)."""

    verdict: Verdict
    options_score: float | None = None
    commands_score: float | None = None
    confirmation_score: float | None = None


@dataclass(frozen=True)
class Expectation:
    """What passes for one case under one set of rules.

    `skills`: routes that pass; `question`: a clarifying question passes; `no_skill`: no
    skill chosen passes, asked or not; `declined`: no skill chosen *without* a question
    passes; `any_route`: any route but `forbidden` passes; `forbidden`: never passes.
    """

    skills: tuple[str, ...] = ()
    question: bool = False
    no_skill: bool = False
    declined: bool = False
    any_route: bool = False
    forbidden: str | None = None
    note: str = ""

    def passes(self, actual: str | None, asked: bool) -> bool:
        """Whether a route (`actual`, or None with `asked` for a question) passes."""
        if self.forbidden is not None and actual == self.forbidden:
            return False
        if self.any_route:
            return True
        if actual is None:
            return self.no_skill or (asked and self.question) or (not asked and self.declined)
        return actual in self.skills

    def describe(self) -> str:
        """The rule in words: `jira-search or jira-bulk (any workflow step), or a question`."""
        if self.any_route:
            text = f"any route but {self.forbidden}" if self.forbidden else "any route"
            return text + (f" ({self.note})" if self.note else "")
        options = list(self.skills)
        if self.no_skill:
            options.append("no skill (a clarifying question or none)")
        elif self.question:
            options.append("a clarifying question")
        if self.declined:
            options.append("no skill, without a question")
        text = " or ".join(options) if options else "nothing"
        if self.note:
            text += f" ({self.note})"
        if self.forbidden is not None:
            text += f", never {self.forbidden}"
        return text


def _accepted(case: Case, *first: str | None) -> tuple[str, ...]:
    named = [skill for skill in first if skill is not None]
    return tuple(dict.fromkeys([*named, *case.alternate_skills]))


def expectation(case: Case, rules: VerdictRules = VerdictRules()) -> Expectation:
    """The routes that pass `case` (see docs/golden-set.md for each rule)."""
    forbidden = case.not_skill
    if case.action == ACTION_ASK_FOR_INPUT:
        return Expectation(no_skill=True, forbidden=forbidden, note="action ask_for_input")
    if case.action == ACTION_SHOW_QUICK_REFERENCE:
        return Expectation(
            _accepted(case, case.expected_skill),
            question=True,
            forbidden=forbidden,
            note="action show_quick_reference",
        )
    category = case.category
    if category is Category.NEGATIVE:
        if case.expected_skill is None:
            return Expectation(any_route=True, forbidden=forbidden)
        return Expectation(_accepted(case, case.expected_skill), forbidden=forbidden)
    if category is Category.WORKFLOW:
        if rules.workflow == FIRST_STEP:
            first = case.workflow[0].skill if case.workflow else case.expected_skill
            return Expectation(
                _accepted(case, first), question=True, forbidden=forbidden, note="first step"
            )
        steps = _accepted(case, case.expected_skill, *case.workflow_skills)
        return Expectation(steps, question=True, forbidden=forbidden, note="any workflow step")
    if category is Category.DISAMBIGUATION:
        return Expectation(_accepted(case, case.expected_skill), question=True, forbidden=forbidden)
    if case.expected_skill is not None:  # direct, edge, context: route, do not ask
        return Expectation(_accepted(case, case.expected_skill), forbidden=forbidden)
    if category is Category.DIRECT:
        # a direct case without a skill: choosing none, without asking, is the only pass
        return Expectation(_accepted(case), declined=True, forbidden=forbidden)
    return Expectation(_accepted(case), question=True, forbidden=forbidden)


def asked_question(result: RouteResult) -> bool:
    """Whether the router chose no skill and asked a clarifying question."""
    return result.asked_clarification and result.skill is None


def options_named_score(case: Case, result: RouteResult, skills: SkillSet) -> float | None:
    """Share of `disambiguation_options` the clarifying question names (by any alias)."""
    if not case.disambiguation_options or not asked_question(result):
        return None
    text = result.response_text.lower()
    spaced = text.replace("-", " ")
    named = 0
    for option in case.disambiguation_options:
        skill = skills.resolve(option)
        aliases = skill.aliases if skill else frozenset({option})
        if any(a.lower() in text or a.lower().replace("-", " ") in spaced for a in aliases):
            named += 1
    return named / len(case.disambiguation_options)


def commands_matched_score(case: Case, result: RouteResult) -> float | None:
    """Share of `expected_commands` found in the response text or tool calls."""
    if not case.expected_commands:
        return None
    text = "\n".join([result.response_text, *result.tool_calls])
    matched = sum(1 for command in case.expected_commands if command.matches(text))
    return matched / len(case.expected_commands)


def asked_for_confirmation(result: RouteResult) -> bool:
    """Whether the response asks leave before acting ("Are you sure ...?", "Shall I ...?")."""
    text = "\n".join([result.response_text, *result.tool_calls])
    return "?" in text and _CONFIRMATION_CUE.search(text) is not None


def confirmation_score(case: Case, result: RouteResult) -> float | None:
    """1 when a `requires_confirmation` case's response asked for confirmation, else 0;
    None for other cases. A secondary score: it never changes the verdict."""
    if not case.requires_confirmation:
        return None
    return 1.0 if asked_for_confirmation(result) else 0.0


def judge(
    case: Case, result: RouteResult, skills: SkillSet, rules: VerdictRules = VerdictRules()
) -> Judgement:
    """Apply the case's rule to a router result (skill names compared by front-matter name)."""
    actual = skills.canonical(result.skill)
    passed = expectation(case, rules).passes(actual, asked_question(result))
    return Judgement(
        verdict=Verdict.PASS if passed else Verdict.FAIL,
        options_score=options_named_score(case, result, skills),
        commands_score=commands_matched_score(case, result),
        confirmation_score=confirmation_score(case, result),
    )
