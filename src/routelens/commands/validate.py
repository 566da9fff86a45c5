"""`routelens validate`: check the skills and cases without running anything."""

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
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Warnings are errors too (or [cases] strict = true)."),
    ] = False,
    config_path: ConfigOption = None,
) -> None:
    """Check the skills (and cases) without running anything; exit 2 on a problem.

    Every problem is listed, one a line (file:line: severity: field: message), then a
    count. Errors exit 2; warnings (unknown keys, rules Claude Code lets through) only
    with --strict.
    """
    from routelens.commands.common import required_path
    from routelens.commands.loading import bad_input_exit
    from routelens.config import load_config
    from routelens.suite.problems import blocking, count_text
    from routelens.suite.suite_check import check_suite

    config = load_config(config_path)
    skills_dir = required_path(skills or config.skills, "--skills", "validate")
    case_file = cases or config.cases
    checked = check_suite(skills_dir, case_file, trigger_skill=trigger_skill)
    strict = strict or config.case_settings.strict
    for problem in checked.problems:
        typer.echo(problem.listing())
    if blocking(checked.problems, strict=strict):
        why = " (--strict: warnings count)" if strict else ""
        raise bad_input_exit(f"validate: {count_text(checked.problems)}{why}")
    message = "ok: "
    if checked.skills is not None:
        message += f"{len(checked.skills.skills)} skills (hash {checked.skills.skills_hash[:12]})"
    if checked.cases is not None:
        message += f", {len(checked.cases.cases)} cases (hash {checked.cases.suite_hash[:12]})"
    if checked.problems:
        message += f"; {count_text(checked.problems)}"
    typer.echo(message)
