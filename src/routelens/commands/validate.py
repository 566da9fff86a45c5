"""`routelens validate`: check skills and cases without running anything."""

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
    store: StoreOption = None,
    config_path: ConfigOption = None,
) -> None:
    """Check the skills (and cases) without running anything; exit 2 on a problem.

    Warns when a skill has the name of a skill Claude Code bundles (as captured into the
    store by `routelens claude-prompt capture`)."""
    from routelens.commands.common import required_path
    from routelens.config import load_config
    from routelens.suite.cases import load_case_suite
    from routelens.suite.skills import load_skill_set

    config = load_config(config_path)
    skill_set = load_skill_set(required_path(skills or config.skills, "--skills", "validate"))
    for warning in _bundled_collision_warnings(skill_set, store, config):
        typer.echo(f"routelens: warning: {warning}", err=True)
    message = f"ok: {len(skill_set.skills)} skills (hash {skill_set.skills_hash[:12]})"
    case_file = cases or config.cases
    if case_file is not None:
        suite = load_case_suite(case_file, skill_set, trigger_skill=trigger_skill)
        message += f", {len(suite.cases)} cases (hash {suite.suite_hash[:12]})"
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
