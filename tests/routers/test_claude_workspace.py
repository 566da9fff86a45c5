"""Where a Claude Code attempt runs: the throwaway project, the isolated home, its environment."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from routelens.errors import InputError
from routelens.routers.claude_workspace import (
    QUIET_ENVIRONMENT,
    attempt_environment,
    create_workspace,
    personal_skill_names,
    remove_workspace,
    skill_of_read,
)
from routelens.suite.models import SkillSet
from tests.conftest import write_skill

USER = {
    "HOME": "/home/me",
    "PATH": "/usr/bin",
    "ANTHROPIC_API_KEY": "sk-ant-x",
    "DISABLE_TELEMETRY": "0",
}


def test_an_isolated_workspace_has_the_skills_and_an_empty_home(small_skills: SkillSet) -> None:
    workspace = create_workspace(small_skills, isolate=True)
    try:
        environment = attempt_environment(workspace, USER, max_retries=2)
        installed = sorted(p.parent.name for p in workspace.skills_folder.glob("*/SKILL.md"))
        assert installed == ["issue", "lifecycle", "search"]
        assert dict(workspace.installed) == {
            "issue": "jira-issue",
            "lifecycle": "jira-lifecycle",
            "search": "jira-search",
        }
        assert workspace.home is not None
        assert environment["HOME"] == str(workspace.home)
        assert environment["CLAUDE_CONFIG_DIR"] == str(workspace.home / ".claude")
        assert environment["XDG_CONFIG_HOME"].startswith(str(workspace.home))
        assert environment["ANTHROPIC_API_KEY"] == "sk-ant-x"  # credentials pass through
        assert environment["CLAUDE_CODE_MAX_RETRIES"] == "2"
        assert environment["DISABLE_TELEMETRY"] == "0"  # the user's own choice wins
        for name in set(QUIET_ENVIRONMENT) - {"DISABLE_TELEMETRY"}:
            assert environment[name] == "1"
        assert personal_skill_names(environment) == frozenset()
    finally:
        remove_workspace(workspace)
    assert not workspace.root.exists()


def test_without_isolation_the_users_home_and_personal_skills_stay(
    small_skills: SkillSet, tmp_path: Path
) -> None:
    write_skill(tmp_path / ".claude" / "skills", "notes", "notes", "My notes.")
    (tmp_path / ".claude" / "skills" / "empty-folder").mkdir()
    workspace = create_workspace(small_skills, isolate=False)
    try:
        environment = attempt_environment(workspace, {**USER, "HOME": str(tmp_path)})
        assert workspace.home is None
        assert environment["HOME"] == str(tmp_path)
        assert "CLAUDE_CONFIG_DIR" not in environment
        assert "CLAUDE_CODE_MAX_RETRIES" not in environment
        assert personal_skill_names(environment) == {"notes"}
    finally:
        remove_workspace(workspace)


def test_login_credentials_are_copied_in_privately(small_skills: SkillSet, tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.json"
    credentials.write_text('{"claudeAiOauth": {}}')
    workspace = create_workspace(small_skills, isolate=True)
    try:
        attempt_environment(workspace, USER, credentials_file=str(credentials))
        assert workspace.home is not None
        copied = workspace.home / ".claude" / ".credentials.json"
        assert copied.read_text() == '{"claudeAiOauth": {}}'
        assert stat.S_IMODE(copied.stat().st_mode) == 0o600
        with pytest.raises(InputError) as raised:
            attempt_environment(workspace, USER, credentials_file=str(tmp_path / "missing"))
        assert raised.value.field == "credentials_file"
    finally:
        remove_workspace(workspace)


def test_only_a_skill_md_under_an_installed_or_personal_folder_is_a_skill_read(
    small_skills: SkillSet, tmp_path: Path
) -> None:
    workspace = create_workspace(small_skills, isolate=True)
    personal = tmp_path / "skills"
    try:
        project_skills = workspace.skills_folder
        assert skill_of_read(str(project_skills / "search" / "SKILL.md"), workspace, personal) == (
            "jira-search"
        )
        assert skill_of_read(".claude/skills/issue/SKILL.md", workspace, None) == "jira-issue"
        assert skill_of_read(str(personal / "notes" / "SKILL.md"), workspace, personal) == "notes"
        assert skill_of_read(str(project_skills / "search" / "notes.md"), workspace, None) is None
        assert skill_of_read(str(project_skills / "gone" / "SKILL.md"), workspace, None) is None
        assert skill_of_read("/elsewhere/skills/search/SKILL.md", workspace, None) is None
    finally:
        remove_workspace(workspace)
