"""`routelens compare`: a candidate against a baseline, paired by (case, repeat)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy import Engine

from routelens.analytics.compare import (
    AttemptOutcome,
    Comparison,
    GroupComparison,
    SideSummary,
    compare_outcomes,
    comparison_as_dict,
)
from routelens.analytics.window import AttemptFilter
from routelens.commands.common import open_configured_store
from routelens.config import load_config
from routelens.errors import InputError
from routelens.report.console import format_percent
from routelens.store import DEFAULT_STORE_URL, Store, Verdict, schema
from routelens.store.reads import attempts_select

EXIT_SIGNIFICANT_REGRESSION = 1


@dataclass(frozen=True)
class Side:
    """One side of a comparison as given on the command line: a run id or label=value."""

    flag: str
    text: str
    attempt_filter: AttemptFilter


def parse_side(flag: str, text: str) -> Side:
    """`RUN_ID` or `key=value` (every run with that label) → the attempts it selects."""
    key, sep, value = text.partition("=")
    if sep:
        if not key.strip() or not value.strip():
            raise InputError(flag, f"{text!r} is not a run id or label=value", field="label")
        return Side(flag, text, AttemptFilter(labels={key.strip(): value.strip()}))
    if not text.strip():
        raise InputError(flag, "empty run id", field="run_id")
    return Side(flag, text, AttemptFilter(run_ids=(text.strip(),)))


def read_outcomes(engine: Engine, attempt_filter: AttemptFilter) -> list[AttemptOutcome]:
    """The outcome columns of every attempt the filter selects."""
    columns = schema.attempts.c
    query = attempts_select(
        [
            columns.run_id,
            columns.case_id,
            columns.repeat_index,
            columns.category,
            columns.expected_skill,
            columns.verdict,
            columns.started_at,
        ],
        attempt_filter,
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        AttemptOutcome(
            run_id=row[0],
            case_id=row[1],
            repeat_index=int(row[2]),
            category=row[3],
            expected_skill=row[4],
            verdict=Verdict(row[5]),
            started_at=row[6],
        )
        for row in rows
    ]


def load_side(store: Store, side: Side) -> list[AttemptOutcome]:
    """The attempts of one side; InputError naming the flag when there are none."""
    for run_id in side.attempt_filter.run_ids:
        if store.get_run(run_id) is None:
            raise InputError(side.flag, f"no run {run_id!r} in {store.display_url}", field="run_id")
    outcomes = read_outcomes(store.engine, side.attempt_filter)
    if not outcomes:
        field = "run_id" if side.attempt_filter.run_ids else "label"
        raise InputError(side.flag, f"{side.text!r} selects no attempts", field=field)
    return outcomes


def compare_sides(store: Store, baseline: Side, candidate: Side, alpha: float) -> Comparison:
    """Read both sides and compare them; no overlap is an InputError on --candidate."""
    try:
        return compare_outcomes(
            load_side(store, baseline), load_side(store, candidate), alpha=alpha
        )
    except ValueError as error:
        raise InputError(candidate.flag, str(error), field="pairs") from None


def _side_row(table: Table, name: str, text: str, side: SideSummary) -> None:
    table.add_row(
        name,
        Text(text),
        format_percent(side.accuracy),
        f"{format_percent(side.ci_low)} to {format_percent(side.ci_high)}",
        str(side.attempts),
        str(side.errors),
        str(side.cases),
    )


def _group_table(title: str, groups: list[GroupComparison]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("Key")
    for header in ("Pairs", "Baseline", "Candidate", "Δ", "b", "c", "p", "p (BH)"):
        table.add_column(header, justify="right")
    for group in sorted(groups, key=lambda g: (g.difference, g.key)):
        table.add_row(
            Text(group.key),
            str(group.pairs),
            format_percent(group.baseline),
            format_percent(group.candidate),
            f"{group.difference:+.1%}",
            str(group.b),
            str(group.c),
            f"{group.p_value:.3g}",
            f"{group.p_adjusted:.3g}",
        )
    return table


def render_comparison(console: Console, baseline: str, candidate: str, result: Comparison) -> None:
    """Print a comparison as rich tables: sides, difference, tests, breakdowns, case lists."""
    sides = Table(title="Accuracy on shared (case, repeat) pairs", title_justify="left")
    for header in ("Side", "Selector", "Accuracy", "95% CI", "Attempts", "Errors", "Cases"):
        sides.add_column(header, justify="left" if header in ("Side", "Selector") else "right")
    _side_row(sides, "baseline", baseline, result.baseline)
    _side_row(sides, "candidate", candidate, result.candidate)
    console.print(sides)
    diff = result.difference
    console.print(
        f"Difference (candidate - baseline): [bold]{diff.estimate:+.1%}[/] "
        f"(95% CI {diff.low:+.1%} to {diff.high:+.1%}) over {result.paired_attempts} pairs"
    )
    attempt, case = result.attempt_test, result.mcnemar
    console.print(
        f"Attempt-level McNemar: b={attempt.b} c={attempt.c} p={attempt.p_value:.3g}\n"
        f"Case-level McNemar: {case.b} regressed, {case.c} improved, p={case.p_value:.3g}"
    )
    errors = result.error_rate
    console.print(
        f"Error rate: {format_percent(errors.baseline)} → {format_percent(errors.candidate)} "
        f"(Fisher p={errors.p_value:.3g})"
    )
    console.print(_group_table("By expected skill", result.by_skill))
    console.print(_group_table("By category", result.by_category))
    for label, cases in (("Regressed", result.regressed), ("Improved", result.improved)):
        console.print(Text(f"{label} ({len(cases)}): {', '.join(cases) or '-'}"))
    if result.significant_regression:
        console.print(f"[bold red]Significant regression[/] (case-level p < {result.alpha})")


def compare_command(
    baseline: Annotated[
        str, typer.Option(help="Baseline: a run id, or label=value for every run with it.")
    ],
    candidate: Annotated[
        str, typer.Option(help="Candidate: a run id, or label=value for every run with it.")
    ],
    store: Annotated[
        str | None,
        typer.Option("--store", help=f"Store URL or SQLite path (default: {DEFAULT_STORE_URL})."),
    ] = None,
    alpha: Annotated[
        float, typer.Option(min=0, max=1, help="Significance level of the regression test.")
    ] = 0.05,
    fail_on_regression: Annotated[
        bool,
        typer.Option(help="Exit 1 when the candidate is significantly worse (case-level)."),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on stdout.")
    ] = False,
    config_path: Annotated[
        Path | None, typer.Option("--config", help="routelens.toml (default: ./routelens.toml).")
    ] = None,
) -> None:
    """Compare a candidate with a baseline, attempt by attempt and case by case.

    Attempts pair by (case, repeat); a side with several runs uses the latest attempt of
    each pair. Reports both accuracies, their difference with a 95% interval, McNemar's
    exact tests, per-skill and per-category differences (Benjamini-Hochberg adjusted) and
    the cases that improved or regressed. See docs/statistics.md.
    """
    if not 0 < alpha < 1:
        raise InputError("--alpha", f"{alpha} is not in (0, 1)", field="alpha")
    baseline_side = parse_side("--baseline", baseline)
    candidate_side = parse_side("--candidate", candidate)
    config = load_config(config_path)
    with open_configured_store(store, config) as opened:
        result = compare_sides(opened, baseline_side, candidate_side, alpha)
    if as_json:
        payload = comparison_as_dict(result)
        payload["baseline"]["selector"] = baseline
        payload["candidate"]["selector"] = candidate
        typer.echo(json.dumps(payload, sort_keys=True))
    else:
        render_comparison(Console(highlight=False, soft_wrap=False), baseline, candidate, result)
    if fail_on_regression and result.significant_regression:
        raise typer.Exit(EXIT_SIGNIFICANT_REGRESSION)
