"""`routelens power`: what a suite of N cases x R repeats can detect, and what it would need."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from routelens.analytics.power import PowerPlan, plan_power
from routelens.commands.common import JsonOption, stdout_console
from routelens.errors import InputError


def _check_flags(
    cases: int,
    repeats: int,
    difference: float | None,
    power: float,
    alpha: float,
    baseline_accuracy: float,
    icc: float,
) -> None:
    if cases < 1:
        raise InputError("--cases", f"{cases} is not a positive number of cases", field="cases")
    if repeats < 1:
        raise InputError("--repeats", f"{repeats} is not >= 1", field="repeats")
    if not 0 < alpha < 1:
        raise InputError("--alpha", f"{alpha} is not in (0, 1)", field="alpha")
    if not alpha / 2 < power < 1:
        raise InputError("--power", f"{power} is not in (alpha/2, 1)", field="power")
    if not 0 < baseline_accuracy <= 1:
        raise InputError(
            "--baseline-accuracy", f"{baseline_accuracy} is not in (0, 1]", field="baseline"
        )
    if not 0 <= icc <= 1:
        raise InputError("--icc", f"{icc} is not in [0, 1]", field="icc")
    if difference is not None and not 0 < difference <= baseline_accuracy:
        raise InputError(
            "--difference",
            f"{difference} is not a drop in (0, baseline accuracy {baseline_accuracy}]",
            field="difference",
        )


def _optional_percent(value: float | None) -> str:
    return "not reachable" if value is None else f"{value:.1%}"


def render_power_plan(console: Console, plan: PowerPlan) -> None:
    """Print a power plan as a two-column rich table."""
    table = Table(title="Power of a comparison between two runs", title_justify="left")
    table.add_column("Quantity")
    table.add_column("Value", justify="right")
    rows = [
        ("Cases x repeats", f"{plan.cases} x {plan.repeats}"),
        ("Baseline accuracy", f"{plan.baseline_accuracy:.1%}"),
        ("Alpha (two-sided) / power", f"{plan.alpha:g} / {plan.power:g}"),
        ("Intra-case correlation", f"{plan.icc:g}"),
        ("Design effect", f"{plan.design_effect:.2f}"),
        ("Effective attempts per run", f"{plan.effective_attempts:.1f}"),
        ("Minimum detectable drop", _optional_percent(plan.minimum_detectable_difference)),
    ]
    if plan.difference is not None:
        needed = plan.repeats_needed
        rows += [
            ("Drop to detect", f"{plan.difference:.1%}"),
            ("Power at this size", _optional_percent(plan.power_at_difference)),
            (
                "Repeats needed",
                f"more cases needed (repeats alone cannot reach power {plan.power:g})"
                if needed is None
                else str(needed),
            ),
            (f"Cases needed at {plan.repeats} repeats", str(plan.cases_needed_at_repeats)),
        ]
    for label, value in rows:
        table.add_row(label, value)
    console.print(table)


def power_command(
    cases: Annotated[int, typer.Option(help="Cases in the suite (N).")],
    repeats: Annotated[int, typer.Option(help="Repeats of each case (R).")],
    difference: Annotated[
        float | None,
        typer.Option(help="A drop in accuracy to detect (0.05 = 5 points): repeats it needs."),
    ] = None,
    power: Annotated[float, typer.Option(help="Power wanted.")] = 0.8,
    alpha: Annotated[float, typer.Option(help="Two-sided significance level.")] = 0.05,
    baseline_accuracy: Annotated[float, typer.Option(help="Accuracy of the baseline run.")] = 0.85,
    icc: Annotated[
        float, typer.Option(help="Intra-case correlation of repeats (0: independent, 1: same).")
    ] = 0.5,
    as_json: JsonOption = False,
) -> None:
    """Minimum accuracy drop N cases x R repeats detect, and the repeats a drop needs.

    Two-sided two-proportion test on Cohen's arcsine effect size, with Kish's design effect
    1 + (R - 1) * icc for repeats of the same case. See docs/statistics.md.
    """
    _check_flags(cases, repeats, difference, power, alpha, baseline_accuracy, icc)
    plan = plan_power(
        cases=cases,
        repeats=repeats,
        alpha=alpha,
        power=power,
        baseline_accuracy=baseline_accuracy,
        icc=icc,
        difference=difference,
    )
    if as_json:
        typer.echo(json.dumps(asdict(plan), sort_keys=True))
    else:
        render_power_plan(stdout_console(), plan)
