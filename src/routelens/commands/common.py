"""What every command shares: option types, the bad-input contract, store and label parsing."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer

from routelens.config import RoutelensConfig
from routelens.errors import InputError
from routelens.store import DEFAULT_STORE_URL, Store, open_store

EXIT_BAD_INPUT = 2

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
            typer.echo(f"routelens: error: {error.one_line()}", err=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None

    return wrapper


def open_configured_store(store_url: str | None, config: RoutelensConfig) -> Store:
    """The store named by `--store`, else by the config, else the default SQLite file."""
    return open_store(store_url or config.store or DEFAULT_STORE_URL)


def parse_labels(pairs: list[str]) -> dict[str, str]:
    """`["team=qa", "release=1.2"]` → `{"team": "qa", "release": "1.2"}`."""
    labels: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError("--label", f"{pair!r} is not key=value", field="label")
        labels[key.strip()] = value.strip()
    return labels


def parse_router_options(pairs: list[str]) -> dict[str, Any]:
    """`--router-option ambiguity_ratio=0.7` values, read as JSON when they parse as JSON."""
    options: dict[str, Any] = {}
    for key, text in parse_labels(pairs).items():
        try:
            options[key] = json.loads(text)
        except json.JSONDecodeError:
            options[key] = text
    return options


def command_group(name: str, help_text: str) -> typer.Typer:
    """A typer app for `routelens` or one of its command groups, configured alike.

    Markdown help joins a docstring's wrapped lines into paragraphs (blank lines separate
    them), so `--help` reflows to the terminal instead of breaking mid-sentence.
    """
    return typer.Typer(
        name=name,
        help=help_text,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        rich_markup_mode="markdown",
    )
