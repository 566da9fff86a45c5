"""One verdict rule per case category, plus the secondary scores (options named, commands)."""

from __future__ import annotations

from dataclasses import dataclass

from routelens.routers.base import RouteResult
from routelens.store.records import Verdict
from routelens.suite.models import Case, Category, SkillSet


@dataclass(frozen=True)
class Judgement:
    """The verdict of one attempt and its secondary scores (None when they do not apply)."""

    verdict: Verdict
    options_score: float | None = None
    commands_score: float | None = None


def _asked(result: RouteResult) -> bool:
    return result.asked_clarification and result.skill is None


def _accepted(case: Case, first_skill: str | None) -> set[str]:
    accepted = set(case.alternate_skills)
    if first_skill is not None:
        accepted.add(first_skill)
    return accepted


def _passes(case: Case, result: RouteResult, actual: str | None) -> bool:
    category = case.category
    if category is Category.NEGATIVE:
        if case.not_skill is not None and actual == case.not_skill:
            return False
        if case.expected_skill is None:
            return True
        return actual in _accepted(case, case.expected_skill)
    if category is Category.WORKFLOW:
        first = case.workflow[0].skill if case.workflow else case.expected_skill
        return _asked(result) or actual in _accepted(case, first)
    if category is Category.DISAMBIGUATION:
        return _asked(result) or (
            case.expected_skill is not None and actual in _accepted(case, case.expected_skill)
        )
    # direct, edge, context: the expected skill (or an alternate); null expects a question
    if case.expected_skill is None:
        return _asked(result)
    return actual in _accepted(case, case.expected_skill)


def options_named_score(case: Case, result: RouteResult, skills: SkillSet) -> float | None:
    """Share of `disambiguation_options` the clarifying question names (by any alias)."""
    if not case.disambiguation_options or not _asked(result):
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


def judge(case: Case, result: RouteResult, skills: SkillSet) -> Judgement:
    """Apply the category's rule to a router result (skill names compared by front-matter name)."""
    actual = skills.canonical(result.skill)
    verdict = Verdict.PASS if _passes(case, result, actual) else Verdict.FAIL
    return Judgement(
        verdict=verdict,
        options_score=options_named_score(case, result, skills),
        commands_score=commands_matched_score(case, result),
    )
