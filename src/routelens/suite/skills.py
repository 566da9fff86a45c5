"""Find every SKILL.md under a folder, parse its front matter, validate it, and hash it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from routelens.errors import InputError
from routelens.suite.hashing import skill_content_hash, skills_set_hash
from routelens.suite.models import Skill, SkillSet
from routelens.suite.yaml_lines import load_located_yaml

SKILL_FILE_NAME = "SKILL.md"
MAX_NAME_LENGTH = 64
MAX_DESCRIPTION_LENGTH = 1024
NAME_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Claude's own validation rejects these in skill names; so do we, before a run is wasted.
RESERVED_NAME_WORDS = ("anthropic", "claude")
# XML allows no space after '<', so "when a < b and c > d" is prose, not a tag
XML_TAG_PATTERN = re.compile(r"</?[A-Za-z][\w.:-]*(?:\s[^<>]*)?/?>")
SKIPPED_FOLDERS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".tox"})


def find_skill_files(root: Path) -> list[Path]:
    """Every SKILL.md below `root` at any depth (including `.claude/skills/`), sorted."""
    if root.is_file():
        return [root] if root.name == SKILL_FILE_NAME else []
    found: list[Path] = []
    for path in sorted(root.rglob(SKILL_FILE_NAME)):
        relative_parts = path.relative_to(root).parts[:-1]
        if not SKIPPED_FOLDERS.intersection(relative_parts) and path.is_file():
            found.append(path)
    return found


def _split_front_matter(text: str, source: str) -> tuple[str, str, int]:
    """(front matter YAML, body, line where the body starts) or an InputError."""
    lines = text.removeprefix("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise InputError(
            source,
            "no YAML front matter: the file must start with a '---' line",
            line=1,
            field="front matter",
        )
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2
    raise InputError(
        source, "front matter is not closed by a '---' line", line=1, field="front matter"
    )


def _text_field(front: dict[str, Any], key: str, source: str, line: int | None) -> str:
    value = front.get(key)
    if key not in front:
        raise InputError(source, "required field missing", line=line, field=key)
    if not isinstance(value, str):
        raise InputError(
            source, f"must be a string, not {type(value).__name__}", line=line, field=key
        )
    return value


def _validate_name(name: str, source: str, line: int | None) -> None:
    if len(name) > MAX_NAME_LENGTH:
        raise InputError(
            source, f"is {len(name)} characters; at most {MAX_NAME_LENGTH}", line=line, field="name"
        )
    if not NAME_PATTERN.match(name):
        raise InputError(
            source,
            f"{name!r} must be lowercase letters, digits and single hyphens",
            line=line,
            field="name",
        )
    for word in RESERVED_NAME_WORDS:
        if word in name:
            raise InputError(
                source, f"{name!r} contains the reserved word {word!r}", line=line, field="name"
            )


def _validate_description(description: str, source: str, line: int | None) -> None:
    if not description.strip():
        raise InputError(source, "must not be empty", line=line, field="description")
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise InputError(
            source,
            f"is {len(description)} characters; at most {MAX_DESCRIPTION_LENGTH}",
            line=line,
            field="description",
        )
    if XML_TAG_PATTERN.search(description):
        raise InputError(source, "must not contain XML tags", line=line, field="description")
    try:
        description.encode("utf-8")
    except UnicodeEncodeError:
        # a "\ud800" escape in a quoted YAML string: it could never be sent to a model
        raise InputError(
            source,
            "contains a lone surrogate escape, which is not text",
            line=line,
            field="description",
        ) from None


def parse_skill_file(path: Path) -> Skill:
    """Read one SKILL.md into a `Skill`, or raise `InputError` naming file, line and field."""
    source = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(source, f"not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise InputError(source, f"cannot read: {error.strerror}") from None
    return parse_skill_text(text, path)


def parse_skill_text(text: str, path: Path) -> Skill:
    """Parse SKILL.md text (see `parse_skill_file`); `path` names the file and its folder."""
    source = str(path)
    front_text, body, _ = _split_front_matter(text, source)
    located = load_located_yaml(front_text, source, base_line=1)
    front = located.data
    if not isinstance(front, dict):
        kind = "empty" if front is None else f"a {type(front).__name__}"
        raise InputError(
            source,
            f"front matter must be a mapping of keys, not {kind}",
            line=2,
            field="front matter",
        )
    name = _text_field(front, "name", source, located.line_of(("name",)) or 1)
    _validate_name(name, source, located.line_of(("name",)))
    description = _text_field(front, "description", source, located.line_of(("description",)))
    _validate_description(description, source, located.line_of(("description",)))
    metadata = {str(key): value for key, value in front.items()}
    return Skill(
        name=name,
        folder_name=path.parent.name,
        description=description.strip(),
        path=path,
        content_hash=skill_content_hash(text),
        body=body,
        metadata=metadata,
    )


def _check_unique(skills: list[Skill]) -> None:
    owner: dict[str, Skill] = {}
    for skill in skills:
        for alias in sorted(skill.aliases):
            other = owner.get(alias)
            if other is not None and other is not skill:
                raise InputError(
                    skill.path,
                    f"{alias!r} already names the skill in {other.path}",
                    line=1,
                    field="name",
                )
            owner[alias] = skill


def iter_skills(root: Path) -> Iterator[Skill]:
    """Parse each SKILL.md under `root`, in path order."""
    for path in find_skill_files(root):
        yield parse_skill_file(path)


def load_skill_set(root: Path) -> SkillSet:
    """All skills under `root`, validated together (no two answer to one name), with hashes."""
    if not root.exists():
        raise InputError(root, "no such skills folder", field="skills")
    skills = list(iter_skills(root))
    if not skills:
        raise InputError(
            root, f"no {SKILL_FILE_NAME} found in this folder or below", field="skills"
        )
    _check_unique(skills)
    digest = skills_set_hash((skill.name, skill.content_hash) for skill in skills)
    return SkillSet(root=root, skills=tuple(skills), skills_hash=digest)
