"""`routelens claude-prompt`: capture the request Claude Code sends, for API runs in its shape."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from routelens.commands.common import (
    ConfigOption,
    JsonOption,
    StoreOption,
    command_group,
    reports_input_errors,
)
from routelens.commands.common import open_configured_store as _open
from routelens.config import load_config
from routelens.errors import InputError
from routelens.routers.claude_code_capture import capture_claude_code_request
from routelens.routers.claude_code_prompt import (
    ClaudeCodePrompt,
    listing_line,
    template_from_capture,
)
from routelens.routers.claude_workspace import installed_folders
from routelens.store.claude_prompts import (
    StoredClaudePrompt,
    list_claude_prompts,
    save_claude_prompt,
)
from routelens.suite.skills import load_skill_set

claude_prompt_app = command_group(
    "claude-prompt",
    "Capture Claude Code's own request, for API runs that see skills as Claude Code shows "
    "them. With it, `--router anthropic --router-option prompt=claude-code` sends requests of "
    "that shape.",
)


def _stored(prompt: ClaudeCodePrompt, skills_hash: str) -> StoredClaudePrompt:
    return StoredClaudePrompt(
        template_hash=prompt.template_hash,
        claude_code_version=prompt.claude_code_version,
        model=prompt.model,
        skills_hash=skills_hash,
        bundled_skills=prompt.bundled_skills,
        template=prompt.to_json(),
        captured_at=datetime.now(UTC),
    )


def _summary(stored: StoredClaudePrompt) -> dict[str, Any]:
    return {
        "template_hash": stored.template_hash,
        "claude_code_version": stored.claude_code_version,
        "model": stored.model,
        "skills_hash": stored.skills_hash,
        "bundled_skills": list(stored.bundled_skills),
        "captured_at": stored.captured_at.isoformat(),
    }


@claude_prompt_app.command("capture")
@reports_input_errors
def capture(
    skills: Annotated[Path, typer.Option(help="Folder holding the SKILL.md files.")],
    executable: Annotated[
        str, typer.Option(help="Your Claude Code binary: a name on PATH or a path.")
    ] = "claude",
    model: Annotated[
        str | None, typer.Option(help="The model to capture for (Claude Code's default if unset).")
    ] = None,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds Claude Code may take.")] = 120.0,
    store: StoreOption = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Run Claude Code once against a loopback server and store the request it sends.

    Nothing leaves the machine: Claude Code runs with an empty home and a placeholder key, and
    its one request is answered locally. The template (system prompt, tools, the skills
    listing, Claude Code's bundled skills, beta headers, version) is stored under its hash.
    """
    skill_set = load_skill_set(skills)
    found = shutil.which(executable)
    if found is None:
        raise InputError("--executable", f"{executable} not found on PATH", field="executable")
    captured = capture_claude_code_request(found, skill_set, model=model, timeout_s=timeout)
    prompt = template_from_capture(captured, skill_set)
    stored = _stored(prompt, skill_set.skills_hash)
    with _open(store, load_config(config_path), access="create") as opened:
        added = save_claude_prompt(opened, stored)
    folders = installed_folders(skill_set)
    shortened = [
        entry.skill
        for entry in prompt.project_entries
        if entry.line != listing_line(entry.folder, folders[entry.folder])
    ]
    if as_json:
        typer.echo(json.dumps({**_summary(stored), "added": added, "shortened": shortened}))
        return
    state = "stored" if added else "already stored"
    typer.echo(
        f"{state}: template {prompt.template_hash[:12]} from Claude Code "
        f"{prompt.claude_code_version} for {prompt.model}"
    )
    typer.echo(f"bundled skills ({len(prompt.bundled_skills)}): {', '.join(prompt.bundled_skills)}")
    if shortened:
        typer.echo(
            f"Claude Code shortened the listing line of: {', '.join(shortened)} (API runs "
            f"reuse its lines while these SKILL.md files are unchanged)"
        )
    typer.echo(
        "use it with: routelens run --router anthropic --router-option prompt=claude-code "
        f"--model {prompt.model}"
    )


@claude_prompt_app.command("list")
@reports_input_errors
def list_prompts(
    store: StoreOption = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """List the captured templates, newest first."""
    with _open(store, load_config(config_path)) as opened:
        stored = list_claude_prompts(opened)
    if as_json:
        typer.echo(json.dumps({"templates": [_summary(item) for item in stored]}))
        return
    for item in stored:
        typer.echo(
            f"{item.template_hash[:12]}  Claude Code {item.claude_code_version}  {item.model}  "
            f"{len(item.bundled_skills)} bundled skills  {item.captured_at:%Y-%m-%d %H:%M}"
        )
