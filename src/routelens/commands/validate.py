"""`routelens validate`: check skills and cases without running anything."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from routelens.commands.common import ConfigOption


def validate(
    skills: Annotated[
        Path | None,
        typer.Option(help="Folder holding the SKILL.md files (default: the config's skills)."),
    ] = None,
    cases: Annotated[
        Path | None, typer.Option(help="Case file to check against them (default: the config's).")
    ] = None,
    trigger_skill: Annotated[
        str | None, typer.Option(help="The skill a trigger eval set (JSON) tests.")
    ] = None,
    config_path: ConfigOption = None,
) -> None:
    """Check the skills (and cases) without running anything; exit 2 on a problem."""
    from routelens.commands.common import required_path
    from routelens.config import load_config
    from routelens.suite.cases import load_case_suite
    from routelens.suite.skills import load_skill_set

    config = load_config(config_path)
    skill_set = load_skill_set(required_path(skills or config.skills, "--skills", "validate"))
    message = f"ok: {len(skill_set.skills)} skills (hash {skill_set.skills_hash[:12]})"
    case_file = cases or config.cases
    if case_file is not None:
        suite = load_case_suite(case_file, skill_set, trigger_skill=trigger_skill)
        message += f", {len(suite.cases)} cases (hash {suite.suite_hash[:12]})"
    typer.echo(message)
