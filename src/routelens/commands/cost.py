"""`routelens cost`: spend by day, model and skill, projection, budget burn and anomalies."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine

from routelens.analytics.cost import (
    AttemptCost,
    CostCount,
    CostReport,
    SpendGroup,
    attempt_anomalies,
    cost_report,
    cost_report_dict,
)
from routelens.analytics.summary import TokenTotals
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
from routelens.store import Store
from routelens.store.cost_reads import (
    cost_counts,
    costliest_outliers,
    spend_by_expectation,
    spend_by_model,
)
from routelens.store.period_reads import daily_spend


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
        # The outliers (a scan of the window's attempts when there are any) start first.
        skills = pool.submit(spend_by_expectation, engine, attempt_filter)
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
