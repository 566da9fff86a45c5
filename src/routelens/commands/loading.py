"""Commands that load on first use, and the one place where errors become exit codes.

`routelens --help` lists every command from a static summary without importing any command
module, and `routelens run` imports only the `run` module: start-up stays close to the
cost of importing typer itself (bench/startup.py).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any, ClassVar

import typer
from typer import _click as click  # typer (>= 0.29) bundles its own click
from typer._click.exceptions import BadParameter, NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from routelens.errors import InputError

EXIT_BAD_INPUT = 2
HELP_OPTION_NAMES = ["-h", "--help"]


@dataclass(frozen=True)
class LazyCommand:
    """A command (or command group) named `name`, defined as `attribute` in `module`.

    `attribute` is a typer app, or a function that becomes a command. `summary` is the
    line the group's `--help` prints; a test checks it is the command's own first help line.
    """

    name: str
    module: str
    summary: str
    attribute: str = "app"

    def load(self) -> click.Command:
        """Import the module and build the click command it defines."""
        target = getattr(importlib.import_module(self.module), self.attribute)
        if not isinstance(target, typer.Typer):
            single = typer.Typer(context_settings={"help_option_names": HELP_OPTION_NAMES})
            single.command(self.name)(target)
            target = single
        command = typer.main.get_command(target)
        command.name = self.name
        return command


def bad_input_exit(message: str) -> typer.Exit:
    """Print `routelens: error: message` on stderr and return the exit-2 to raise."""
    typer.echo(f"routelens: error: {' '.join(message.split())}", err=True)
    return typer.Exit(EXIT_BAD_INPUT)


def _usage_message(error: UsageError) -> str:
    where = error.ctx.command_path if error.ctx is not None else "routelens"
    if isinstance(error, BadParameter) and error.param is not None:
        flag = error.param.opts[0] if error.param.opts else str(error.param.name)
        return f"{where}: {flag}: {error.message}"
    return f"{where}: {error.format_message()} (see '{where} -h')"


class LazyGroup(TyperGroup):
    """A typer group whose commands are `LazyCommand`s, loaded when used.

    Every `InputError` and every usage error of a command below it ends here, as one line
    on stderr and exit code 2: the contract of every command, kept in one place.
    """

    lazy_commands: ClassVar[dict[str, LazyCommand]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._loaded: dict[str, click.Command] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, in the order the table gives them."""
        return [*self.lazy_commands, *(n for n in super().list_commands(ctx) if n != "")]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command `cmd_name`, importing its module the first time."""
        spec = self.lazy_commands.get(cmd_name)
        if spec is None:
            return super().get_command(ctx, cmd_name)
        if cmd_name not in self._loaded:
            self._loaded[cmd_name] = spec.load()
        return self._loaded[cmd_name]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command table from the static summaries: nothing is imported for `--help`."""
        rows = [(name, spec.summary) for name, spec in self.lazy_commands.items()]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Find the command; a typo gets the close names from the command table."""
        try:
            return self._click_resolve_command(ctx, args)
        except UsageError as error:
            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if matches:
                names = ", ".join(repr(match) for match in matches)
                error.message = f"{error.message.rstrip('.')}. Did you mean {names}?"
            raise

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; bad input and bad flags become one line and exit code 2."""
        try:
            return super().invoke(ctx)
        except InputError as error:
            for line in error.detail_lines():
                typer.echo(line, err=True)
            raise bad_input_exit(error.one_line()) from None
        except NoArgsIsHelpError:
            raise
        except UsageError as error:
            raise bad_input_exit(_usage_message(error)) from None


def lazy_group_class(commands: Sequence[LazyCommand]) -> type[LazyGroup]:
    """A `LazyGroup` subclass serving `commands`, for `typer.Typer(cls=...)`."""
    return type("RoutelensGroup", (LazyGroup,), {"lazy_commands": {c.name: c for c in commands}})
