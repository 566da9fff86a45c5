"""What every command shares: option types, the bad-input contract, store and label parsing."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

from routelens.commands.exit_codes import EXIT_BAD_INPUT
from routelens.commands.loading import CONTEXT_SETTINGS
from routelens.errors import InputError
from routelens.store.urls import DEFAULT_STORE_URL

if TYPE_CHECKING:
    from rich.console import Console

    from routelens.config import RoutelensConfig
    from routelens.store.sqlstore import Store, StoreAccess


P = ParamSpec("P")
R = TypeVar("R")

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="routelens.toml (default: ./routelens.toml or [tool.routelens] in ./pyproject.toml).",
    ),
]
StoreOption = Annotated[
    str | None,
    typer.Option("--store", help=f"Store URL or SQLite path [default: {DEFAULT_STORE_URL}]."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
SkillsOption = Annotated[
    Path | None,
    typer.Option(help="Folder holding the SKILL.md files (default: the config's skills)."),
]
CasesOption = Annotated[
    Path | None,
    typer.Option(help="Case file, YAML golden set or trigger eval JSON (default: the config's)."),
]
RouterOption = Annotated[
    str | None,
    typer.Option(
        help="local (offline, the default), anthropic, openai, claude-code, or "
        "package.module:factory."
    ),
]
ModelOption = Annotated[str | None, typer.Option(help="Model the router asks.")]
RouterOptionsOption = Annotated[
    list[str] | None, typer.Option(help="key=value passed to the router, repeatable.")
]
RepeatOption = Annotated[int | None, typer.Option(min=1, help="Attempts per case.")]
ConcurrencyOption = Annotated[int | None, typer.Option(min=1, help="Attempts in flight.")]
LabelOption = Annotated[
    list[str] | None, typer.Option("--label", help="Run label key=value, repeatable.")
]


def reports_input_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn an `InputError` into one line on stderr and exit code 2 (never a traceback)."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except InputError as error:
            for line in error.detail_lines():
                typer.echo(line, err=True)
            typer.echo(f"routelens: error: {error.one_line()}", err=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None

    return wrapper


def open_configured_store(
    store_url: str | None, config: RoutelensConfig, *, access: StoreAccess = "read"
) -> Store:
    """The store named by `--store`, else by the config, else the default SQLite file.

    Read-only unless `access` says otherwise: only commands that record something
    (`run`, `import`, `experiment`, `changes scan`) create or write a store.
    """
    from routelens.store.sqlstore import open_store

    return open_store(configured_store_url(store_url, config), access=access)


def configured_store_url(store_url: str | None, config: RoutelensConfig) -> str:
    """`--store`, else the config's `store`, else the default SQLite file."""
    return store_url or config.store or DEFAULT_STORE_URL


def parse_labels(pairs: list[str], flag: str = "--label") -> dict[str, str]:
    """`["team=qa", "release=1.2"]` → `{"team": "qa", "release": "1.2"}`; errors name `flag`."""
    labels: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(flag, f"{pair!r} is not key=value")
        labels[key.strip()] = value.strip()
    return labels


def parse_descriptions(pairs: list[str]) -> dict[str, str]:
    """`--description jira-search="Find issues."` values: skill name → description."""
    descriptions: dict[str, str] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip() or not text.strip():
            raise InputError("--description", f"{pair!r} is not SKILL=TEXT", field="description")
        descriptions[name.strip()] = text.strip()
    return descriptions


def parse_router_options(pairs: list[str]) -> dict[str, Any]:
    """`--router-option ambiguity_ratio=0.7` values, read as JSON when they parse as JSON."""
    options: dict[str, Any] = {}
    for key, text in parse_labels(pairs, "--router-option").items():
        try:
            options[key] = json.loads(text)
        except json.JSONDecodeError:
            options[key] = text
    return options


def command_group(name: str, help_text: str) -> typer.Typer:
    """A typer app for one of routelens's command groups, configured like the others.

    Plain click help (no rich panels) keeps `--help` fast, and click joins a docstring's
    wrapped lines into paragraphs, so help reflows to the terminal width.
    """
    return typer.Typer(
        name=name,
        help=help_text,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        rich_markup_mode=None,
        context_settings=CONTEXT_SETTINGS,
    )


NOT_A_TERMINAL_WIDTH = 160
"""Output width when stdout is not a terminal and COLUMNS is not set: wide enough that
tables in CI logs and pipes are not cut at 80 columns."""


def stdout_console(*, no_color: bool = False, soft_wrap: bool = False) -> Console:
    """The console for a command's report: COLUMNS, else the terminal's width, else 160."""
    import os
    import sys

    from rich.console import Console

    width: int | None = None
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        width = int(columns)
    elif not sys.stdout.isatty():
        width = NOT_A_TERMINAL_WIDTH
    return Console(highlight=False, soft_wrap=soft_wrap, no_color=no_color, width=width)


def required_path(value: Path | None, flag: str, command: str) -> Path:
    """`value`, or an InputError saying the flag (or its config key) is needed."""
    if value is None:
        raise InputError(
            f"routelens {command}",
            f"{flag} is required (or set {flag.removeprefix('--')} in routelens.toml)",
            field=flag.removeprefix("--"),
        )
    return value


def positive_number(value: float | None) -> float | None:
    """Option callback: a number that must be greater than zero (None when not given)."""
    if value is not None and not value > 0:
        raise typer.BadParameter(f"must be greater than 0, not {value:g}")
    return value


def output_file(path: Path | None, flag: str) -> Path | None:
    """`path` ready to be written: its folders made; a folder or unwritable place is an
    InputError naming `flag`. Checked before any work starts, so a typo costs nothing."""
    if path is None:
        return None
    if path.is_dir():
        raise InputError(path, f"is a folder; {flag} takes a file name, e.g. {path / 'out'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(
            path.parent, f"cannot create the folder for {flag}: {error.strerror}"
        ) from None
    if path.parent.exists() and not os.access(path.parent, os.W_OK):
        raise InputError(path.parent, f"cannot write here ({flag})")
    return path


def runnable_command(*words: str, store: str | None = None, config: Path | None = None) -> str:
    """A routelens command line to print as a hint, with the `--store` and `--config` the
    current command was given, so that it runs as printed.

    >>> runnable_command("routelens", "run", "--resume", "r1", store="s.sqlite")
    'routelens run --resume r1 --store s.sqlite'
    """
    import shlex

    argv = list(words)
    if store is not None:
        argv += ["--store", store]
    if config is not None:
        argv += ["--config", str(config)]
    return shlex.join(argv)
