"""`routelens validate`: check the skills and cases without running anything."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from routelens.commands.common import ConfigOption, StoreOption

if TYPE_CHECKING:
    from routelens.config import RoutelensConfig
    from routelens.suite.models import SkillSet


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
    store: StoreOption = None,
    config_path: ConfigOption = None,
) -> None:
    """Check the skills (and cases) without running anything; exit 2 on a problem.

    Every problem is listed, one a line (file:line: severity: field: message), then a
    count. Errors exit 2; warnings (unknown keys, rules Claude Code lets through, a skill
    named like one Claude Code bundles, as captured by `routelens claude-prompt capture`)
    only with --strict.
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
    if checked.skills is not None:
        for warning in _bundled_collision_warnings(checked.skills, store, config):
            typer.echo(f"routelens: warning: {warning}", err=True)
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


def _bundled_collision_warnings(
    skill_set: SkillSet, store_url: str | None, config: RoutelensConfig
) -> list[str]:
    """Project skills named like a skill bundled with the newest Claude Code captured into the
    store; none without a capture. A missing store is never created."""
    from routelens.commands.common import configured_store_url, open_configured_store
    from routelens.errors import InputError
    from routelens.store.urls import sqlite_file

    local = sqlite_file(configured_store_url(store_url, config))
    if local is not None and not local.is_file():
        return []  # no store: nothing captured, and no database layer to load for that

    from routelens.store.claude_prompts import latest_bundled_skills
    from routelens.suite.builtin import bundled_name_collisions

    try:
        store = open_configured_store(store_url, config)
    except InputError:
        return []  # no store, or one this routelens cannot read: nothing captured to compare
    with store:
        version, bundled = latest_bundled_skills(store)
    return [collision.message for collision in bundled_name_collisions(skill_set, bundled, version)]
