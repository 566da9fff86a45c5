"""`--out`: a full copy of the skills folder with the new descriptions, and its diff."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from routelens.errors import InputError
from routelens.optimize.output import check_out_folder, write_skills_copy
from routelens.suite.skills import load_skill_set

NEW = "Log work on an issue, fill in a timesheet: time spent, hours."


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_the_copy_has_every_file_and_only_the_description_changes(
    timesheet_skills: Path, tmp_path: Path
) -> None:
    (timesheet_skills / "worklog" / "scripts").mkdir()
    (timesheet_skills / "worklog" / "scripts" / "log.sh").write_text("echo log\n")
    before = snapshot(timesheet_skills)
    skills = load_skill_set(timesheet_skills)
    out = tmp_path / "proposed"
    diff = write_skills_copy(skills, out, {"jira-worklog": NEW})
    assert snapshot(timesheet_skills) == before  # the original folder is untouched
    copied = snapshot(out)
    assert set(copied) == set(before)
    changed = [name for name in copied if copied[name] != before[name]]
    assert changed == ["worklog/SKILL.md"]
    reloaded = load_skill_set(out)
    assert reloaded.resolve("jira-worklog").description == NEW  # type: ignore[union-attr]
    assert reloaded.skills_hash == skills.with_descriptions({"jira-worklog": NEW}).skills_hash
    removed = [
        line for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")
    ]
    added = [
        line for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")
    ]
    assert diff.startswith("--- a/worklog/SKILL.md\n+++ b/worklog/SKILL.md\n")
    assert len(removed) == len(added) == 1
    assert added[0] == f"+description: '{NEW}'"  # YAML quotes it: it holds ": "


def test_the_diff_applies_to_the_original_folder_with_git(
    timesheet_skills: Path, tmp_path: Path
) -> None:
    skills = load_skill_set(timesheet_skills)
    diff = write_skills_copy(skills, tmp_path / "out", {"jira-worklog": NEW})
    patch = tmp_path / "change.patch"
    patch.write_text(diff)
    checked = subprocess.run(
        ["git", "apply", "--check", str(patch)],
        cwd=timesheet_skills,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


def test_out_must_be_new_or_empty_and_outside_the_skills(
    timesheet_skills: Path, tmp_path: Path
) -> None:
    assert check_out_folder(tmp_path / "new", timesheet_skills) == tmp_path / "new"
    (tmp_path / "empty").mkdir()
    assert check_out_folder(tmp_path / "empty", timesheet_skills) == tmp_path / "empty"
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(InputError, match="not an empty folder"):
        check_out_folder(tmp_path / "full", timesheet_skills)
    with pytest.raises(InputError, match="inside the skills folder"):
        check_out_folder(timesheet_skills / "copy", timesheet_skills)
