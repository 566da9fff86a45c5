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
from typer.core import TyperArgument, TyperGroup, TyperOption

from routelens.commands.exit_codes import EXIT_BAD_INPUT
from routelens.errors import InputError

HELP_OPTION_NAMES = ["-h", "--help"]
VERSION_FLAG = "--version"
HELP_WIDTH = 120
CONTEXT_SETTINGS: dict[str, Any] = {
    "help_option_names": HELP_OPTION_NAMES,
    "max_content_width": HELP_WIDTH,
}
"""Every command's context: -h as well as --help; help as wide as the terminal, up to 120."""


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
            single = typer.Typer(
                rich_markup_mode=None, add_completion=False, context_settings=CONTEXT_SETTINGS
            )
            single.command(self.name)(target)
            target = single
        command = typer.main.get_command(target)
        command.name = self.name
        _name_values(command)
        return command


VALUE_NAMES = {
    "alpha": "P",
    "baseline": "RUN|KEY=VALUE",
    "budget": "USD",
    "cache_seconds": "SECONDS",
    "candidate": "RUN|KEY=VALUE",
    "cases": "FILE",
    "concurrency": "N",
    "config_path": "FILE",
    "control": "DIR|REF",
    "difference": "RATIO",
    "environment": "NAME",
    "executor": "URL",
    "finish": "RUN",
    "from_ref": "REF",
    "heartbeat_timeout": "SECONDS",
    "host": "ADDRESS",
    "interval": "DURATION",
    "junit": "FILE",
    "label": "KEY=VALUE",
    "max_cost": "USD",
    "max_error_rate": "RATIO",
    "max_retries": "N",
    "max_wait": "SECONDS",
    "min_accuracy": "RATIO",
    "model": "MODEL",
    "older_than": "DURATION",
    "otlp_endpoint": "URL",
    "port": "PORT",
    "repo": "DIR",
    "resume": "RUN",
    "router": "NAME",
    "router_option": "KEY=VALUE",
    "run": "RUN",
    "run_id": "RUN",
    "since": "DATE|REF",
    "skill": "SKILL",
    "skills": "DIR",
    "skills_path": "PATH",
    "store": "URL",
    "timeout": "SECONDS",
    "to_ref": "REF",
    "treatment": "DIR|REF",
    "trigger_skill": "SKILL",
    "window": "DURATION",
}
"""What an option's value is called in `--help` (`--store URL`), by parameter name, so one
word means one thing in every command; others are named by their type."""

_TYPE_NAMES = {int: "N", float: "NUMBER", str: "TEXT"}


class _Argument(TyperArgument):
    """An argument listed in `--help` by its name alone, without typer's `<list[str]>`."""

    def display_type_rich(self, ctx: click.Context) -> str | None:
        """No type after the argument's name."""
        return None


def _name_values(command: click.Command) -> None:
    """Give every option that takes a value a metavar: from VALUE_NAMES, else its type
    (`N`, `NUMBER`, `TEXT`, `PATH`, `a|b` for a choice), never typer's `<list[str]>`."""
    for param in command.params:
        if type(param) is TyperArgument:
            param.__class__ = _Argument
            if param.metavar is None and param.name:
                param.metavar = param.name.upper()
            continue
        if not isinstance(param, TyperOption) or param.is_flag or param.metavar is not None:
            continue
        descriptor = param.type_descriptor
        if param.name in VALUE_NAMES:
            param.metavar = VALUE_NAMES[param.name]
        elif descriptor.is_choice and descriptor.choices:
            param.metavar = "|".join(str(getattr(c, "value", c)) for c in descriptor.choices)
        elif descriptor.is_path:
            param.metavar = "PATH"
        else:
            base = descriptor.annotation
            param.metavar = _TYPE_NAMES.get(base, "VALUE") if isinstance(base, type) else "VALUE"
    for subcommand in getattr(command, "commands", {}).values():
        _name_values(subcommand)


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


class _HelpFlag(TyperOption):
    """The help flag, processed without typer's value coercion.

    Typer coerces every option value through pydantic; for the root group's `--help`,
    which is only ever absent or true, that would import pydantic for every command.
    """

    def process_value(self, ctx: click.Context, value: Any) -> Any:
        """Call the flag's callback with the value as given."""
        if self.callback is not None:
            value = self.callback(ctx, self, value)
        return value


class LazyGroup(TyperGroup):
    """A typer group whose commands are `LazyCommand`s, loaded when used.

    Every `InputError` and every usage error of a command below it ends here, as one line
    on stderr and exit code 2: the contract of every command, kept in one place.
    """

    lazy_commands: ClassVar[dict[str, LazyCommand]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._loaded: dict[str, click.Command] = {}

    def get_help_option(self, ctx: click.Context) -> TyperOption | None:
        """The usual help option, as a `_HelpFlag`."""
        option = super().get_help_option(ctx)
        if option is not None and type(option) is TyperOption:
            option.__class__ = _HelpFlag
        return option

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """`--version` is handled here, not as a typer option: a typer option would load
        pydantic to coerce its value, and every command would pay for it at start-up."""
        if args[:1] == [VERSION_FLAG]:
            from importlib.metadata import version

            typer.echo(f"routelens {version('routelens')}")
            ctx.exit()
        return super().parse_args(ctx, args)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The options, with `--version` among them, then the commands."""
        rows = [(VERSION_FLAG, "Print the version and exit.")]
        rows += [record for param in self.get_params(ctx) if (record := param.get_help_record(ctx))]
        with formatter.section("Options"):
            formatter.write_dl(rows)
        self.format_commands(ctx, formatter)

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
