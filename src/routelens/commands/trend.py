"""`routelens trend`: accuracy by day and ISO week, week over week, release against release."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from routelens.analytics.trend import (
    ARROWS,
    GroupCounts,
    TrendPoint,
    TrendReport,
    trend_report,
    trend_report_dict,
)
from routelens.analytics.window import AttemptFilter, parse_window
from routelens.changes.git_history import ancestry_order
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
from routelens.store.period_reads import daily_verdicts, release_verdicts

_MISSING = "-"


def build_trend_report(
    store: Store,
    attempt_filter: AttemptFilter,
    *,
    compare_label: str | None = None,
    compare_commit: bool = False,
    repo: Path | None = None,
) -> TrendReport:
    """Read the aggregates from the store (two queries at a time) and compute the report.

    Commits are compared in git ancestry order when `repo` is their repository, else in
    the order they were first run.
    """
    if compare_label is not None and compare_commit:
        raise InputError("--compare-label", "use either --compare-label or --compare-commit")
    if compare_label is not None and not compare_label.strip():
        raise InputError("--compare-label", "needs a label key", field="compare_label")
    compare_by: str | None = None
    releases: list[GroupCounts] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        days = pool.submit(daily_verdicts, store.engine, attempt_filter)
        if compare_label is not None or compare_commit:
            compare_by = "git_commit" if compare_commit else f"label:{compare_label}"
            releases = release_verdicts(store.engine, attempt_filter, label_key=compare_label)
        order: list[str] = []
        if compare_commit and repo is not None:
            order = ancestry_order(repo, [group.value for group in releases]) or []
        return trend_report(days.result(), releases, compare_by=compare_by, release_order=order)


class Granularity(StrEnum):
    """The series `routelens trend` shows as a table."""

    DAY = "day"
    WEEK = "week"


def _delta_text(point: TrendPoint) -> str:
    if point.delta is None or point.direction is None:
        return _MISSING
    return f"{ARROWS[point.direction]} {point.delta * 100:+.1f} pt"


def _series_table(title: str, key_header: str, points: tuple[TrendPoint, ...]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(key_header)
    for header in ("Passed", "Failed", "Errors", "Accuracy", "Change"):
        table.add_column(header, justify="right")
    for point in points:
        table.add_row(
            escape(point.key),
            str(point.counts.passed),
            str(point.counts.failed),
            str(point.counts.errors),
            format_percent(point.counts.accuracy),
            _delta_text(point),
        )
    return table


def render_trend(console: Console, report: TrendReport, by: Granularity) -> None:
    """Print the chosen series, the week-over-week line and the release comparison."""
    points = report.days if by is Granularity.DAY else report.weeks
    if not points:
        console.print("No attempts match.")
        return
    title = "Accuracy by day (UTC)" if by is Granularity.DAY else "Accuracy by ISO week"
    console.print(_series_table(title, by.value.capitalize(), points))
    wow = report.week_over_week
    if wow.delta is not None and wow.direction is not None:
        console.print(
            f"Week over week ({wow.current_week} vs {wow.previous_week}): "
            f"{format_percent(wow.current_accuracy)} {ARROWS[wow.direction]} "
            f"{wow.delta * 100:+.1f} pt from {format_percent(wow.previous_accuracy)}"
        )
    else:
        console.print(f"Week over week: no decided attempts in {wow.previous_week}")
    if report.compare_by is not None:
        console.print(_series_table(f"By {report.compare_by}", "Value", report.releases))


def trend_command(
    window: Annotated[
        str, typer.Option("--window", help="Only attempts this recent: 12h, 7d, 4w.")
    ] = "30d",
    label: LabelOption = None,
    by: Annotated[Granularity, typer.Option("--by", help="Table by day or ISO week.")] = (
        Granularity.DAY
    ),
    compare_label: Annotated[
        str | None,
        typer.Option("--compare-label", help="Compare accuracy per value of this run label."),
    ] = None,
    compare_commit: Annotated[
        bool,
        typer.Option(
            "--compare-commit",
            help="Compare accuracy per git commit, in ancestry order (see --repo).",
        ),
    ] = False,
    repo: Annotated[
        Path,
        typer.Option(
            help="The git repository that orders commits for --compare-commit (else they "
            "are ordered by first run) [default: .]."
        ),
    ] = Path("."),
    store: StoreOption = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Show routing accuracy over time. By day or ISO week with the week-over-week change
    (↑ ↓, → when under one point), and per release label value or git commit."""
    # cli.py registers this command, so its helpers are imported when the command runs.

    attempt_filter = AttemptFilter(window=parse_window(window), labels=parse_labels(label or []))
    with _open(store, load_config(config_path)) as opened:
        report = build_trend_report(
            opened,
            attempt_filter,
            compare_label=compare_label,
            compare_commit=compare_commit,
            repo=repo,
        )
    if as_json:
        typer.echo(json.dumps({"window": window, "by": by.value, **trend_report_dict(report)}))
    else:
        render_trend(stdout_console(), report, by)
