"""`--out DIR`: a copy of the skills folder with the new descriptions, and its diff.

The original folder is only read. The copy holds every file (symlinked skills copied as
files); each changed SKILL.md is the original text with only its `description:` entry
replaced (suite/descriptions.py), so the diff shows one line per skill.
"""

from __future__ import annotations

import difflib
import shutil
from collections.abc import Mapping
from pathlib import Path

from routelens.errors import InputError
from routelens.suite.models import SkillSet


def check_out_folder(out: Path, skills_dir: Path) -> Path:
    """`out` if it can take the copy: absent or an empty folder, outside the skills folder."""
    resolved, source = out.resolve(), skills_dir.resolve()
    if resolved == source or source in resolved.parents:
        raise InputError(out, "is inside the skills folder; --out must be somewhere else")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(out, "exists and is not an empty folder; --out writes a new copy")
    return out


def write_skills_copy(skills: SkillSet, out: Path, descriptions: Mapping[str, str]) -> str:
    """Copy the skills folder to `out`, write the new descriptions there, return the
    unified diff (paths relative to the skills folder, `a/` original, `b/` new)."""
    shutil.copytree(skills.root, out, dirs_exist_ok=True)
    chunks: list[str] = []
    for name in sorted(descriptions):
        skill = skills.resolve(name)
        if skill is None:
            continue
        relative = _relative(skill.path, skills.root)
        new_text = skill.with_description(descriptions[name]).text
        (out / relative).write_text(new_text, encoding="utf-8")
        chunks += difflib.unified_diff(
            skill.text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            fromfile=f"a/{relative.as_posix()}",
            tofile=f"b/{relative.as_posix()}",
        )
    return "".join(chunks)


def _relative(path: Path, root: Path) -> Path:
    try:
        return path.relative_to(root)
    except ValueError:
        return path.resolve().relative_to(root.resolve())
