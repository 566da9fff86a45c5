"""Read every SKILL.md under a folder the way Claude Code does, and report all that is wrong.

Every skill is listed, each with all its problems. A file Claude Code would load is loaded
the same way, even when it breaks a published rule (a warning): without front matter it is
named after its folder, with the folder name as its description, as Claude Code lists it
(`- splunk-alert: splunk-alert`). Only what cannot be read or understood is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from routelens.errors import InputError
from routelens.suite.hashing import skill_content_hash, skills_set_hash
from routelens.suite.models import Skill, SkillSet
from routelens.suite.problems import Problem, error, raise_for_problems, skipped, warning
from routelens.suite.skill_files import (
    SKILL_FILE_NAME,
    SKIPPED_FOLDERS,
    find_skill_files,
    walk_skill_files,
)
from routelens.suite.skill_rules import (
    description_problems,
    name_problems,
    placeholder_problems,
)
from routelens.suite.yaml_lines import load_located_yaml

__all__ = [
    "SKILL_FILE_NAME",
    "SKIPPED_FOLDERS",
    "SkillEntry",
    "SkillFolderReport",
    "find_skill_files",
    "load_skill_set",
    "parse_skill_file",
    "parse_skill_text",
    "read_skill_file",
    "read_skill_text",
    "scan_skills_folder",
]


@dataclass(frozen=True)
class SkillEntry:
    """One SKILL.md: the skill as Claude Code would load it (None if it cannot), and its
    problems. `name` is the best name known for it, for listings."""

    path: Path
    name: str
    skill: Skill | None
    problems: tuple[Problem, ...] = ()

    @property
    def valid(self) -> bool:
        """Whether the skill loads with no error (warnings allowed)."""
        return self.skill is not None and not any(p.is_error for p in self.problems)


@dataclass(frozen=True)
class SkillFolderReport:
    """Every SKILL.md under a folder, and the problems that belong to no one skill."""

    root: Path
    entries: tuple[SkillEntry, ...]
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    @property
    def all_problems(self) -> list[Problem]:
        """Each skill's problems in path order, then the folder's own."""
        return [*(p for e in self.entries for p in e.problems), *self.problems]


def _split_front_matter(text: str) -> tuple[str | None, str, bool]:
    """(front matter YAML or None when there is none, body, whether it is closed)."""
    lines = text.removeprefix("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None, text.removeprefix("\ufeff"), True
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), True
    return "", "", False


def read_skill_file(path: Path) -> SkillEntry:
    """Read one SKILL.md into a `SkillEntry` (never raises)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as failure:
        problem = error(path, f"not UTF-8 text (byte {failure.start})")
        return SkillEntry(path, path.parent.name, None, (problem,))
    except OSError as failure:
        problem = error(path, f"cannot read: {failure.strerror or failure}")
        return SkillEntry(path, path.parent.name, None, (problem,))
    return read_skill_text(text, path)


def _text_value(
    front: dict[str, Any], key: str, path: Path, line: int | None, folder: str
) -> tuple[str | None, list[Problem]]:
    """A front-matter string, or the folder name (with a warning) when it is absent or
    blank, as Claude Code falls back; None (with an error) when it is not text."""
    value = front.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        said = "missing" if value is None else "empty"
        return folder, [
            warning(
                path,
                f"{said}: Claude Code uses the folder name {folder!r} instead",
                line=line,
                field=key,
            )
        ]
    if not isinstance(value, str):
        return None, [
            error(path, f"must be a string, not {type(value).__name__}", line=line, field=key)
        ]
    return value, []


