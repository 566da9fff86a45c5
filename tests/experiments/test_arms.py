"""Arms: folders as they are, git refs unpacked from the repository and cleaned up."""

from __future__ import annotations

from pathlib import Path

import pytest

from routelens.errors import InputError
from routelens.experiments.arms import (
    default_skills_path,
    describe_arm_input,
    materialised,
    repository_root,
    resolve_commit,
)
from routelens.experiments.model import ArmKind
from routelens.suite.skills import load_skill_set
from tests.experiments.conftest import V2_SEARCH_DESCRIPTION, git


def test_a_folder_is_an_arm_as_it_is(control_dir: Path) -> None:
    arm = describe_arm_input(str(control_dir), repo=None, skills_path="skills", flag="--control")
    assert arm.kind is ArmKind.FOLDER
    with materialised(arm) as root:
        assert root == control_dir.resolve()


def test_git_refs_unpack_each_version_and_leave_nothing_behind(skills_repo: Path) -> None:
    roots: list[Path] = []
    descriptions = {}
    for ref in ("v1", "main"):
        arm = describe_arm_input(ref, repo=skills_repo, skills_path="plugin/skills", flag="--c")
        assert arm.kind is ArmKind.GIT
        assert arm.commit == git(skills_repo, "rev-parse", ref)
        with materialised(arm) as root:
            roots.append(root)
            skills = load_skill_set(root)
            descriptions[ref] = skills.resolve("jira-search").description  # type: ignore[union-attr]
            assert not (root.parent.parent / "README.md").exists()  # only the skills path
    assert descriptions["main"] == V2_SEARCH_DESCRIPTION
    assert descriptions["v1"] != V2_SEARCH_DESCRIPTION
    assert all(not root.exists() for root in roots)
    assert git(skills_repo, "status", "--porcelain") == ""  # the repository is untouched


def test_a_commit_is_pinned_when_the_arm_is_described(skills_repo: Path) -> None:
    arm = describe_arm_input("main", repo=skills_repo, skills_path="plugin/skills", flag="--c")
    (skills_repo / "plugin" / "skills" / "issue" / "SKILL.md").unlink()
    git(skills_repo, "commit", "-q", "-am", "v3 drops a skill")
    with materialised(arm) as root:
        assert len(load_skill_set(root).skills) == 3


def test_the_default_skills_path_is_the_control_folder_inside_its_repo(
    skills_repo: Path, tmp_path: Path
) -> None:
    root = repository_root(skills_repo / "plugin" / "skills")
    assert root is not None
    assert default_skills_path(str(skills_repo / "plugin" / "skills"), root) == "plugin/skills"
    assert default_skills_path("main", root) == "skills"


@pytest.mark.parametrize(
    ("value", "skills_path", "message"),
    [
        ("no-such-branch", "plugin/skills", "neither a folder nor a commit"),
        ("--upload-pack=evil", "plugin/skills", "neither a folder nor a commit"),
        ("main", "../outside", "inside the repository"),
    ],
)
def test_bad_refs_and_paths_are_input_errors(
    skills_repo: Path, value: str, skills_path: str, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        describe_arm_input(value, repo=skills_repo, skills_path=skills_path, flag="--treatment")


def test_a_skills_path_missing_at_that_commit_is_an_input_error(skills_repo: Path) -> None:
    arm = describe_arm_input("v1", repo=skills_repo, skills_path="nowhere", flag="--control")
    with pytest.raises(InputError, match="cannot read the skills"), materialised(arm):
        pass


def test_a_ref_without_a_repository_is_an_input_error() -> None:
    with pytest.raises(InputError, match="pass --repo"):
        describe_arm_input("main", repo=None, skills_path="skills", flag="--control")


def test_resolve_commit_accepts_tags_branches_and_relative_refs(skills_repo: Path) -> None:
    assert resolve_commit(skills_repo, "v1") == resolve_commit(skills_repo, "main~1")
    assert resolve_commit(skills_repo, "main") != resolve_commit(skills_repo, "v1")


def test_an_arm_with_replaced_descriptions_round_trips_and_loads_with_them(
    skills_dir: Path,
) -> None:
    from routelens.experiments.arms import load_arm_skills
    from routelens.experiments.model import ArmKind, ArmSpec
    from routelens.suite.skills import load_skill_set

    descriptions = {"jira-search": "Find issues with JQL, saved filters and timesheets."}
    expected = load_skill_set(skills_dir).with_descriptions(descriptions)
    arm = ArmSpec(ArmKind.FOLDER, str(skills_dir), expected.skills_hash, descriptions=descriptions)
    assert ArmSpec.from_json(arm.to_json()) == arm
    assert arm.describe() == f"{skills_dir} (new description: jira-search)"
    loaded = load_arm_skills(arm, skills_dir)
    assert loaded.skills_hash == expected.skills_hash
    assert loaded.resolve("jira-search").description == descriptions["jira-search"]  # type: ignore[union-attr]
    plain = ArmSpec(ArmKind.FOLDER, str(skills_dir), "")
    assert "descriptions" not in plain.to_json()  # experiments stored before stay as they were
