"""`routelens confidence`: how consistently the router routes each case, and how sure it says
it is. Cases flagged low-confidence likely need a disambiguation rule."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Connection, Select, case, func, literal

from routelens.analytics.confidence import (
    MIN_MEAN_CONFIDENCE,
    MIN_TOP_SHARE,
    CaseConfidence,
    RouteCount,
    summarize_confidence,
)
from routelens.analytics.flaky import CaseKey
from routelens.analytics.summary import CLARIFIED_LABEL, NO_ROUTE_LABEL
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
from routelens.commands.flaky import key_dict
from routelens.config import load_config
from routelens.errors import InputError
from routelens.store import Verdict, schema
from routelens.store.flaky_history import case_key_columns
from routelens.store.reads import attempts_select


def route_counts_query(attempt_filter: AttemptFilter) -> Select[Any]:
    """Decided attempts per (group, route) with confidence sums; errors have no route."""
    attempts = schema.attempts.c
    route = case(
        (attempts.actual_skill.is_not(None), attempts.actual_skill),
        (attempts.asked_clarification, literal(CLARIFIED_LABEL)),
        else_=literal(NO_ROUTE_LABEL),
    )
    keys = case_key_columns()
    inner = attempts_select(
        [
            *(column.label(f"key_{index}") for index, column in enumerate(keys)),
            route.label("route"),
            attempts.confidence,
            attempts.expected_skill,
            attempts.category,
        ],
        attempt_filter,
    )
    # The route is computed in a subquery so GROUP BY names a column, not a CASE with
    # bound literals (PostgreSQL would not match two differently bound copies).
    ordered = inner.where(attempts.verdict != str(Verdict.ERROR)).subquery("routed")
    group = [*(ordered.c[f"key_{index}"] for index in range(len(keys))), ordered.c.route]
    return (
        ordered.select()
        .with_only_columns(
            *group,
            func.count().label("attempts"),
            func.coalesce(func.sum(ordered.c.confidence), 0.0).label("confidence_sum"),
            func.count(ordered.c.confidence).label("confidence_count"),
            func.max(ordered.c.expected_skill).label("expected_skill"),
            func.max(ordered.c.category).label("category"),
        )
        .group_by(*group)
    )


def read_route_counts(connection: Connection, attempt_filter: AttemptFilter) -> list[RouteCount]:
    """Run `route_counts_query`: one row per group and route."""
    return [
        RouteCount(
            key=CaseKey(*row[:5]),
            route=str(row.route),
            attempts=int(row.attempts),
            confidence_sum=float(row.confidence_sum),
            confidence_count=int(row.confidence_count),
            expected_skill=row.expected_skill,
            category=row.category,
        )
        for row in connection.execute(route_counts_query(attempt_filter))
    ]


def case_confidence_dict(case_: CaseConfidence) -> dict[str, Any]:
    """One case of `routelens confidence --json`."""
    mean = case_.mean_confidence
    return {
        **key_dict(case_.key),
        "expected_skill": case_.expected_skill,
        "attempts": case_.attempts,
        "routes": case_.routes,
        "top_route": case_.top_route,
        "top_share": round(case_.top_share, 4),
        "entropy_bits": round(case_.entropy_bits, 4),
        "mean_confidence": None if mean is None else round(mean, 4),
        "low_confidence": case_.low_confidence,
    }


def render_confidence(console: Console, cases: list[CaseConfidence]) -> None:
    """A table of cases, low-confidence first."""
    if not cases:
        console.print("No decided attempts in this window.")
        return
    table = Table(title="Routing confidence")
    for header in ("case", "router / model", "expected", "routes", "top share", "entropy"):
        table.add_column(header)
    table.add_column("mean conf.", justify="right")
    table.add_column("flag")
    for case_ in cases:
        routes = ", ".join(f"{route} x{count}" for route, count in case_.routes.items())
        mean = "-" if case_.mean_confidence is None else f"{case_.mean_confidence:.2f}"
        table.add_row(
            escape(case_.key.case_id),
            escape(f"{case_.key.router} / {case_.key.model or '-'}"),
            escape(case_.expected_label),
            escape(routes),
            f"{case_.top_share:.0%}",
            f"{case_.entropy_bits:.2f} bits",
            mean,
            "[bold yellow]low confidence[/]" if case_.low_confidence else "[green]ok[/]",
        )
    console.print(table)


def confidence_command(
    window: Annotated[
        str, typer.Option("--window", help="Only attempts this recent: 12h, 7d, 4w.")
    ] = "7d",
    label: LabelOption = None,
    min_top_share: Annotated[
        float, typer.Option("--min-top-share", help="Flag below this share on the top route.")
    ] = MIN_TOP_SHARE,
    min_confidence: Annotated[
        float,
        typer.Option("--min-confidence", help="Flag below this mean router confidence."),
    ] = MIN_MEAN_CONFIDENCE,
    store: StoreOption = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Show how each case's attempts spread over routes.

    Routes are a skill, `clarified` or `none`: top route share, entropy in bits and mean
    router confidence; flags cases needing a disambiguation rule."""

    for name, value in (("--min-top-share", min_top_share), ("--min-confidence", min_confidence)):
        if not 0.0 <= value <= 1.0:
            raise InputError(name, f"{value} is not between 0 and 1", field=name.lstrip("-"))
    attempt_filter = AttemptFilter(window=parse_window(window), labels=parse_labels(label or []))
    with _open(store, load_config(config_path)) as opened, opened.engine.connect() as connection:
        rows = read_route_counts(connection, attempt_filter)
    cases = summarize_confidence(
        rows, min_top_share=min_top_share, min_mean_confidence=min_confidence
    )
    if as_json:
        payload = {"window": window, "cases": [case_confidence_dict(case_) for case_ in cases]}
        typer.echo(json.dumps(payload))
    else:
        render_confidence(stdout_console(), cases)
