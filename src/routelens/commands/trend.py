"""`routelens trend`: accuracy by day and ISO week, week over week, release against release."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import ColumnElement, Engine, String, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from routelens.analytics.trend import (
    ARROWS,
    DayCounts,
    GroupCounts,
    TrendPoint,
    TrendReport,
    VerdictCounts,
    trend_report,
    trend_report_dict,
)
from routelens.analytics.window import AttemptFilter, parse_window
from routelens.commands.common import (
    ConfigOption,
    JsonOption,
    LabelOption,
    StoreOption,
    parse_labels,
)
from routelens.commands.common import open_configured_store as _open
from routelens.config import load_config
from routelens.errors import InputError
from routelens.report.console import format_percent
from routelens.store import Store, Verdict, schema
from routelens.store.reads import attempts_select

_MISSING = "-"


class utc_day(FunctionElement[str]):  # lower case: it reads as a SQL function
    """The UTC calendar day of a timestamp as `YYYY-MM-DD` text, on SQLite and PostgreSQL.

    SQLite keeps naive UTC text, so `date()` is the UTC day; PostgreSQL's `timestamptz`
    is moved to UTC first so the session's time zone cannot shift a day. The SQL has no
    bound parameters, so the same expression can sit in SELECT and GROUP BY.
    """

    type = String()
    name = "utc_day"
    inherit_cache = True


@compiles(utc_day)
def _utc_day_default(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    inner = compiler.process(element.clauses, **kw)
    return f"to_char(({inner}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


def day_of(value: str | date) -> date:
    """A `utc_day` result as a date (drivers may hand back text or a date)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def verdict_sums() -> list[ColumnElement[Any]]:
    """SUM expressions counting passed, failed and errored attempts, in that order."""
    verdict = schema.attempts.c.verdict
    return [
        func.sum(case((verdict == str(outcome), 1), else_=0))
        for outcome in (Verdict.PASS, Verdict.FAIL, Verdict.ERROR)
    ]


def _counts(passed: Any, failed: Any, errors: Any) -> VerdictCounts:
    return VerdictCounts(int(passed or 0), int(failed or 0), int(errors or 0))


def daily_verdicts(engine: Engine, attempt_filter: AttemptFilter) -> list[DayCounts]:
    """Verdict counts per UTC day of the attempts' start."""
    day = utc_day(schema.attempts.c.started_at)
    query = attempts_select([day, *verdict_sums()], attempt_filter).group_by(day)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [DayCounts(day_of(row[0]), _counts(*row[1:])) for row in rows]


def release_verdicts(
    engine: Engine, attempt_filter: AttemptFilter, *, label_key: str | None
) -> list[GroupCounts]:
    """Verdict counts per value of a run label (or per git commit when `label_key` is None).

    Runs without the label (or commit) are left out. The value is computed in a subquery
    so that its bound label key appears once: PostgreSQL would not match a SELECT and a
    GROUP BY expression carrying two different parameters.
    """
    runs, attempts = schema.runs.c, schema.attempts.c
    value = runs.git_commit if label_key is None else runs.labels[label_key].as_string()
    inner = attempts_select(
        [value.label("value"), attempts.started_at, attempts.verdict], attempt_filter
    ).subquery()
    verdict = inner.c.verdict
    sums = [
        func.sum(case((verdict == str(outcome), 1), else_=0))
        for outcome in (Verdict.PASS, Verdict.FAIL, Verdict.ERROR)
    ]
    query = (
        select(inner.c.value, func.min(inner.c.started_at), *sums)
        .where(inner.c.value.is_not(None))
        .group_by(inner.c.value)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        GroupCounts(str(row[0]), _as_utc(row[1]), _counts(*row[2:]))
        for row in rows
        if row[1] is not None
    ]


def _as_utc(value: datetime | str) -> datetime:
    # MIN() over SQLite's text loses the column type, so the driver hands back text.
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def build_trend_report(
    store: Store,
    attempt_filter: AttemptFilter,
    *,
    compare_label: str | None = None,
    compare_commit: bool = False,
) -> TrendReport:
    """Read the aggregates from the store (two queries at a time) and compute the report."""
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
        return trend_report(days.result(), releases, compare_by=compare_by)


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
        bool, typer.Option("--compare-commit", help="Compare accuracy per git commit.")
    ] = False,
    store: StoreOption = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Show routing accuracy over time: by day or ISO week with the week-over-week change
    (↑ ↓, → when under one point), and per release label value or git commit."""
    # cli.py registers this command, so its helpers are imported when the command runs.

    attempt_filter = AttemptFilter(window=parse_window(window), labels=parse_labels(label or []))
    with _open(store, load_config(config_path)) as opened:
        report = build_trend_report(
            opened, attempt_filter, compare_label=compare_label, compare_commit=compare_commit
        )
    if as_json:
        typer.echo(json.dumps({"window": window, "by": by.value, **trend_report_dict(report)}))
    else:
        render_trend(Console(highlight=False, soft_wrap=False), report, by)
