"""`routelens experiment`: A/B test two versions of a skills folder, watched sequentially."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from routelens.commands.common import (
    ConfigOption,
    JsonOption,
    StoreOption,
    command_group,
    parse_router_options,
    reports_input_errors,
    runnable_command,
)
from routelens.commands.common import (
    open_configured_store as _open,
)
from routelens.commands.exit_codes import exit_code_for_signal
from routelens.config import load_config
from routelens.experiments import (
    Arm,
    Decision,
    ExperimentPlan,
    ExperimentRecord,
    conclude_experiment,
    experiment_comparison,
    list_experiments,
    planned_experiment,
    run_experiment,
)
from routelens.experiments.execution import pending_attempts
from routelens.experiments.lifecycle import ArmRows
from routelens.experiments.storage import insert_experiment, require_experiment
from routelens.report.progress import RunProgress
from routelens.store import Store

P = ParamSpec("P")
R = TypeVar("R")

experiment_app = command_group(
    "experiment", "A/B test two skill versions: interleaved runs, an always-valid comparison."
)

NameArgument = Annotated[str, typer.Argument(help="The experiment's name.")]


@experiment_app.command("create")
@reports_input_errors
def create(
    name: NameArgument,
    control: Annotated[str, typer.Option(help="Skills folder, or a git ref (commit/branch/tag).")],
    treatment: Annotated[str, typer.Option(help="Skills folder, or a git ref to compare.")],
    cases: Annotated[Path, typer.Option(help="Case file both arms run.")],
    skills_path: Annotated[
        str | None,
        typer.Option(
            help="Skills folder inside the repo for git refs (default: the control folder's "
            "place in the repository, else skills)."
        ),
    ] = None,
    repo: Annotated[
        Path | None,
        typer.Option(
            help="Git repository of the refs (default: the one holding a folder arm, else "
            "the working directory)."
        ),
    ] = None,
    router: Annotated[
        str,
        typer.Option(
            help="local (offline), anthropic, openai, claude-code, or package.module:factory."
        ),
    ] = "local",
    model: Annotated[str | None, typer.Option(help="Model the router uses.")] = None,
    repeat: Annotated[int, typer.Option(min=1, help="Attempts per case and arm.")] = 3,
    concurrency: Annotated[int, typer.Option(min=1, help="Attempts in flight.")] = 4,
    seed: Annotated[int | None, typer.Option(help="Seed of the interleaved order.")] = None,
    store: StoreOption = None,
    config_path: ConfigOption = None,
) -> None:
    """Record a draft experiment after checking that both arms load with the cases."""
    plan = ExperimentPlan(
        name=name,
        control=control,
        treatment=treatment,
        cases=cases,
        skills_path=skills_path,
        repo=repo,
        router=router,
        model=model,
        repeat=repeat,
        concurrency=concurrency,
        seed=seed,
    )
    record = planned_experiment(plan)  # both arms validated before any store is created
    with _open(store, load_config(config_path), access="create") as opened:
        insert_experiment(opened, record)
    typer.echo(
        f"created experiment {record.name} (draft): control {record.control.describe()}, "
        f"treatment {record.treatment.describe()}; seed {record.seed}"
    )


@experiment_app.command("run")
@reports_input_errors
def run(
    name: NameArgument,
    router_option: Annotated[
        list[str] | None, typer.Option(help="key=value passed to the router, repeatable.")
    ] = None,
    store: StoreOption = None,
    config_path: ConfigOption = None,
) -> None:
    """Run both arms interleaved; running again continues the attempts still missing."""

    config = load_config(config_path)
    with _open(store, config, access="write") as opened:
        record = require_experiment(opened, name)
        pending = pending_attempts(opened, record)
        with RunProgress(pending, Console(stderr=True), description=name) as progress:
            outcome = run_experiment(
                opened,
                name,
                router_options={
                    **config.options_for(record.router),
                    **parse_router_options(router_option or []),
                },
                pricing=config.pricing,
                observer=progress,
            )
    made = ", ".join(f"{arm} {count}" for arm, count in outcome.attempts_made.items())
    typer.echo(f"experiment {name}: attempts made now: {made}")
    if outcome.interrupted:
        resume = runnable_command(
            "routelens", "experiment", "run", name, store=store, config=config_path
        )
        typer.echo(f"routelens: interrupted; continue with: {resume}", err=True)
        raise typer.Exit(exit_code_for_signal(int(outcome.interrupted_by or signal.SIGINT)))


def experiment_status_dict(
    record: ExperimentRecord, store: Store, arms: ArmRows | None = None
) -> dict[str, Any]:
    """The object `experiment status --json` prints (the web experiment page shows it too;
    `arms`: the arms' attempts, when the caller has read them already)."""
    view: dict[str, Any] = {
        "name": record.name,
        "status": str(record.status),
        "router": record.router,
        "model": record.model,
        "repeat": record.repeat,
        "seed": record.seed,
        "created_at": record.created_at.isoformat(),
        "arms": {
            str(arm): {"source": record.arm(arm).describe(), "run_id": record.run_id(arm)}
            for arm in Arm
        },
        "decision": None if record.decision is None else str(record.decision),
        "decision_reason": record.decision_reason,
    }
    if record.summary is not None:
        view["comparison"] = record.summary
    elif record.control_run_id is not None:
        view["comparison"] = experiment_comparison(store, record, arms).to_dict()
    return view


def _print_status(view: dict[str, Any]) -> None:
    typer.echo(f"experiment {view['name']}: {view['status']} ({view['router']}, x{view['repeat']})")
    comparison = view.get("comparison")
    for arm in Arm:
        arm_view = view["arms"][str(arm)]
        line = f"  {arm:<9} {arm_view['source']}"
        if comparison is not None:
            counts = comparison[str(arm)]
            accuracy = counts["accuracy"]
            shown = "-" if accuracy is None else f"{accuracy:.1%}"
            line += (
                f"  attempts {counts['attempts']}/{comparison['planned_pairs']}"
                f"  accuracy {shown}  errors {counts['errors']}"
            )
        typer.echo(line)
    if comparison is None:
        typer.echo("  not run yet")
        return
    sequence, fixed = comparison["confidence_sequence"], comparison["fixed_sample"]
    typer.echo(
        f"  treatment - control: {comparison['difference']:+.3f} over {comparison['pairs']} pairs"
    )
    typer.echo(
        f"  {1 - sequence['alpha']:.0%} confidence sequence (valid at every look): "
        f"[{sequence['low']:+.3f}, {sequence['high']:+.3f}]"
    )
    typer.echo(
        f"  fixed-sample ({fixed['valid']}): McNemar p = {fixed['mcnemar_p_value']:.4g}, "
        f"95% interval [{fixed['interval_low']:+.3f}, {fixed['interval_high']:+.3f}]"
    )
    typer.echo(f"  recommendation: {comparison['recommendation']} ({comparison['reason']})")
    if view["decision"] is not None:
        typer.echo(f"  decision: {view['decision']} ({view['decision_reason']})")


@experiment_app.command("status")
@reports_input_errors
def status(
    name: NameArgument,
    store: StoreOption = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Per-arm accuracy, the difference with its always-valid interval, and a recommendation."""
    with _open(store, load_config(config_path)) as opened:
        view = experiment_status_dict(require_experiment(opened, name), opened)
    if as_json:
        typer.echo(json.dumps(view, sort_keys=True))
    else:
        _print_status(view)


@experiment_app.command("conclude")
@reports_input_errors
def conclude(
    name: NameArgument,
    decision: Annotated[
        Decision | None,
        typer.Option(help="adopt, reject or inconclusive [default: what the data supports]."),
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why; stored with the decision.")] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Store the final comparison and the decision; the experiment becomes read-only."""
    with _open(store, load_config(config_path), access="write") as opened:
        record = conclude_experiment(opened, name, decision, reason)
        view = experiment_status_dict(record, opened)
    if as_json:
        typer.echo(json.dumps(view, sort_keys=True))
    else:
        _print_status(view)


def experiment_list_rows(store: Store) -> list[dict[str, Any]]:
    """Every experiment, newest first, as `experiment list --json` (and the web) show them."""
    return [
        {
            "name": r.name,
            "status": str(r.status),
            "created_at": r.created_at.isoformat(),
            "control": r.control.describe(),
            "treatment": r.treatment.describe(),
            "decision": None if r.decision is None else str(r.decision),
        }
        for r in list_experiments(store)
    ]


@experiment_app.command("list")
@reports_input_errors
def list_command(
    store: StoreOption = None, as_json: JsonOption = False, config_path: ConfigOption = None
) -> None:
    """Every experiment, newest first."""
    with _open(store, load_config(config_path)) as opened:
        rows = experiment_list_rows(opened)
    if as_json:
        typer.echo(json.dumps({"experiments": rows}, sort_keys=True))
        return
    for row in rows:
        decided = f" → {row['decision']}" if row["decision"] else ""
        typer.echo(
            f"{row['name']}  {row['status']}{decided}  {row['control']} vs {row['treatment']}"
        )
