"""`routelens confusion`: the expected x actual matrix, aggregated in SQL, shown or as JSON."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from routelens.analytics.confusion import (
    OUTCOME_LABELS,
    ConfusionReport,
    DisambiguationView,
    confusion_report,
    confusion_report_dict,
    disambiguation_view,
)
from routelens.analytics.summary import EXPECTATION_LABELS
from routelens.analytics.window import AttemptFilter, parse_window
from routelens.commands.common import (
    ConfigOption,
    JsonOption,
    LabelOption,
    StoreOption,
    parse_labels,
    stdout_console,
)
from routelens.commands.common import open_configured_store as _open
from routelens.config import load_config
from routelens.errors import InputError
from routelens.report.console import format_percent
from routelens.store import Store
from routelens.store.confusion_reads import (
    decided_route_counts,
    disambiguation_cases,
    latest_case_options,
)

_MISSING = "-"
_TIMES = "\N{MULTIPLICATION SIGN}"


def build_confusion_report(
    store: Store, attempt_filter: AttemptFilter, *, limit: int | None = 10
) -> ConfusionReport:
    """Read the aggregates from the store (two queries at a time) and compute the report."""
    engine = store.engine
    with ThreadPoolExecutor(max_workers=2) as pool:
        route_counts = pool.submit(decided_route_counts, engine, attempt_filter)
        cases = disambiguation_cases(engine, attempt_filter)
        case_ids = [case.case_id for case in cases]
        options = latest_case_options(engine, case_ids, attempt_filter.run_ids)
        view: DisambiguationView = disambiguation_view(cases, options)
        return confusion_report(route_counts.result(), view, limit=limit)


def _score(value: float | None) -> str:
    return _MISSING if value is None else f"{value:.3f}"


def _matrix_table(console: Console, report: ConfusionReport) -> tuple[Table, list[str]]:
    """The matrix with every skill named in full: column headings are the names when they
    fit the console's width, else numbers, explained by a legend (returned as lines)."""
    matrix = report.matrix
    rows = [label for label in matrix.labels if label not in OUTCOME_LABELS]
    columns = [label for label in matrix.labels if label not in EXPECTATION_LABELS]
    widest_row = max((len(label) for label in rows), default=0)
    cell_widths = [max(len(column), len(str(matrix.total)), 1) + 3 for column in columns]
    numbered = widest_row + 4 + sum(cell_widths) > console.width
    headings = {column: str(index) for index, column in enumerate(columns, start=1)}
    table = Table(
        title="Expected (rows) \N{MULTIPLICATION SIGN} actual (columns)", title_justify="left"
    )
    table.add_column("expected \\ actual", overflow="fold")
    for column in columns:
        table.add_column(headings[column] if numbered else Text(column), justify="right")
    for row in rows:
        cells = [matrix.cell(row, column) for column in columns]
        shown = f"{headings[row]} {row}" if numbered and row in headings else row
        table.add_row(Text(shown), *[str(count) if count else "·" for count in cells])
    legend = [f"  {headings[column]}  {column}" for column in columns] if numbered else []
    return table, legend


def render_confusion(console: Console, report: ConfusionReport) -> None:
    """Print the matrix, per-skill scores, top confusions and the disambiguation view."""
    matrix = report.matrix
    if matrix.total == 0:
        console.print("No decided attempts match.")
    table, legend = _matrix_table(console, report)
    console.print(table)
    if legend:
        console.print("Columns:")
        for line in legend:
            console.print(Text(line))

    scores = Table(title="Per skill", title_justify="left")
    for header, justify in [
        ("Skill", "left"),
        ("Precision", "right"),
        ("Recall", "right"),
        ("F1", "right"),
        ("Support", "right"),
    ]:
        scores.add_column(header, justify=justify)  # type: ignore[arg-type]
    for score in report.per_skill:
        scores.add_row(
            escape(score.skill),
            _score(score.precision),
            _score(score.recall),
            _score(score.f1),
            str(score.support),
        )
    console.print(scores)

    if report.top_confusions:
        console.print("[bold]Top confusions[/]")
        for pair in report.top_confusions:
            console.print(f"  {escape(pair.expected)} → {escape(pair.actual)} {_TIMES}{pair.count}")

    view = report.disambiguation
    if view.attempts:
        cases = Table(
            title=(
                f"Disambiguation: {view.attempts} attempts, asked "
                f"{format_percent(view.clarification_rate)}, options named "
                f"{format_percent(view.mean_options_score)}"
            ),
            title_justify="left",
        )
        for header in ("Case", "Attempts", "Asked", "Options named", "Options"):
            cases.add_column(header, justify="left" if header in ("Case", "Options") else "right")
        for item in view.cases:
            cases.add_row(
                escape(item.case_id),
                str(item.attempts),
                format_percent(item.clarification_rate),
                format_percent(item.mean_options_score),
                escape(", ".join(item.options)),
            )
        console.print(cases)


def confusion_command(
    run: Annotated[str | None, typer.Option("--run", help="Only this run.")] = None,
    window: Annotated[
        str | None, typer.Option("--window", help="Only attempts this recent: 12h, 7d, 4w.")
    ] = None,
    label: LabelOption = None,
    limit: Annotated[int, typer.Option("--top", min=1, help="Top confusions to list.")] = 10,
    store: StoreOption = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Show which skills get mistaken for which. The expected x actual matrix, precision,
    recall and F1 per skill, the top confusions, and how disambiguation cases ask."""
    # cli.py registers this command, so its helpers are imported when the command runs.

    attempt_filter = AttemptFilter(
        window=None if window is None else parse_window(window),
        labels=parse_labels(label or []),
        run_ids=() if run is None else (run,),
    )
    with _open(store, load_config(config_path)) as opened:
        if run is not None and opened.get_run(run) is None:
            raise InputError(opened.display_url, f"no run {run!r} in this store", field="run")
        report = build_confusion_report(opened, attempt_filter, limit=limit)
    if as_json:
        typer.echo(json.dumps(confusion_report_dict(report)))
    else:
        render_confusion(stdout_console(), report)
