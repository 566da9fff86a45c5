"""`routelens init`: a starter routelens.toml and case file from the skills in a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

SKILL_FOLDERS = ("skills", ".claude/skills", "plugins")
"""Where `init` looks for skills when --skills is not given, in this order."""


def init(
    skills: Annotated[
        Path | None,
        typer.Option(help=f"Skills folder (default: the first of {', '.join(SKILL_FOLDERS)})."),
    ] = None,
    cases: Annotated[Path, typer.Option(help="Case file to write.")] = Path(
        "tests/routing/cases.yaml"
    ),
    config_file: Annotated[
        Path, typer.Option("--config-file", help="Settings file to write.", metavar="FILE")
    ] = Path("routelens.toml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite files that exist.")] = False,
) -> None:
    """Write a starter routelens.toml and case file from the skills a folder holds.

    The case file has one direct case per skill, its input taken from the skill's
    description: it validates and runs as written, and is meant to be rewritten."""
    import os

    from routelens.errors import InputError
    from routelens.suite.cases import load_case_suite
    from routelens.suite.scaffold import starter_cases, starter_config
    from routelens.suite.skills import load_skill_set

    folder = skills or next((Path(name) for name in SKILL_FOLDERS if Path(name).is_dir()), None)
    if folder is None:
        raise InputError(
            "routelens init", f"no skills folder here ({', '.join(SKILL_FOLDERS)}); give --skills"
        )
    skill_set = load_skill_set(folder)
    for path in (config_file, cases):
        if path.exists() and not force:
            raise InputError(path, "exists; keep it, or pass --force to overwrite it")
    name = Path.cwd().name or "routing"
    cases.parent.mkdir(parents=True, exist_ok=True)
    cases.write_text(starter_cases(skill_set, f"{name}-routing"), encoding="utf-8")
    load_case_suite(cases, skill_set)  # what we wrote must be a valid suite
    relative = Path(os.path.relpath(folder, config_file.parent.resolve()))
    relative_cases = Path(os.path.relpath(cases.resolve(), config_file.parent.resolve()))
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(starter_config(relative, relative_cases), encoding="utf-8")
    typer.echo(f"wrote {config_file} and {cases} ({len(skill_set.skills)} skills, one case each)")
    typer.echo(
        "next: edit the inputs in the case file, then `routelens validate` and `routelens run`"
    )
