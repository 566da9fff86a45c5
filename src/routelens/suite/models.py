"""What a routing suite is made of: skills, cases, and the sets that hold them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from routelens.errors import InputError
from routelens.suite.descriptions import replace_description
from routelens.suite.hashing import skill_content_hash, skills_set_hash
from routelens.suite.problems import Problem


class Category(StrEnum):
    """The six case categories; each has one verdict rule (see `runner/verdicts.py`)."""

    DIRECT = "direct"
    DISAMBIGUATION = "disambiguation"
    NEGATIVE = "negative"
    WORKFLOW = "workflow"
    EDGE = "edge"
    CONTEXT = "context"


@dataclass(frozen=True)
class Skill:
    """One SKILL.md: its front matter, body and content hash."""

    name: str
    folder_name: str
    description: str
    path: Path
    content_hash: str
    body: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    text: str = ""
    has_front_matter: bool = True

    @property
    def aliases(self) -> frozenset[str]:
        """The names a case or a router may use for this skill: front-matter name and folder."""
        return frozenset({self.name, self.folder_name})

    def with_description(self, description: str) -> Skill:
        """This skill with another description; its hash is the hash of the SKILL.md text
        with the description replaced (see `suite/descriptions.py`)."""
        text = replace_description(self.text, description, fallback_name=self.folder_name)
        return replace(
            self,
            description=description.strip(),
            text=text,
            content_hash=skill_content_hash(text),
            has_front_matter=True,
        )


@dataclass(frozen=True)
class SkillSet:
    """The skills under test, with a hash that changes when any SKILL.md changes."""

    root: Path
    skills: tuple[Skill, ...]
    skills_hash: str
    problems: tuple[Problem, ...] = ()
    """Warnings found while loading (rules Claude Code lets through, skipped skills)."""

    def with_descriptions(self, descriptions: Mapping[str, str]) -> SkillSet:
        """The set with some descriptions replaced, by skill (front-matter or folder name).

        Each replaced skill's content hash, and so the skills hash, changes as if its
        SKILL.md had been edited. An unknown skill is an `InputError`.

        >>> trial = skill_set.with_descriptions({"jira-search": "Find issues with JQL."})
        ... # doctest: +SKIP
        """
        replaced: dict[str, str] = {}
        for name, description in descriptions.items():
            skill = self.resolve(name)
            if skill is None:
                raise InputError(
                    "--description",
                    f"unknown skill {name!r} (known: {', '.join(self.names)})",
                    field="description",
                )
            replaced[skill.name] = description
        if not replaced:
            return self
        skills = tuple(
            skill.with_description(replaced[skill.name]) if skill.name in replaced else skill
            for skill in self.skills
        )
        digest = skills_set_hash((skill.name, skill.content_hash) for skill in skills)
        return replace(self, skills=skills, skills_hash=digest)

    def resolve(self, name: str | None) -> Skill | None:
        """The skill answering to `name` (front-matter or folder name), or None."""
        if name is None:
            return None
        for skill in self.skills:
            if name in skill.aliases:
                return skill
        return None

    def canonical(self, name: str | None) -> str | None:
        """The front-matter name for `name`; an unknown name is returned unchanged."""
        skill = self.resolve(name)
        return skill.name if skill else name

    @property
    def names(self) -> tuple[str, ...]:
        """Front-matter names, in folder order."""
        return tuple(skill.name for skill in self.skills)


class _CaseModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorkflowStep(_CaseModel):
    """One step of a multi-skill workflow case (`{skill, action}`, or just the skill)."""

    skill: str
    action: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _skill_alone(cls, value: Any) -> Any:
        return {"skill": value} if isinstance(value, str) else value


class CommandPattern(_CaseModel):
    """A command the response should contain: a literal `pattern` (also written as a plain
    string) or a `pattern_regex`."""

    pattern: str | None = None
    pattern_regex: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _plain_text(cls, value: Any) -> Any:
        return {"pattern": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _exactly_one(self) -> CommandPattern:
        if (self.pattern is None) == (self.pattern_regex is None):
            raise ValueError("give exactly one of 'pattern' or 'pattern_regex'")
        if self.pattern_regex is not None:
            try:
                re.compile(self.pattern_regex)
            except re.error as error:
                raise ValueError(f"invalid regular expression: {error}") from None
        return self

    def matches(self, text: str) -> bool:
        """Whether `text` contains the command (literal: case-insensitive; regex: re.search)."""
        if self.pattern is not None:
            return self.pattern.lower() in text.lower()
        return re.search(self.pattern_regex or "", text) is not None


class ContextMessage(_CaseModel):
    """A prior conversation turn sent before the case input."""

    role: Literal["user", "assistant"]
    content: str


CONTEXT_NOTE_KEY = "context"
"""The fact a `context` written as plain text becomes."""
ACTION_ASK_FOR_INPUT = "ask_for_input"
"""`action: ask_for_input`: passes when no skill is chosen or the router asks."""
ACTION_SHOW_QUICK_REFERENCE = "show_quick_reference"
"""`action: show_quick_reference`: passes on `expected_skill` (or an alternate) or a question."""
VERDICT_ACTIONS = (ACTION_ASK_FOR_INPUT, ACTION_SHOW_QUICK_REFERENCE)
"""The `action` values that have a verdict rule; any other value is kept as a note."""


class Case(_CaseModel):
    """One routing case in the golden-set format; `expected_skill: null` means 'should ask'."""

    id: str = Field(min_length=1)
    category: Category
    input: str
    expected_skill: str | None = None
    alternate_skills: tuple[str, ...] = ()
    not_skill: str | None = None
    disambiguation_options: tuple[str, ...] = ()
    workflow: tuple[WorkflowStep, ...] = ()
    expected_commands: tuple[CommandPattern, ...] = ()
    certainty: str | float | None = None
    notes: str | None = None
    action: str | None = None
    context: dict[str, Any] | tuple[ContextMessage, ...] | str | None = None
    tags: tuple[str, ...] = ()
    ask: str | None = None
    requires_confirmation: bool = False
    skip: bool = False
    skip_reason: str | None = None

    @property
    def workflow_skills(self) -> tuple[str, ...]:
        """The skills of the workflow's steps, in order, each once."""
        return tuple(dict.fromkeys(step.skill for step in self.workflow))

    def named_skills(self) -> list[tuple[str, str]]:
        """Every (field path, skill name) the case mentions, for validation against the skills."""
        named: list[tuple[str, str]] = []
        if self.expected_skill is not None:
            named.append(("expected_skill", self.expected_skill))
        named += [(f"alternate_skills[{i}]", s) for i, s in enumerate(self.alternate_skills)]
        if self.not_skill is not None:
            named.append(("not_skill", self.not_skill))
        named += [
            (f"disambiguation_options[{i}]", s) for i, s in enumerate(self.disambiguation_options)
        ]
        named += [(f"workflow[{i}].skill", step.skill) for i, step in enumerate(self.workflow)]
        return named

    @property
    def context_facts(self) -> dict[str, Any]:
        """Context given as facts (a mapping, or plain text as one fact; empty when absent or
        given as messages)."""
        if isinstance(self.context, str):
            return {CONTEXT_NOTE_KEY: self.context}  # a sentence of context is one fact
        return dict(self.context) if isinstance(self.context, dict) else {}

    @property
    def context_messages(self) -> tuple[ContextMessage, ...]:
        """Context given as prior messages (empty when absent or given as facts)."""
        return self.context if isinstance(self.context, tuple) else ()


@dataclass(frozen=True)
class CaseSuite:
    """A loaded case file: its cases in file order and a hash of their definitions."""

    path: Path
    name: str
    version: str | None
    cases: tuple[Case, ...]
    suite_hash: str
    problems: tuple[Problem, ...] = ()
    """Warnings found while loading (unknown keys, suspicious cases)."""
    trigger_skill: str | None = None
    """The skill a trigger eval set tests (None for a golden set)."""
    case_lines: Mapping[str, int] = field(default_factory=dict)
    """The line each case starts on in the file, by case id."""
