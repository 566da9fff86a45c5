"""Reference docs written from the code: docs/cli.md from the commands' own `--help`, and
the metric table of docs/exporter.md from the exporter's catalogue.

A test fails when either differs from what this writes, so the references cannot drift:
after changing a command or a metric, run `make docs` (`python -m routelens.commands.reference`).
"""

from __future__ import annotations

from pathlib import Path

from typer import _click as click

from routelens.commands.loading import LazyCommand

REFERENCE_FILE = Path("docs") / "cli.md"
EXPORTER_DOC = Path("docs") / "exporter.md"
METRICS_START = "<!-- metric table: written by python -m routelens.commands.reference -->"
METRICS_END = "<!-- end of metric table -->"
WIDTH = 100

_HEADER = """\
# Command-line reference

Written from each command's `--help` by `python -m routelens.commands.reference` (a test
keeps it current). Every command also takes `-h`. Exit codes: 0 done, 1 gate failed, 2 bad
input, 3 stopped by budget, 130 Ctrl-C, 143 SIGTERM (see the README).
"""


def _help_text(argv: list[str]) -> str:
    from typer.testing import CliRunner

    from routelens.cli import app

    result = CliRunner().invoke(app, [*argv, "--help"], terminal_width=WIDTH)
    if result.exit_code != 0:
        raise RuntimeError(f"routelens {' '.join(argv)} --help failed: {result.output}")
    return result.stdout.rstrip()


def _sections(command: click.Command, argv: list[str]) -> list[str]:
    sections = [f"## `routelens {' '.join(argv)}`\n\n```\n{_help_text(argv)}\n```\n"]
    subcommands = getattr(command, "commands", {})
    for name in sorted(subcommands):
        sections += _sections(subcommands[name], [*argv, name])
    return sections


def render_reference(commands: tuple[LazyCommand, ...]) -> str:
    """The whole reference as Markdown: one section per command and subcommand."""
    sections = [_HEADER]
    for spec in commands:
        sections += _sections(spec.load(), [spec.name])
    return "\n".join(sections)


def render_metric_table() -> str:
    """Every family the exporter serves: name, type, labels and help, from the catalogue."""
    from routelens.publish.catalogue import EXPORTED_METRICS

    rows = ["| metric | type | labels | what it is |", "|---|---|---|---|"]
    for spec in EXPORTED_METRICS:
        labels = ", ".join(f"`{label}`" for label in spec.labels) or "-"
        rows.append(f"| `{spec.name}` | {spec.kind} | {labels} | {spec.help} |")
    return "\n".join(rows)


def with_metric_table(document: str) -> str:
    """`document` (docs/exporter.md) with the text between the table markers rewritten."""
    before, _, rest = document.partition(METRICS_START)
    _, _, after = rest.partition(METRICS_END)
    return f"{before}{METRICS_START}\n{render_metric_table()}\n{METRICS_END}{after}"


def main() -> None:
    """Write docs/cli.md and the metric table of docs/exporter.md."""
    from routelens.cli import COMMANDS

    REFERENCE_FILE.write_text(render_reference(COMMANDS), encoding="utf-8")
    exporter = EXPORTER_DOC.read_text(encoding="utf-8")
    EXPORTER_DOC.write_text(with_metric_table(exporter), encoding="utf-8")
    print(f"wrote {REFERENCE_FILE} and the metric table of {EXPORTER_DOC}")


if __name__ == "__main__":
    main()
