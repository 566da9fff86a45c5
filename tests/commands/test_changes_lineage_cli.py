"""`routelens changes` follows a skill across its renames, on a real git history.

The history: a skill added without front matter, given front matter with a display name
(`JIRA Issue Management`), renamed to `jira-issue-management`, then moved into a plugin
folder while rewritten (git sees a delete and an add, not a rename); commits dated in
their authors' own UTC offsets.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from routelens.cli import app
from routelens.store import RunSkillRecord, open_store
from tests.changes.history import GitRepo, hash_of, skill_text
from tests.factories import make_run

runner = CliRunner()

OLD = "skills/jira-issue/SKILL.md"
NEW = "plugins/jira/skills/jira-issue/SKILL.md"
V0 = "# Jira issues\n\nCreate and edit issues.\n"
V1 = skill_text("JIRA Issue Management", "Create and edit Jira issues.")
V2 = skill_text("jira-issue-management", "Create and edit Jira issues.")
V3 = skill_text(
    "jira-issue-management",
    "Create, edit, clone and delete single Jira issues, with their fields and attachments.",
    "\n".join(f"Step {n}: something new." for n in range(30)) + "\n",
)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    root = tmp_path_factory.mktemp("lineage") / "repo"
    root.mkdir()
    repo = GitRepo(root)
    repo.git("init", "-q", "-b", "main")
    repo.write(OLD, V0)
    repo.commit("add", "Add the issue skill (no front matter yet)")
    repo.offset = "+02:00"
    repo.write(OLD, V1)
    repo.commit("front-matter", "Give it front matter")
    repo.offset = "-05:00"
    repo.write(OLD, V2)
    repo.commit("rename", "Name it jira-issue-management")
    repo.offset = "+00:00"
    repo.git("rm", "-q", OLD)
    repo.write(NEW, V3)
    repo.commit("move", "Move into the jira plugin and rewrite")
    return repo


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def store(repo: GitRepo, tmp_path: Path) -> str:
    path = str(tmp_path / "store.sqlite")
    invoke("changes", "scan", str(repo.root), "--store", path, "--json")
    return path


@pytest.mark.parametrize(
    "name", ["jira-issue-management", "JIRA Issue Management", "jira-issue", "issue-management"]
)
def test_every_name_resolves_to_every_version(store: str, name: str) -> None:
    result = runner.invoke(app, ["changes", "list", "--skill", name, "--store", store, "--json"])
    assert result.exit_code == 0, result.output
    skills = json.loads(result.stdout)["skills"]
    if name == "issue-management":  # no such name: nothing
        assert skills == []
        return
    [skill] = skills
    assert skill["skill"] == "jira-issue-management"
    assert skill["aliases"] == ["jira-issue", "JIRA Issue Management"]
    kinds = [(version["event"]["kind"], version["event"]["path"]) for version in skill["versions"]]
    assert kinds == [
        ("added", OLD),
        ("modified", OLD),
        ("modified", OLD),
        ("added", NEW),
        ("deleted", OLD),
    ]
    assert [v["hash"] for v in skill["versions"] if v["hash"]][:3] == [
        hash_of(V0),
        hash_of(V1),
        hash_of(V2),
    ]


def test_runs_under_an_old_name_join_the_lineage(repo: GitRepo, store: str) -> None:
    with open_store(store) as opened:
        run = make_run("old-name-run", started_at=datetime(2025, 1, 2, 18, tzinfo=UTC))
        skill = RunSkillRecord(
            "old-name-run", "JIRA Issue Management", "jira-issue", hash_of(V1), "d", OLD
        )
        opened.create_run(run, [skill], [])
    result = invoke("changes", "list", "--skill", "jira-issue-management", "--store", store)
    assert "run old-name-run" in result.stdout
    assert "(also known as " in result.stdout


def test_dates_print_in_the_commits_own_offset_and_a_bare_file_says_so(store: str) -> None:
    result = runner.invoke(app, ["changes", "list", "--store", store, "--json"])
    [skill] = json.loads(result.stdout)["skills"]
    dates = [version["event"]["date"] for version in skill["versions"]]
    assert dates[:3] == [
        "2025-01-01T12:00:00+00:00",
        "2025-01-02T12:00:00+02:00",
        "2025-01-03T12:00:00-05:00",
    ]
    assert skill["versions"][0]["event"]["has_front_matter"] is False
    text = invoke("changes", "list", "--store", store).stdout
    assert "added (no front matter yet)" in text


def test_diff_finds_the_skill_at_an_old_commit_under_its_new_name(
    repo: GitRepo, store: str
) -> None:
    for extra in ([], ["--store", store]):
        result = runner.invoke(
            app,
            [
                "changes",
                "diff",
                "jira-issue-management",
                "--from",
                repo.commits["front-matter"],
                "--repo",
                str(repo.root),
                "--no-color",
                *extra,
            ],
        )
        assert result.exit_code == 0, result.output
        assert f"{repo.commits['front-matter']}:{OLD}" in result.stdout
        assert f"HEAD:{NEW}" in result.stdout
        assert "-name: JIRA Issue Management" in result.stdout
        assert "+name: jira-issue-management" in result.stdout
