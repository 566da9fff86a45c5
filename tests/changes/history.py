"""A real git repository with a known SKILL.md history, built commit by commit in a test.

Author and committer dates come from the environment, so every sha and date is fixed:

    repo = build_known_history(tmp_path / "repo")
    repo.commits["describe-deploy"]  # the sha of the description edit
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from routelens.suite.hashing import skill_content_hash

AUTHOR = "Ada Lovelace"
EMAIL = "ada@example.com"


def skill_text(name: str, description: str, body: str = "") -> str:
    """A SKILL.md with front matter and a body."""
    return f"---\nname: {name}\ndescription: {json.dumps(description)}\n---\n\n# {name}\n{body}"


@dataclass
class GitRepo:
    """A repository under test: run git in it, write files, commit at fixed times."""

    root: Path
    commits: dict[str, str] = field(default_factory=dict)
    day: int = 0
    offset: str = "+00:00"  # the UTC offset of the next commit's dates

    def git(self, *args: str) -> str:
        """Run git here with an isolated configuration and the next commit's dates."""
        stamp = f"2025-01-{max(self.day, 1):02d}T12:00:00{self.offset}"  # commit N on day N
        env = {
            **os.environ,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": AUTHOR,
            "GIT_AUTHOR_EMAIL": EMAIL,
            "GIT_COMMITTER_NAME": AUTHOR,
            "GIT_COMMITTER_EMAIL": EMAIL,
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
        }
        completed = subprocess.run(
            ["git", "-C", str(self.root), *args],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return completed.stdout.strip()

    def write(self, path: str, text: str) -> str:
        """Write a file (creating folders); returns the text."""
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return text

    def commit(self, label: str, message: str) -> str:
        """Stage everything and commit on the next day; the sha is kept under `label`."""
        self.day += 1
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        sha = self.git("rev-parse", "HEAD")
        self.commits[label] = sha
        return sha


DEPLOY_V1 = skill_text("deploy", "Deploy apps to staging.", "Run the pipeline.\n")
DEPLOY_V2 = skill_text("deploy", "Deploy apps to staging or production.", "Run the pipeline.\n")
REVIEW_V1 = skill_text("review", "Review a pull request.", "Read the diff.\n")
REVIEW_V2 = skill_text("review", "Review a pull request.", "Read the diff.\nRun the tests.\n")
REVIEW_V3 = skill_text("review", "Review a pull request.", "Read the diff.\nRun all tests.\n")
LINT_V1 = skill_text("lint", "Lint Python files.", "Use ruff.\n")
LINT_V2 = skill_text("lint", "Lint and format Python files.", "Use ruff.\n")


def hash_of(text: str) -> str:
    """The content hash a run would record for this SKILL.md text."""
    return skill_content_hash(text)


def build_known_history(root: Path) -> GitRepo:
    """Eight commits: two skills added, a description edit, a body-only edit, a rename, a
    deletion, a new nested skill (and one under node_modules, ignored), an unrelated commit,
    and one commit touching two skills."""
    root.mkdir(parents=True)
    repo = GitRepo(root)
    repo.git("init", "-q", "-b", "main")
    repo.write("skills/deploy/SKILL.md", DEPLOY_V1)
    repo.write("skills/review/SKILL.md", REVIEW_V1)
    repo.commit("add-two", "Add deploy and review")
    repo.write("skills/deploy/SKILL.md", DEPLOY_V2)
    repo.commit("describe-deploy", "Deploy: mention production")
    repo.write("skills/review/SKILL.md", REVIEW_V2)
    repo.commit("body-review", "Review: run the tests")
    repo.git("mv", "skills/review", "skills/code-review")
    repo.commit("rename-review", "Move review to code-review")
    repo.git("rm", "-q", "skills/deploy/SKILL.md")
    repo.commit("delete-deploy", "Drop deploy")
    repo.write(".claude/skills/lint/SKILL.md", LINT_V1)
    repo.write("node_modules/pkg/SKILL.md", skill_text("vendored", "Not ours."))
    repo.commit("add-lint", "Add lint\n\nNested under .claude.")
    repo.write("README.md", "# skills\n")
    repo.commit("readme", "Add a readme")
    repo.write("skills/code-review/SKILL.md", REVIEW_V3)
    repo.write(".claude/skills/lint/SKILL.md", LINT_V2)
    repo.commit("two-skills", "Tune review and lint")
    return repo
