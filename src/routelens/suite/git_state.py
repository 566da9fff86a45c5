"""The git commit and branch a skills folder is at, when it is in a repository."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GitState:
    """Commit, branch and whether the folder has uncommitted changes."""

    commit: str | None = None
    branch: str | None = None
    dirty: bool = False


def _git(folder: Path, *args: str) -> str | None:
    try:
        completed = subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None


def git_state(folder: Path) -> GitState:
    """Read the git state of `folder`; outside a repository (or without git) all is None."""
    folder = folder if folder.is_dir() else folder.parent
    commit = _git(folder, "rev-parse", "HEAD")
    if commit is None:
        return GitState()
    branch = _git(folder, "rev-parse", "--abbrev-ref", "HEAD")
    status = _git(folder, "status", "--porcelain", "--", ".")
    return GitState(
        commit=commit,
        branch=None if branch in (None, "HEAD") else branch,
        dirty=bool(status),
    )
