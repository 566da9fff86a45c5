"""`routelens optimize`: a better description, proposed on train, chosen on validation, proven
on test (docs/optimize.md)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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
    from routelens.config import RoutelensConfig
    from routelens.optimize.loop import FinalMeasurement, Selection
    from routelens.optimize.optimizer import OptimizeRequest
    from routelens.optimize.proposals import Proposer
    from routelens.optimize.trials import TrialRunner, TrialSettings
    from routelens.runner.launch import NewRunPlan


class ProposerChoice(StrEnum):
    """Who proposes descriptions."""

    OFFLINE = "offline"
    ANTHROPIC = "anthropic"
    OPENAI = "openai"
    CLAUDE_CODE = "claude-code"


def optimize_command(
    skills: SkillsOption = None,
    cases: CasesOption = None,
    skill: Annotated[
        str | None, typer.Option("--skill", help="The skill whose description to improve.")
    ] = None,
    all_skills: Annotated[
        bool,
        typer.Option("--all", help="Improve every skill in turn, worst first."),
    ] = False,
    proposer: Annotated[
        ProposerChoice, typer.Option(help="Who proposes new descriptions.")
    ] = ProposerChoice.OFFLINE,
    proposer_model: Annotated[
        str | None, typer.Option(help="Model the proposer asks [default: its router's].")
    ] = None,
    proposer_option: Annotated[
        list[str] | None,
        typer.Option(help="key=value for the proposer's router, repeatable."),
    ] = None,
    iterations: Annotated[int, typer.Option(min=1, help="Proposals per skill.")] = 5,
    split: Annotated[
        str, typer.Option(help="Shares of the cases for TRAIN,VALIDATION,TEST.")
    ] = "0.6,0.2,0.2",
    seed: Annotated[int, typer.Option(help="Seed of the split (same seed, same split).")] = 0,
    alpha: Annotated[
        float, typer.Option(min=0.0001, max=0.5, help="Significance level of the test gain.")
    ] = 0.05,
    tolerance: Annotated[
        float,
        typer.Option(
            min=0, max=100, help="Points another skill's test accuracy may drop (default 2)."
        ),
    ] = 2.0,
    router: RouterOption = None,
    model: ModelOption = None,
    router_option: RouterOptionsOption = None,
    repeat: RepeatOption = None,
    concurrency: ConcurrencyOption = None,
    max_cost: Annotated[
        float | None,
        typer.Option(min=0, help="Stop before runs and proposals together cost more USD."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write a copy of the skills folder with the new descriptions here."),
    ] = None,
    store: StoreOption = None,
    label: LabelOption = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """A better description, proposed on train, chosen on validation, proven on test.

    The cases are split three ways (stratified by category and expected skill). Proposals
    come from train failures; each is run on train and validation and the best on validation
    is kept; only then are the original and the kept description run once on test. It is
    recommended when the test gain is significant (McNemar, --alpha) and no other skill's
    test accuracy drops by more than --tolerance points. Every evaluation is a recorded run;
    the test comparison is recorded as an experiment. Exit 3 when --max-cost stopped it."""
    from routelens.commands.common import configured_store_url, open_configured_store
    from routelens.config import load_config
    from routelens.optimize.loop import LoopSettings
    from routelens.optimize.optimizer import OptimizeRequest, skills_to_optimize
    from routelens.optimize.output import check_out_folder
    from routelens.optimize.split import parse_split
    from routelens.optimize.trials import (
        Budget,
        TrialRunner,
        TrialSettings,
        plan_first,
        trigger_skill_for,
    )

    config = load_config(config_path)
    if skill is not None and all_skills:
        _bad_input("give --skill NAME or --all, not both", "skill")
    shares = parse_split(split)
    skills_dir = _required(skills or config.skills, "--skills")
    cases_path = _required(cases or config.cases, "--cases")
    if out is not None:
        check_out_folder(out, skills_dir)
    settings = TrialSettings(
        config=config,
        skills_dir=skills_dir,
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
    request = OptimizeRequest(
        proposer=_proposer(proposer, proposer_model, proposer_option or [], config),
        skill=skill,
        all_skills=all_skills,
        shares=shares,
        seed=seed,
        loop=LoopSettings(iterations=iterations, alpha=alpha, tolerance=tolerance / 100),
    )
    skills_to_optimize(request, plan.skills)  # an unknown --skill stops here, no store yet
    with open_configured_store(store, config, access="create") as opened:
        trials = TrialRunner(opened, settings, Budget(limit_usd=max_cost))
        _run(trials, plan, request, settings, out=out, as_json=as_json)


def _run(
    trials: TrialRunner,
    plan: NewRunPlan,
    request: OptimizeRequest,
    settings: TrialSettings,
    *,
    out: Path | None,
    as_json: bool,
) -> None:
    from routelens.optimize.optimizer import optimize
    from routelens.optimize.output import write_skills_copy
    from routelens.optimize.recording import record_experiment
    from routelens.optimize.report import optimize_report, result_lines
    from routelens.optimize.trials import TrialInterrupted

    def record(selection: Selection, measurement: FinalMeasurement, report: dict[str, Any]) -> str:
        return record_experiment(
            trials.store,
            skills_dir=settings.skills_dir,
            cases_path=settings.cases_path,
            skills=plan.skills,
            selection=selection,
            measurement=measurement,
            seed=request.seed,
            report=report,
        ).name

    def announce(message: str) -> None:
        typer.echo(f"routelens: optimize {message}", err=True)

    try:
        result = optimize(
            trials, plan.skills, plan.suite, request, record=record, announce=announce
        )
    except TrialInterrupted as interrupted:
        typer.echo(f"routelens: interrupted during run {interrupted.run_id}", err=True)
        raise typer.Exit(exit_code_for_signal(interrupted.signal_number)) from None
    diff = ""
    if out is not None:
        diff = write_skills_copy(plan.skills, out, result.descriptions)
    if as_json:
        typer.echo(json.dumps(optimize_report(result)))
    else:
        for line in result_lines(result):
            typer.echo(line)
    if out is not None:
        typer.echo(
            f"routelens: wrote {out} ({len(result.descriptions)} SKILL.md changed)", err=True
        )
        typer.echo(diff, nl=False, err=as_json)
    if result.stopped:
        typer.echo(f"routelens: stopped by budget (--max-cost): {result.stopped}", err=True)
        raise typer.Exit(EXIT_STOPPED_BY_BUDGET)


def _required(value: Path | None, flag: str) -> Path:
    from routelens.commands.common import required_path

    return required_path(value, flag, "optimize")


def _bad_input(message: str, field: str) -> None:
    from routelens.errors import InputError

    raise InputError("routelens optimize", message, field=field)


def close_router(router: object) -> None:
    """Close a router built only to validate the flags."""
    import asyncio

    from routelens.routers.base import Router

    if isinstance(router, Router):
        asyncio.run(router.aclose())


def _proposer(
    choice: ProposerChoice, model: str | None, options: list[str], config: RoutelensConfig
) -> Proposer:
    if choice is ProposerChoice.OFFLINE:
        from routelens.optimize.offline import OfflineProposer

        return OfflineProposer()
    from routelens.optimize.llm import LlmProposer, LlmProposerName, writer_factory

    name = LlmProposerName(str(choice))
    settings = {**config.options_for(str(choice)), **parse_router_options(options)}
    return LlmProposer(name, writer_factory(name, model, settings, config.pricing))
