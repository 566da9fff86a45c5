"""A skills set as plain text, to rebuild it on a machine that lacks the folder.

A queued run's workers may run anywhere: the submitter sends every SKILL.md's text (by its
path under the skills folder), and a worker writes the files into a folder of its own and
loads them with the usual loader, so the rebuilt set is checked by the same hash the run
recorded. Only SKILL.md files travel: a router that needs a skill's other files (the
`claude-code` router copies whole skill folders) gets them from `routelens worker --skills`.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from routelens.errors import InputError
from routelens.suite.models import SkillSet
from routelens.suite.skills import SKILL_FILE_NAME, load_skill_set


def skill_texts(skills: SkillSet) -> dict[str, str]:
    """Each SKILL.md's text by its POSIX path under the skills folder, as the file holds it
    now (a file edited since the set was loaded gives another skills hash: the worker that
    loads the texts refuses them)."""
    files: dict[str, str] = {}
    for skill in skills.skills:
        if skills.root.is_dir():
            relative = PurePosixPath(skill.path.relative_to(skills.root).as_posix())
        else:  # the set is one SKILL.md given directly
            relative = PurePosixPath(skill.folder_name, SKILL_FILE_NAME)
        files[str(relative)] = skill.path.read_bytes().decode("utf-8")
    return files


def write_skill_texts(files: dict[str, str], folder: Path) -> SkillSet:
    """Write `files` (from `skill_texts`) under `folder` and load them as a skills set."""
    for name, text in files.items():
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts or relative.name != SKILL_FILE_NAME:
            raise InputError(name, "not a SKILL.md path inside a skills folder", field="skills")
        path = folder.joinpath(*relative.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    return load_skill_set(folder)