def read_skill_text(text: str, path: Path) -> SkillEntry:
    """Parse SKILL.md text (see `read_skill_file`); `path` names the file and its folder."""
    folder = path.parent.name
    front_text, body, closed = _split_front_matter(text)
    if not closed:
        problem = error(
            path, "front matter is not closed by a '---' line", line=1, field="front matter"
        )
        return SkillEntry(path, folder, None, (problem,))
    problems: list[Problem] = []
    front: dict[str, Any] = {}
    name_line = description_line = 1
    if front_text is None:
        problems.append(
            warning(
                path,
                f"no YAML front matter, so no description: Claude Code loads it as {folder!r} "
                "with its folder name as the description",
                line=1,
                field="front matter",
            )
        )
    else:
        try:
            located = load_located_yaml(front_text, str(path), base_line=1)
        except InputError as failure:
            return SkillEntry(path, folder, None, (Problem.from_input_error(failure),))
        if located.data is not None and not isinstance(located.data, dict):
            problem = error(
                path,
                f"front matter must be a mapping of keys, not a {type(located.data).__name__}",
                line=2,
                field="front matter",
            )
            return SkillEntry(path, folder, None, (problem,))
        front = located.data or {}
        name_line = located.line_of(("name",)) or 2
        description_line = located.line_of(("description",)) or 2
    name, found = (
        (folder, []) if front_text is None else _text_value(front, "name", path, name_line, folder)
    )
    problems += found
    description, found = (
        (folder, [])
        if front_text is None
        else _text_value(front, "description", path, description_line, folder)
    )
    problems += found
    shown_name = name if name is not None else folder
    if name is not None:
        if "\x00" in name:
            problems.append(error(path, "contains a NUL character", line=name_line, field="name"))
        elif "name" in front:
            problems += name_problems(name, path, name_line)
    if description is not None:
        problems += description_problems(description, path, description_line)
    if name is None or description is None or any(p.is_error for p in problems):
        return SkillEntry(path, shown_name, None, tuple(problems))
    problems += placeholder_problems(name, folder, description, path)
    skill = Skill(
        name=name,
        folder_name=folder,
        description=description.strip(),
        path=path,
        content_hash=skill_content_hash(text),
        body=body,
        metadata={str(key): value for key, value in front.items()},
        text=text,
        has_front_matter=front_text is not None,
    )
    return SkillEntry(path, name, skill, tuple(problems))


def parse_skill_text(text: str, path: Path) -> Skill:
    """Parse SKILL.md text into a `Skill`, or raise the first error as an `InputError`."""
    entry = read_skill_text(text, path)
    return _loaded(entry)


def parse_skill_file(path: Path) -> Skill:
    """Read one SKILL.md into a `Skill`, or raise the first error as an `InputError`."""
    return _loaded(read_skill_file(path))


def _loaded(entry: SkillEntry) -> Skill:
    for problem in entry.problems:
        if problem.is_error:
            raise problem.as_input_error()
    assert entry.skill is not None
    return entry.skill


def _mark_duplicates(entries: Sequence[SkillEntry]) -> list[SkillEntry]:
    """No two skills may answer to one name: the later one gets an error."""
    owner: dict[str, SkillEntry] = {}
    checked: list[SkillEntry] = []
    for entry in entries:
        skill = entry.skill
        if skill is None:
            checked.append(entry)
            continue
        clash = next(
            (
                (alias, owner[alias])
                for alias in sorted(skill.aliases)
                if alias in owner and owner[alias] is not entry
            ),
            None,
        )
        if clash is None:
            for alias in skill.aliases:
                owner[alias] = entry
            checked.append(entry)
            continue
        alias, other = clash
        problem = error(
            entry.path, f"{alias!r} already names the skill in {other.path}", line=1, field="name"
        )
        checked.append(replace(entry, skill=None, problems=(*entry.problems, problem)))
    return checked


def scan_skills_folder(root: Path) -> SkillFolderReport:
    """Every SKILL.md under `root`, each read with all its problems; never stops early.

    A missing folder is still an `InputError`: there is nothing to list.
    """
    if not root.exists():
        raise InputError(root, "no such skills folder", field="skills")
    walked = walk_skill_files(root)
    entries = [read_skill_file(path) for path in walked.paths]
    # a dangling SKILL.md is a skill that cannot be read: list it with the others
    folder_problems: list[Problem] = []
    for problem in walked.problems:
        if Path(problem.source).name == SKILL_FILE_NAME:
            path = Path(problem.source)
            entries.append(SkillEntry(path, path.parent.name, None, (problem,)))
        else:
            folder_problems.append(problem)
    entries.sort(key=lambda entry: entry.path)
    return SkillFolderReport(root, tuple(_mark_duplicates(entries)), tuple(folder_problems))


def load_skill_set(root: Path, *, skip_invalid: bool = False, strict: bool = False) -> SkillSet:
    """All skills under `root`, validated together (no two answer to one name), with hashes.

    Any invalid skill stops the load with every problem (`ProblemsError`), unless
    `skip_invalid`: then invalid skills are left out, each with a warning. Warnings are kept
    on the set (`SkillSet.problems`) for the caller to print; `strict` makes them errors.
    """
    report = scan_skills_folder(root)
    problems = report.all_problems
    if skip_invalid:
        problems = [skipped(problem) for problem in problems]
    raise_for_problems(problems, strict=strict)
    skills = [entry.skill for entry in report.entries if entry.valid and entry.skill]
    if not skills:
        reason = "no valid SKILL.md" if report.entries else f"no {SKILL_FILE_NAME} found"
        raise InputError(root, f"{reason} in this folder or below", field="skills")
    digest = skills_set_hash((skill.name, skill.content_hash) for skill in skills)
    return SkillSet(root=root, skills=tuple(skills), skills_hash=digest, problems=tuple(problems))
