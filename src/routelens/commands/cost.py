"""`routelens cost`: spend by day, model and skill, projection, budget burn and anomalies."""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import ColumnElement, Engine, func, literal_column, or_, select

from routelens.analytics.cost import (
    AttemptCost,
    CostCount,
    CostReport,
    SpendGroup,
    attempt_anomalies,
    cost_report,
    cost_report_dict,
)
from routelens.analytics.summary import ASK_LABEL, TokenTotals
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
from routelens.report.console import format_percent
from routelens.store import Store, schema
from routelens.store.period_reads import daily_spend
from routelens.store.reads import attempts_select
from routelens.store.sql_functions import verdict_sums

NO_MODEL_LABEL = "(none)"
COST_UNITS_PER_USD = 100_000_000
"""Per-attempt costs are grouped to 1e-8 USD before the median, so a million attempts
arrive as a few thousand (cost, count) groups; far finer than any price difference."""
WORST_ATTEMPTS = 10


def spend_groups(
    engine: Engine, attempt_filter: AttemptFilter, key: ColumnElement[Any], missing: str
) -> list[SpendGroup]:
    """Attempts, passes, spend and tokens by type per value of `key` (None → `missing`)."""
    attempts = schema.attempts.c
    passed = verdict_sums()[0]
    # Per run, SQLite reads fastest through the (run_id, sequence_number) index, which
    # orders the GROUP BY, rather than through the start-time index and a sort.
    by_run_on_sqlite = key is attempts.run_id and engine.dialect.name == "sqlite"
    query = attempts_select(
        [
            key,
            func.count(),
            passed,
            func.sum(attempts.cost_usd),
            func.sum(attempts.input_tokens),
            func.sum(attempts.output_tokens),
            func.sum(attempts.cache_read_tokens),
            func.sum(attempts.cache_write_tokens),
        ],
        attempt_filter,
        attempts_only=True,
        sqlite_time_index=not by_run_on_sqlite,
    ).group_by(key)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        SpendGroup(
            key=missing if row[0] is None else str(row[0]),
            attempts=int(row[1]),
            passed=int(row[2] or 0),
            cost_usd=float(row[3] or 0.0),
            tokens=TokenTotals(*(int(value or 0) for value in row[4:8])),
        )
        for row in rows
    ]


def cost_counts(engine: Engine, attempt_filter: AttemptFilter) -> list[CostCount]:
    """Per-attempt costs grouped to 1e-8 USD, with how many attempts cost each."""
    # The scaled value is computed in a subquery: its literal then appears once, and
    # PostgreSQL can match the GROUP BY to the SELECT.
    scaled = func.round(schema.attempts.c.cost_usd * literal_column(str(COST_UNITS_PER_USD)))
    inner = attempts_select([scaled.label("units")], attempt_filter, attempts_only=True).subquery()
    query = select(inner.c.units, func.count()).group_by(inner.c.units)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [CostCount(float(row[0]) / COST_UNITS_PER_USD, int(row[1])) for row in rows]


