"""SKILL.md texts that travel to another machine rebuild the same skills set, or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from routelens.errors import InputError
from routelens.suite.models import SkillSet
from routelens.suite.skill_texts import skill_texts, write_skill_texts
from routelens.suite.skills import load_skill_set
from tests.conftest import write_skill


def test_the_texts_rebuild_a_set_with_the_same_hash_names_and_front_matter(
    small_skills: SkillSet, tmp_path: Path
) -> None:
    files = skill_texts(small_skills)
    assert sorted(files) == ["issue/SKILL.md", "lifecycle/SKILL.md", "search/SKILL.md"]
    rebuilt = write_skill_texts(files, tmp_path / "elsewhere")
    assert rebuilt.skills_hash == small_skills.skills_hash
    assert [(s.name, s.folder_name, s.description) for s in rebuilt.skills] == [
        (s.name, s.folder_name, s.description) for s in small_skills.skills
    ]
    assert rebuilt.resolve("issue") is not None  # folder names still answer


def test_nested_folders_and_a_single_skill_file_keep_their_names(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write_skill(root / ".claude" / "skills", "deploy", "deploy-app", "Deploy the app.")
    nested = load_skill_set(root)
    files = skill_texts(nested)
    assert list(files) == [".claude/skills/deploy/SKILL.md"]
    assert write_skill_texts(files, tmp_path / "a").skills_hash == nested.skills_hash

    single = load_skill_set(root / ".claude" / "skills" / "deploy" / "SKILL.md")
    files = skill_texts(single)
    assert list(files) == ["deploy/SKILL.md"]
    assert write_skill_texts(files, tmp_path / "b").skills_hash == single.skills_hash


def test_a_skill_edited_after_loading_rebuilds_another_set(
    small_skills: SkillSet, tmp_path: Path
) -> None:
    path = small_skills.skills[0].path
    path.write_text(path.read_text() + "\nmore\n")
    rebuilt = write_skill_texts(skill_texts(small_skills), tmp_path / "elsewhere")
    assert rebuilt.skills_hash != small_skills.skills_hash  # a worker refuses it


@pytest.mark.parametrize("name", ["../outside/SKILL.md", "/etc/SKILL.md", "deploy/notes.md"])
def test_only_skill_texts_inside_the_folder_are_written(name: str, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"not a SKILL\.md path"):
        write_skill_texts({name: "---\nname: x\ndescription: y\n---\n"}, tmp_path / "into")
    assert not (tmp_path / "outside").exists()
