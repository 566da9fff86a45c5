"""`routelens skills`: the skills a folder holds, the names they answer to, their hashes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from routelens.commands.common import ConfigOption, JsonOption

if TYPE_CHECKING:
    from routelens.suite.problems import Problem
    from routelens.suite.skills import SkillEntry, SkillFolderReport


def skills(
    skills: Annotated[
        Path | None,
        typer.Option(help="Folder holding the SKILL.md files (default: the config's skills)."),
    ] = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """List the skills a folder holds, with the names they answer to and their hashes.

    Every SKILL.md is listed, each invalid one marked with all its problems; the command
    exits 2 after the listing when any skill is invalid.
    """
    import json

    from routelens.commands.common import required_path
    from routelens.commands.loading import bad_input_exit
    from routelens.config import load_config
    from routelens.suite.hashing import skills_set_hash
    from routelens.suite.problems import count_text
    from routelens.suite.skills import scan_skills_folder

    config = load_config(config_path)
    report = scan_skills_folder(required_path(skills or config.skills, "--skills", "skills"))
    valid = [entry.skill for entry in report.entries if entry.valid and entry.skill]
    digest = skills_set_hash((skill.name, skill.content_hash) for skill in valid)
    problems = report.all_problems
    if as_json:
        payload = {
            "skills_hash": digest,
            "skills": [_entry_dict(entry) for entry in report.entries],
            "problems": [_problem_dict(problem) for problem in report.problems],
        }
        typer.echo(json.dumps(payload))
    else:
        _print_listing(report)
        typer.echo(f"skills hash {digest} ({len(valid)} valid of {len(report.entries)})")
    if any(problem.is_error for problem in problems):
        raise bad_input_exit(f"skills: {count_text(problems)}")


def _problem_dict(problem: Problem) -> dict[str, Any]:
    return {
        "severity": str(problem.severity),
        "source": problem.source,
        "line": problem.line,
        "field": problem.field,
        "message": problem.message,
    }


def _entry_dict(entry: SkillEntry) -> dict[str, Any]:
    skill = entry.skill
    return {
        "name": entry.name,
        "folder": entry.path.parent.name,
        "valid": entry.valid,
        "content_hash": skill.content_hash if skill else None,
        "path": str(entry.path),
        "description": skill.description if skill else None,
        "problems": [_problem_dict(problem) for problem in entry.problems],
    }


def _print_listing(report: SkillFolderReport) -> None:
    for entry in report.entries:
        folder = entry.path.parent.name
        alias = "" if folder == entry.name else f" (folder {folder})"
        if entry.skill is not None and entry.valid:
            typer.echo(f"{entry.name}{alias}  {entry.skill.content_hash[:12]}")
        else:
            typer.echo(f"{entry.name}{alias}  INVALID")
        for problem in entry.problems:
            typer.echo(f"  {problem.listing()}")
    for problem in report.problems:
        typer.echo(problem.listing())
