"""`routelens flaky`: cases that pass and fail under the same conditions, with how sure we are.

The store aggregates each group of attempts in one SQL statement (SQLite >= 3.25 and
PostgreSQL): decided attempts, passes, errors, and flips counted with LAG over the group's
attempts in time order. `routelens.analytics.flaky.classify_flaky` does the statistics.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Connection, Select, case, func, select

from routelens.analytics.flaky import (
    DEFAULT_MIN_ATTEMPTS,
    CaseKey,
    FlakyAggregate,
    FlakyCase,
    FlakyClass,
    FlakyRule,
    classify_flaky,
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
from routelens.store import Verdict, schema
from routelens.store.reads import attempts_select

CLASS_STYLES = {
    FlakyClass.FLAKY: "bold yellow",
    FlakyClass.BROKEN: "red",
    FlakyClass.STABLE_PASS: "green",
    FlakyClass.INSUFFICIENT_DATA: "dim",
}


def case_key_columns() -> list[Any]:
    """The grouping columns over `attempts` joined with `runs`, in `CaseKey` field order."""
    attempts, runs = schema.attempts.c, schema.runs.c
    return [attempts.case_id, attempts.input, runs.skills_hash, runs.router, runs.model]


def flaky_aggregates_query(attempt_filter: AttemptFilter) -> Select[Any]:
    """Per group: decided attempts, passes, errors, and flips between consecutive decided ones.

    Errors get a window partition of their own, so LAG in the decided partition sees the
    previous *decided* attempt: pass, error, pass is no flip. Ties in time are broken by the
    run's sequence number, then by insertion order.
    """
    attempts = schema.attempts.c
    keys = case_key_columns()
    is_error = attempts.verdict == str(Verdict.ERROR)
    previous = func.lag(attempts.verdict).over(
        partition_by=[*keys, is_error],
        order_by=[attempts.started_at, attempts.sequence_number, attempts.attempt_id],
    )
    ordered = attempts_select(
        [
            *(column.label(f"key_{index}") for index, column in enumerate(keys)),
            attempts.verdict,
            previous.label("previous"),
        ],
        attempt_filter,
    ).subquery("ordered")
    verdict, before = ordered.c.verdict, ordered.c.previous
    decided = verdict != str(Verdict.ERROR)
    flipped = decided & before.is_not(None) & (before != verdict)
    group = [ordered.c[f"key_{index}"] for index in range(len(keys))]
    return select(
        *group,
        func.sum(case((decided, 1), else_=0)).label("attempts"),
        func.sum(case((verdict == str(Verdict.PASS), 1), else_=0)).label("passes"),
        func.sum(case((decided, 0), else_=1)).label("errors"),
        func.sum(case((flipped, 1), else_=0)).label("flips"),
    ).group_by(*group)


def read_flaky_aggregates(
    connection: Connection, attempt_filter: AttemptFilter
) -> list[FlakyAggregate]:
    """Run `flaky_aggregates_query`: one aggregate per group."""
    return [
        FlakyAggregate(
            key=CaseKey(*row[:5]),
            attempts=int(row.attempts or 0),
            passes=int(row.passes or 0),
            errors=int(row.errors or 0),
            flips=int(row.flips or 0),
        )
        for row in connection.execute(flaky_aggregates_query(attempt_filter))
    ]


def key_dict(key: CaseKey) -> dict[str, Any]:
    """The JSON fields naming a group (the input as a short hash)."""
    return {
        "case_id": key.case_id,
        "input_hash": key.input_hash,
        "skills_hash": key.skills_hash,
        "router": key.router,
        "model": key.model,
    }


def flaky_case_dict(case: FlakyCase) -> dict[str, Any]:
    """One case of `routelens flaky --json`."""
    return {
        **key_dict(case.key),
        "attempts": case.attempts,
        "passes": case.passes,
        "errors": case.errors,
        "flips": case.flips,
        "pass_rate": None if case.pass_rate is None else round(case.pass_rate, 4),
        "ci_low": round(case.ci_low, 4),
        "ci_high": round(case.ci_high, 4),
        "flip_rate": round(case.flip_rate, 4),
        "stability": round(case.stability, 1),
        "class": str(case.flaky_class),
    }


def render_flaky(console: Console, cases: list[FlakyCase]) -> None:
    """A table of cases, coloured by class, flaky first."""
    if not cases:
        console.print("No attempts in this window.")
        return
    table = Table(title="Flaky cases")
    for header in ("case", "router / model", "skills", "attempts", "pass rate", "95% CI"):
        table.add_column(header, justify="right" if header in {"attempts"} else "left")
    for header in ("flips", "stability", "class"):
        table.add_column(header, justify="left" if header == "class" else "right")
    for case_ in cases:
        style = CLASS_STYLES[case_.flaky_class]
        rate = "-" if case_.pass_rate is None else f"{case_.pass_rate:.0%}"
        errors = f" (+{case_.errors} err)" if case_.errors else ""
        table.add_row(
            escape(case_.key.case_id),
            escape(f"{case_.key.router} / {case_.key.model or '-'}"),
            case_.key.skills_hash[:8],
            f"{case_.attempts}{errors}",
            rate,
            f"{case_.ci_low:.0%}-{case_.ci_high:.0%}",
            f"{case_.flips} ({case_.flip_rate:.0%})",
            f"{case_.stability:.0f}",
            f"[{style}]{case_.flaky_class}[/]",
        )
    console.print(table)
    counts = {kind: sum(c.flaky_class is kind for c in cases) for kind in FlakyClass}
    console.print(", ".join(f"{count} {kind}" for kind, count in counts.items()))


def flaky_command(
    window: Annotated[
        str, typer.Option("--window", help="Only attempts this recent: 12h, 7d, 4w.")
    ] = "7d",
    label: LabelOption = None,
    min_attempts: Annotated[
        int,
        typer.Option("--min-attempts", help="Fewer decided attempts: insufficient-data."),
    ] = DEFAULT_MIN_ATTEMPTS,
    rule: Annotated[
        FlakyRule,
        typer.Option("--rule", help="interval: Wilson 95% interval; plan: 30-70% pass rate."),
    ] = FlakyRule.INTERVAL,
    store: StoreOption = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Find flaky cases: pass rate with a Wilson 95% interval, flips, stability and class
    (flaky, broken, stable-pass, insufficient-data) per case, router, model and skills."""
    # cli.py registers this command, so its helpers are imported when the command runs.

    if min_attempts < 1:
        raise InputError(
            "--min-attempts", f"{min_attempts} is not at least 1", field="min_attempts"
        )
    attempt_filter = AttemptFilter(window=parse_window(window), labels=parse_labels(label or []))
    with _open(store, load_config(config_path)) as opened, opened.engine.connect() as connection:
        aggregates = read_flaky_aggregates(connection, attempt_filter)
    cases = classify_flaky(aggregates, min_attempts=min_attempts, rule=rule)
    if as_json:
        payload = {
            "window": window,
            "rule": str(rule),
            "min_attempts": min_attempts,
            "cases": [flaky_case_dict(case_) for case_ in cases],
        }
        typer.echo(json.dumps(payload))
    else:
        render_flaky(Console(highlight=False, soft_wrap=False), cases)
