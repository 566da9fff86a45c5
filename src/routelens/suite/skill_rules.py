"""The published SKILL.md rules, as warnings: Claude Code loads skills that break them.

Where Claude Code and the published rules disagree, routelens does what Claude Code does
(that is what routes in production) and warns with the rule. The rules: a `name` of
lowercase letters, digits and hyphens, at most 64 characters, without the reserved words
`anthropic` and `claude`; a `description` of at most 1024 characters without XML tags.
"""

from __future__ import annotations

import re
from pathlib import Path

from routelens.suite.problems import Problem, error, warning

MAX_NAME_LENGTH = 64
MAX_DESCRIPTION_LENGTH = 1024
NAME_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# The Agent Skills rules reserve these words in names; Claude Code loads such skills anyway.
RESERVED_NAME_WORDS = ("anthropic", "claude")
# XML allows no space after '<', so "when a < b and c > d" is prose, not a tag
XML_TAG_PATTERN = re.compile(r"</?[A-Za-z][\w.:-]*(?:\s[^<>]*)?/?>")
# What a skill scaffold leaves behind: a folder or name called "template", or a description
# still asking to be replaced.
_TEMPLATE_WORD = re.compile(r"(?:^|[-_ ])template(?:$|[-_ ])", re.IGNORECASE)
_PLACEHOLDER_DESCRIPTION = re.compile(
    r"^\s*(?:replace (?:this|with)|todo\b|tbd\b|lorem ipsum|\[?(?:your|a) description)",
    re.IGNORECASE,
)


def name_problems(name: str, source: Path, line: int | None) -> list[Problem]:
    """Warnings for a front-matter name that breaks the published naming rules."""
    problems: list[Problem] = []
    if len(name) > MAX_NAME_LENGTH:
        problems.append(
            warning(
                source,
                f"is {len(name)} characters; the rule is at most {MAX_NAME_LENGTH} "
                "(Claude Code loads it anyway)",
                line=line,
                field="name",
            )
        )
    if not NAME_PATTERN.match(name):
        problems.append(
            warning(
                source,
                f"{name!r}: the rule is lowercase letters, digits and single hyphens "
                "(Claude Code loads it under this name anyway)",
                line=line,
                field="name",
            )
        )
    for word in RESERVED_NAME_WORDS:
        if word in name.lower():
            problems.append(
                warning(
                    source,
                    f"{name!r} contains the reserved word {word!r}: the API's skill upload "
                    "rejects it (Claude Code loads it anyway)",
                    line=line,
                    field="name",
                )
            )
    return problems


def description_problems(description: str, source: Path, line: int | None) -> list[Problem]:
    """Errors for text no model can be sent; warnings for the published description rules."""
    if "\x00" in description:
        return [error(source, "contains a NUL character", line=line, field="description")]
    try:
        description.encode("utf-8")
    except UnicodeEncodeError:
        # a "\ud800" escape in a quoted YAML string: it could never be sent to a model
        return [
            error(
                source,
                "contains a lone surrogate escape, which is not text",
                line=line,
                field="description",
            )
        ]
    problems: list[Problem] = []
    if len(description) > MAX_DESCRIPTION_LENGTH:
        problems.append(
            warning(
                source,
                f"is {len(description)} characters; the rule is at most "
                f"{MAX_DESCRIPTION_LENGTH} (Claude Code offers it in full anyway)",
                line=line,
                field="description",
            )
        )
    if XML_TAG_PATTERN.search(description):
        problems.append(
            warning(
                source,
                "contains an XML tag; the rule forbids them (Claude Code offers it anyway)",
                line=line,
                field="description",
            )
        )
    return problems


def placeholder_problems(
    name: str, folder_name: str, description: str, source: Path
) -> list[Problem]:
    """A warning when a skill looks like a scaffold left in place (a `template` skill)."""
    if _TEMPLATE_WORD.search(folder_name) or _TEMPLATE_WORD.search(name):
        return [
            warning(
                source,
                f"{name!r} looks like a template placeholder, not a skill: Claude Code "
                "offers it to the model like any other; remove it or give it a real purpose",
                line=1,
                field="name",
            )
        ]
    if _PLACEHOLDER_DESCRIPTION.match(description):
        return [
            warning(
                source,
                "the description looks like a placeholder still to be written",
                line=1,
                field="description",
            )
        ]
    return []
