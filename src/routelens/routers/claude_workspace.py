"""Where one Claude Code attempt runs: a throwaway project with the skills, and its own home.

Claude Code reads skills from the project's `.claude/skills/`, and also the user's personal
skills, `CLAUDE.md` and settings from `~/.claude` (or `CLAUDE_CONFIG_DIR`). An isolated attempt
points `HOME`, `CLAUDE_CONFIG_DIR` and the XDG folders at an empty home inside the workspace,
so only the skills under test (and Claude Code's own bundled ones) are in the listing.
Credentials still work: `ANTHROPIC_API_KEY`, `ANTHROPIC_AUTH_TOKEN` and `CLAUDE_CODE_OAUTH_TOKEN`
pass through the environment, and a login's `.credentials.json` can be copied in.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from routelens.errors import InputError
from routelens.suite.models import Skill, SkillSet

SKILL_FILE_NAME = "SKILL.md"
CREDENTIALS_FILE_NAME = ".credentials.json"
# No update checks, telemetry, error reports or other calls home during a measurement; a
# value the user already set wins.
QUIET_ENVIRONMENT = {
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
}
MAX_RETRIES_VARIABLE = "CLAUDE_CODE_MAX_RETRIES"
_XDG_FOLDERS = {
    "XDG_CONFIG_HOME": ".config",
    "XDG_CACHE_HOME": ".cache",
    "XDG_DATA_HOME": ".local/share",
    "XDG_STATE_HOME": ".local/state",
}


@dataclass(frozen=True)
class AttemptWorkspace:
    """One attempt's folders; `installed` maps each installed skill folder to the skill's name."""

    root: Path
    project: Path
    home: Path | None
    installed: Mapping[str, str] = field(default_factory=dict)

    @property
    def skills_folder(self) -> Path:
        """The project's `.claude/skills`, where Claude Code finds the skills under test."""
        return self.project / ".claude" / "skills"


def installed_folders(skills: SkillSet) -> dict[str, Skill]:
    """The folder each skill gets under `.claude/skills` (Claude Code lists and calls it by
    that name): its own folder's name, or its front-matter name when two folders share one."""
    folders: dict[str, Skill] = {}
    for skill in skills.skills:
        folder = skill.folder_name if skill.folder_name not in folders else skill.name
        folders[folder] = skill
    return folders


def install_skills(skills: SkillSet, project: Path) -> dict[str, str]:
    """Copy each skill's folder to `project/.claude/skills/<folder>/`, where Claude Code looks.

    Returns the installed folder names with the front-matter name of the skill in each.
    """
    root = project / ".claude" / "skills"
    installed: dict[str, str] = {}
    for folder, skill in installed_folders(skills).items():
        shutil.copytree(
            skill.path.parent, root / folder, ignore=shutil.ignore_patterns(".git"), symlinks=True
        )
        installed[folder] = skill.name
    return installed


def create_workspace(skills: SkillSet, *, isolate: bool) -> AttemptWorkspace:
    """A new temporary workspace with the skills installed (and an empty home if isolated)."""
    root = Path(tempfile.mkdtemp(prefix="routelens-claude-"))
    try:
        project = root / "project"
        project.mkdir()
        home = root / "home" if isolate else None
        if home is not None:
            (home / ".claude").mkdir(parents=True)
        return AttemptWorkspace(root, project, home, install_skills(skills, project))
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def remove_workspace(workspace: AttemptWorkspace) -> None:
    """Delete everything the attempt left behind."""
    shutil.rmtree(workspace.root, ignore_errors=True)


def attempt_environment(
    workspace: AttemptWorkspace,
    base: Mapping[str, str],
    *,
    credentials_file: str | None = None,
    max_retries: int | None = None,
) -> dict[str, str]:
    """The environment Claude Code runs in: `base`, quiet, and pointed at the isolated home."""
    environment = dict(base)
    for name, value in QUIET_ENVIRONMENT.items():
        environment.setdefault(name, value)
    if max_retries is not None:
        environment[MAX_RETRIES_VARIABLE] = str(max_retries)
    if workspace.home is None:
        return environment
    config = workspace.home / ".claude"
    environment["HOME"] = str(workspace.home)
    environment["CLAUDE_CONFIG_DIR"] = str(config)
    for name, folder in _XDG_FOLDERS.items():
        environment[name] = str(workspace.home / folder)
    if credentials_file is not None:
        copy_credentials(Path(credentials_file).expanduser(), config)
    return environment


def copy_credentials(source: Path, config: Path) -> None:
    """Copy a login's credentials file into an isolated configuration folder, private."""
    if not source.is_file():
        raise InputError(
            "router options",
            f"{source} is not a file (a claude login keeps its credentials in "
            f"~/.claude/{CREDENTIALS_FILE_NAME})",
            field="credentials_file",
        )
    target = config / CREDENTIALS_FILE_NAME
    shutil.copyfile(source, target)
    target.chmod(0o600)


def personal_skills_folder(environment: Mapping[str, str]) -> Path | None:
    """Where Claude Code looks for the user's personal skills under this environment."""
    config = environment.get("CLAUDE_CONFIG_DIR")
    if config:
        return Path(config) / "skills"
    home = environment.get("HOME")
    return Path(home) / ".claude" / "skills" if home else None


def personal_skill_names(environment: Mapping[str, str]) -> frozenset[str]:
    """The personal skills Claude Code would list (the folders holding a SKILL.md)."""
    folder = personal_skills_folder(environment)
    if folder is None or not folder.is_dir():
        return frozenset()
    return frozenset(
        entry.name for entry in folder.iterdir() if (entry / SKILL_FILE_NAME).is_file()
    )


def skill_of_read(
    file_path: str, workspace: AttemptWorkspace, personal_folder: Path | None
) -> str | None:
    """The skill whose SKILL.md `file_path` is: a project skill's name, a personal folder's
    name, or None for any other file."""
    path = PurePath(file_path)
    if not path.is_absolute():
        path = workspace.project / path
    if path.name != SKILL_FILE_NAME:
        return None
    folder, parent = path.parent.name, Path(os.path.normpath(path.parent.parent))
    if parent in _same_folder(workspace.skills_folder) and folder in workspace.installed:
        return workspace.installed[folder]
    if personal_folder is not None and parent in _same_folder(personal_folder):
        return folder
    return None


def _same_folder(folder: Path) -> set[Path]:
    """The folder as written and with symlinks resolved (/tmp may be a link)."""
    return {folder, folder.resolve()}
