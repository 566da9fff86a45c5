"""`routelens completion`: shell completion for routelens (bash, zsh, fish, PowerShell)."""

from __future__ import annotations

from typing import Annotated

import typer

PROG_NAME = "routelens"
COMPLETE_VARIABLE = "_ROUTELENS_COMPLETE"
SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")


def completion(
    shell: Annotated[str, typer.Argument(help=f"One of: {', '.join(SHELLS)}.", metavar="SHELL")],
    install: Annotated[
        bool, typer.Option("--install", help="Install it in the shell's start-up files.")
    ] = False,
) -> None:
    """Print the shell completion script (or install it with --install)."""
    from typer._completion_shared import get_completion_script
    from typer._completion_shared import install as install_script

    if shell not in SHELLS:
        raise typer.BadParameter(f"{shell!r} is not one of: {', '.join(SHELLS)}")
    if install:
        installed, path = install_script(
            shell=shell, prog_name=PROG_NAME, complete_var=COMPLETE_VARIABLE
        )
        typer.echo(f"{installed} completion installed in {path}; it works in new shells.")
        return
    typer.echo(
        get_completion_script(prog_name=PROG_NAME, complete_var=COMPLETE_VARIABLE, shell=shell)
    )


def prepare_completion_request() -> None:
    """When a shell asks for completions, register typer's completion classes first."""
    from typer._completion_classes import completion_init

    completion_init()
