"""Find every SKILL.md under a folder, following symlinks, and report what cannot be read.

Nothing is dropped silently: a dangling symlink (a SKILL.md, or a folder that held a skill)
and a folder that cannot be listed each become a problem naming the path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from routelens.suite.problems import Problem, error, warning

SKILL_FILE_NAME = "SKILL.md"
SKIPPED_FOLDERS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".tox"})


@dataclass
class SkillFiles:
    """The SKILL.md files found (sorted, as the walk reached them) and the problems met."""

    paths: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def find_skill_files(root: Path) -> list[Path]:
    """Every readable SKILL.md below `root` at any depth (including `.claude/skills/`), sorted."""
    return walk_skill_files(root).paths


def walk_skill_files(root: Path) -> SkillFiles:
    """Every SKILL.md below `root`, and a problem for each path that could not be followed.

    Symlinked folders are followed (each real folder once, so a link loop ends); tool
    folders (`.git`, `node_modules`, ...) are skipped. A dangling symlink named SKILL.md is
    an error of that skill; a dangling symlink elsewhere outside a skill folder is an error
    too (it is usually a skill folder that moved); inside a skill folder it is a warning
    about one of the skill's own files.
    """
    found = SkillFiles()
    if root.is_file():
        if root.name == SKILL_FILE_NAME:
            found.paths.append(root)
        return found
    _walk(root, found, visited=set())
    found.paths.sort()
    return found


def _walk(folder: Path, found: SkillFiles, visited: set[str]) -> None:
    real = os.path.realpath(folder)
    if real in visited:
        return
    visited.add(real)
    try:
        with os.scandir(folder) as scanned:
            entries = sorted(scanned, key=lambda entry: entry.name)
    except OSError as failure:
        found.problems.append(
            error(folder, f"cannot read this folder: {failure.strerror or failure}", field="skills")
        )
        return
    names = {entry.name for entry in entries}
    in_skill_folder = SKILL_FILE_NAME in names
    for entry in entries:
        path = Path(entry.path)
        if entry.is_symlink() and not os.path.exists(entry.path):
            found.problems.append(_dangling(path, in_skill_folder))
            continue
        if entry.name == SKILL_FILE_NAME:
            if _is_file(entry):
                found.paths.append(path)
            continue
        if entry.name in SKIPPED_FOLDERS or not _is_folder(entry):
            continue
        _walk(path, found, visited)


def _dangling(path: Path, in_skill_folder: bool) -> Problem:
    target = os.readlink(path)
    if path.name == SKILL_FILE_NAME:
        return error(
            path, f"dangling symlink to {target}: the skill's SKILL.md is missing", field="skill"
        )
    if in_skill_folder:
        return warning(path, f"dangling symlink to {target} inside a skill folder", field="skill")
    return error(
        path,
        f"dangling symlink to {target}: a skill folder it pointed to is missing",
        field="skills",
    )


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False
