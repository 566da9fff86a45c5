"""Claude Code's bundled skills: how a route to one is named, and project names that hide one.

Claude Code lists its own skills (a data-visualisation skill, a code review, ...) beside the
project's; the model may route to them. Such a route is reported as `builtin:<name>`, its
own label in verdicts, confusion and the exporter, never mistaken for a project skill. A
project skill with a bundled skill's name replaces it in Claude Code's listing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from routelens.suite.models import Skill, SkillSet

BUILTIN_PREFIX = "builtin:"


def builtin_route(name: str) -> str:
    """The label of a route to Claude Code's bundled skill `name`.

    >>> builtin_route("dataviz")
    'builtin:dataviz'
    """
    return name if name.startswith(BUILTIN_PREFIX) else BUILTIN_PREFIX + name


def is_builtin_route(label: str | None) -> bool:
    """Whether a routed skill label names one of Claude Code's bundled skills."""
    return label is not None and label.startswith(BUILTIN_PREFIX)


def route_label(
    name: str | None,
    skills: SkillSet,
    bundled: frozenset[str],
    personal: frozenset[str] = frozenset(),
) -> str | None:
    """How a chosen skill is reported: a project skill by its front-matter name, one of Claude
    Code's `bundled` skills as `builtin:<name>`, a personal or unknown name as it is.

    >>> from pathlib import Path
    >>> route_label("dataviz", SkillSet(Path("."), (), ""), frozenset({"dataviz"}))
    'builtin:dataviz'
    """
    if name is None:
        return None
    if skills.resolve(name) is not None:
        return skills.canonical(name)
    if name in personal or name not in bundled:
        return name
    return builtin_route(name)


@dataclass(frozen=True)
class BundledNameCollision:
    """A project skill answering to the name of a skill Claude Code bundles."""

    skill: Skill
    bundled_name: str
    claude_code_version: str | None

    @property
    def message(self) -> str:
        """The warning `validate` prints."""
        version = f" {self.claude_code_version}" if self.claude_code_version else ""
        return (
            f"{self.skill.path}: name: skill {self.skill.name!r} has the name of Claude "
            f"Code{version}'s bundled skill {self.bundled_name!r}; in Claude Code the project's "
            f"skill replaces the bundled one, so routes meant for either are confused"
        )


def bundled_name_collisions(
    skills: SkillSet, bundled_names: Iterable[str], claude_code_version: str | None = None
) -> tuple[BundledNameCollision, ...]:
    """Every project skill whose front-matter or folder name is a bundled skill's name."""
    bundled = frozenset(bundled_names)
    collisions = []
    for skill in skills.skills:
        for name in sorted(skill.aliases & bundled):
            collisions.append(BundledNameCollision(skill, name, claude_code_version))
            break
    return tuple(collisions)
