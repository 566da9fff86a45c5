"""`routelens skills`: the skills a folder holds, the names they answer to, their hashes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from routelens.commands.common import ConfigOption, JsonOption


def skills(
    skills: Annotated[
        Path | None,
        typer.Option(help="Folder holding the SKILL.md files (default: the config's skills)."),
    ] = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """List the skills a folder holds, with the names they answer to and their hashes."""
    import json

    from routelens.commands.common import required_path
    from routelens.config import load_config
    from routelens.suite.skills import load_skill_set

    config = load_config(config_path)
    skill_set = load_skill_set(required_path(skills or config.skills, "--skills", "skills"))
    rows = [
        {
            "name": skill.name,
            "folder": skill.folder_name,
            "content_hash": skill.content_hash,
            "path": str(skill.path),
            "description": skill.description,
        }
        for skill in skill_set.skills
    ]
    if as_json:
        typer.echo(json.dumps({"skills_hash": skill_set.skills_hash, "skills": rows}))
        return
    for row in rows:
        alias = "" if row["folder"] == row["name"] else f" (folder {row['folder']})"
        typer.echo(f"{row['name']}{alias}  {row['content_hash'][:12]}")
    typer.echo(f"skills hash {skill_set.skills_hash}")