def costliest_outliers(
    engine: Engine,
    attempt_filter: AttemptFilter,
    low: float,
    high: float,
    median: float,
    limit: int = WORST_ATTEMPTS,
) -> list[AttemptCost]:
    """The attempts whose cost lies outside (low, high), furthest from the median first."""
    attempts = schema.attempts.c
    query = (
        attempts_select(
            [attempts.run_id, attempts.case_id, attempts.repeat_index, attempts.cost_usd],
            attempt_filter,
            attempts_only=True,
        )
        .where(or_(attempts.cost_usd < low, attempts.cost_usd > high))
        .order_by(func.abs(attempts.cost_usd - median).desc(), attempts.run_id, attempts.case_id)
        .limit(limit)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [AttemptCost(row[0], row[1], int(row[2]), float(row[3])) for row in rows]


def spend_by_model(engine: Engine, attempt_filter: AttemptFilter) -> list[SpendGroup]:
    """Spend groups per run model: grouped by run in SQL (the run index orders that for
    free), then by the runs' models here."""
    per_run = spend_groups(engine, attempt_filter, schema.attempts.c.run_id, "")
    runs = schema.runs.c
    with engine.connect() as connection:
        models = {row[0]: row[1] for row in connection.execute(select(runs.run_id, runs.model))}
    pooled: dict[str, list[SpendGroup]] = {}
    for group in per_run:
        model = models.get(group.key)
        pooled.setdefault(NO_MODEL_LABEL if model is None else model, []).append(group)
    return [
        SpendGroup(
            key=model,
            attempts=sum(g.attempts for g in groups),
            passed=sum(g.passed for g in groups),
            cost_usd=math.fsum(g.cost_usd for g in groups),
            tokens=TokenTotals(
                input=sum(g.tokens.input for g in groups),
                output=sum(g.tokens.output for g in groups),
                cache_read=sum(g.tokens.cache_read for g in groups),
                cache_write=sum(g.tokens.cache_write for g in groups),
            ),
        )
        for model, groups in pooled.items()
    ]


def _outliers(
    engine: Engine, attempt_filter: AttemptFilter
) -> tuple[list[CostCount], list[AttemptCost]]:
    counts = cost_counts(engine, attempt_filter)
    first_pass = attempt_anomalies(counts)
    if first_pass.scale is None or first_pass.low_usd is None or first_pass.high_usd is None:
        return counts, []
    if not first_pass.count:
        return counts, []
    low, high, median = first_pass.low_usd, first_pass.high_usd, first_pass.scale.median
    return counts, costliest_outliers(engine, attempt_filter, low, high, median)


def build_cost_report(
    store: Store, attempt_filter: AttemptFilter, *, daily_budget_usd: float
) -> CostReport:
    """Read the aggregates from the store (two queries at a time) and compute the report."""
    engine = store.engine
    with ThreadPoolExecutor(max_workers=2) as pool:
        # Longest first (by skill: a sort with the most columns), and the shortest (by run,
        # read in index order) last, so the two threads finish close together.
        skill_key = schema.attempts.c.expected_skill
        skills = pool.submit(spend_groups, engine, attempt_filter, skill_key, ASK_LABEL)
        outliers = pool.submit(_outliers, engine, attempt_filter)
        days = pool.submit(daily_spend, engine, attempt_filter)
        models = pool.submit(spend_by_model, engine, attempt_filter)
        counts, worst = outliers.result()
        return cost_report(
            days.result(),
            models.result(),
            skills.result(),
            counts,
            worst,
            today=attempt_filter.now.date(),
            daily_budget_usd=daily_budget_usd,
        )


def _usd(value: float | None) -> str:
    return "-" if value is None else f"${value:,.4f}"


def _tokens_text(tokens: TokenTotals) -> str:
    return f"{tokens.input:,}/{tokens.output:,}/{tokens.cache_read:,}/{tokens.cache_write:,}"


def _group_table(title: str, header: str, groups: tuple[SpendGroup, ...], per_pass: bool) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(header)
    headers = ["Attempts", "Cost", "Tokens in/out/cache r/w"]
    if per_pass:
        headers += ["Passed", "Per correct route"]
    for name in headers:
        table.add_column(name, justify="right")
    for group in groups:
        cells = [str(group.attempts), _usd(group.cost_usd), _tokens_text(group.tokens)]
        if per_pass:
            cells += [str(group.passed), _usd(group.cost_per_correct_route_usd)]
        table.add_row(escape(group.key), *cells)
    return table


def render_cost(console: Console, report: CostReport) -> None:
    """Print spend by day (anomalies marked), model and skill, projection, burn and outliers."""
    if not report.days:
        console.print("No attempts match.")
        return
    days = Table(title="Spend by day (UTC)", title_justify="left")
    days.add_column("Day")
    for name in ("Attempts", "Cost", "z", ""):
        days.add_column(name, justify="right")
    for day in report.days:
        flag = "[red]anomaly[/]" if day.anomaly else ""
        days.add_row(
            day.day.isoformat(), str(day.attempts), _usd(day.cost_usd), f"{day.z:+.2f}", flag
        )
    console.print(days)
    console.print(_group_table("By model", "Model", report.by_model, per_pass=False))
    console.print(_group_table("By expected skill", "Skill", report.by_skill, per_pass=True))
    tokens = report.tokens
    console.print(
        f"Total {_usd(report.total_usd)}; tokens: {tokens.input:,} input, {tokens.output:,} "
        f"output, {tokens.cache_read:,} cache read, {tokens.cache_write:,} cache write"
    )
    projection, burn = report.projection, report.budget
    console.print(
        f"Projection: {_usd(projection.mean_daily_usd)}/day over the last 7 days → "
        f"{_usd(projection.monthly_usd)} per 30 days"
    )
    over = ", ".join(day.isoformat() for day in burn.days_over_budget) or "none"
    console.print(
        f"Budget {_usd(burn.daily_budget_usd)}/day: today {_usd(burn.today_usd)} "
        f"({format_percent(burn.burn_rate)} burned); days over budget: {over}"
    )
    outliers = report.attempt_anomalies
    if outliers.scale is not None and outliers.high_usd is not None:
        outside = (
            f"above {_usd(outliers.high_usd)}"
            if outliers.low_usd is None or outliers.low_usd <= 0
            else f"outside {_usd(outliers.low_usd)} to {_usd(outliers.high_usd)}"
        )
        console.print(
            f"Per-attempt cost: median {_usd(outliers.scale.median)}, MAD "
            f"{_usd(outliers.scale.mad)}; {outliers.count} attempts with |z| > 3.5 ({outside})"
        )
        for attempt, z in outliers.top:
            console.print(
                f"  {escape(attempt.run_id)} {escape(attempt.case_id)}[r{attempt.repeat_index}] "
                f"{_usd(attempt.cost_usd)} (z {z:+.1f})"
            )


def cost_command(
    window: Annotated[
        str, typer.Option("--window", help="Only attempts this recent: 12h, 7d, 4w.")
    ] = "30d",
    label: LabelOption = None,
    budget: Annotated[
        float | None,
        typer.Option("--budget", min=0, help="Daily budget in USD [default: config, 25]."),
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Show what routing tests cost. By day, model and expected skill, tokens, cost per
    correct route, the 30-day projection, today's budget burn and cost anomalies."""
    # cli.py registers this command, so its helpers are imported when the command runs.

    config = load_config(config_path)
    daily_budget = config.daily_budget_usd if budget is None else budget
    attempt_filter = AttemptFilter(window=parse_window(window), labels=parse_labels(label or []))
    with _open(store, config) as opened:
        report = build_cost_report(opened, attempt_filter, daily_budget_usd=daily_budget)
    if as_json:
        typer.echo(json.dumps({"window": window, **cost_report_dict(report)}))
    else:
        render_cost(stdout_console(), report)
