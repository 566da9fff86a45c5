"""`routelens ablate`: which part of a skill's description does the routing (docs/optimize.md)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from routelens.commands.common import (
    CasesOption,
    ConcurrencyOption,
    ConfigOption,
    JsonOption,
    LabelOption,
    ModelOption,
    RepeatOption,
    RouterOption,
    RouterOptionsOption,
    SkillsOption,
    StoreOption,
    parse_labels,
    parse_router_options,
)
from routelens.commands.exit_codes import EXIT_STOPPED_BY_BUDGET, exit_code_for_signal

if TYPE_CHECKING:
    from routelens.optimize.ablation import Ablation


def ablate_command(
    skill: Annotated[str, typer.Option("--skill", help="The skill whose description to test.")],
    skills: SkillsOption = None,
    cases: CasesOption = None,
    router: RouterOption = None,
    model: ModelOption = None,
    router_option: RouterOptionsOption = None,
    repeat: RepeatOption = None,
    concurrency: ConcurrencyOption = None,
    sample: Annotated[
        float,
        typer.Option(
            min=0, max=1, help="Share of the cases the skill does not touch run too (0.25)."
        ),
    ] = 0.25,
    seed: Annotated[int, typer.Option(help="Seed of that sample.")] = 0,
    alpha: Annotated[
        float,
        typer.Option(min=0.0001, max=0.5, help="False discovery rate across the parts."),
    ] = 0.05,
    max_cost: Annotated[
        float | None,
        typer.Option(min=0, help="Stop scheduling before all the runs together cost more USD."),
    ] = None,
    store: StoreOption = None,
    label: LabelOption = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Which part of a skill's description does the routing: remove each, measure the change.

    The description is cut into sentences (and the items of TRIGGERS: / NOT FOR: lists).
    After a baseline run of the whole suite, each part is removed in turn and the cases the
    skill touches (expecting, named by, routed to or offered it) plus a seeded sample of the
    rest are run again. Each part gets the accuracy change on the skill's cases, on the cases
    routed to it and on the others, McNemar's p-value and its Benjamini-Hochberg adjustment,
    ranked from "carries the routing" to "mixed" and "dead weight" to "harmful". Every run
    is recorded.
    Exit 3 when --max-cost stopped it."""
    from routelens.commands.common import (
        configured_store_url,
        open_configured_store,
        required_path,
    )
    from routelens.commands.optimize import close_router
    from routelens.config import load_config
    from routelens.errors import InputError
    from routelens.optimize.ablation import ablate
    from routelens.optimize.trials import (
        Budget,
        BudgetExhausted,
        TrialInterrupted,
        TrialRunner,
        TrialSettings,
        plan_first,
        trigger_skill_for,
    )

    config = load_config(config_path)
    cases_path = required_path(cases or config.cases, "--cases", "ablate")
    settings = TrialSettings(
        config=config,
        skills_dir=required_path(skills or config.skills, "--skills", "ablate"),
        cases_path=cases_path,
        router=router,
        model=model,
        repeat=repeat,
        concurrency=concurrency,
        router_options=parse_router_options(router_option or []),
        labels=parse_labels(label or []),
        trigger_skill=trigger_skill_for(cases_path, skill),
    )
    plan = plan_first(settings, configured_store_url(store, config))
    close_router(plan.router)
    for problem in plan.warnings:
        typer.echo(problem.listing(), err=True)
    if plan.skills.resolve(skill) is None:
        raise InputError(
            "--skill", f"unknown skill {skill!r} (known: {', '.join(plan.skills.names)})"
        )

    def announce(message: str) -> None:
        typer.echo(f"routelens: ablate {message}", err=True)

    with open_configured_store(store, config, access="create") as opened:
        trials = TrialRunner(opened, settings, Budget(limit_usd=max_cost))
        try:
            result = ablate(
                trials,
                plan.skills,
                plan.suite.cases,
                skill,
                sample=sample,
                seed=seed,
                alpha=alpha,
                announce=announce,
            )
        except TrialInterrupted as interrupted:
            typer.echo(f"routelens: interrupted during run {interrupted.run_id}", err=True)
            raise typer.Exit(exit_code_for_signal(interrupted.signal_number)) from None
        except BudgetExhausted as spent:
            typer.echo(f"routelens: stopped by budget (--max-cost): {spent}", err=True)
            raise typer.Exit(EXIT_STOPPED_BY_BUDGET) from None
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
    else:
        for line in ablation_lines(result):
            typer.echo(line)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _change(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:+.1f}"


def ablation_lines(result: Ablation) -> list[str]:
    """The ablation for people: one line per part, ranked."""
    chosen = result.cases
    lines = [
        f"ablate {result.skill}: {_count(len(result.effects), 'part')}, {len(chosen.all)} cases "
        f"({len(chosen.affected)} the skill touches, {len(chosen.sampled)} sampled); "
        f"baseline run {result.baseline_run_id}",
        "  points when the part is removed: own = cases expecting the skill, routed = cases "
        "routed to it in the baseline, others = every other case",
        f"  {'verdict':<20} {'own':>6} {'routed':>6} {'others':>6} {'b':>3} {'c':>3} "
        f"{'p':>7} {'p(BH)':>7}  part",
    ]
    for effect in result.effects:
        mark = "*" if effect.significant else " "
        lines.append(
            f"  {effect.verdict!s:<20} {_change(effect.own.change):>6} "
            f"{_change(effect.routed.change):>6} {_change(effect.others.change):>6} "
            f"{effect.b:>3} {effect.c:>3} {effect.p_value:>7.3g} {effect.p_adjusted:>7.3g}"
            f"{mark} [{effect.part.kind}] {effect.part.text}"
        )
    lines.append(
        f"  b: cases that fail without the part, c: cases that pass only without it; "
        f"* significant at a false discovery rate of {result.alpha:g}"
    )
    return lines
