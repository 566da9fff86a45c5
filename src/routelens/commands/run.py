"""`routelens run`: run a routing suite, record every attempt, print the summary, gate CI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
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
    output_file,
    parse_descriptions,
    parse_labels,
    parse_router_options,
    positive_number,
    runnable_command,
)
from routelens.commands.exit_codes import (
    EXIT_GATE_FAILED,
    EXIT_STOPPED_BY_BUDGET,
    exit_code_for_signal,
)

if TYPE_CHECKING:
    from routelens.config import RoutelensConfig
    from routelens.runner.launch import PreparedRun, RunFlags
    from routelens.runner.session import RunOutcome
    from routelens.store.records import AttemptRecord, RunCaseRecord
    from routelens.store.sqlstore import Store


@dataclass(frozen=True)
class FinishedRun:
    """A run after execution: how it ended, its attempts and its cases."""

    outcome: RunOutcome
    attempts: list[AttemptRecord]
    case_rows: list[RunCaseRecord]
    missing_attempts: int = 0
    """Planned attempts the run lacks (a run closed by `--finish` early)."""


def run(
    skills: SkillsOption = None,
    cases: CasesOption = None,
    router: RouterOption = None,
    model: ModelOption = None,
    repeat: RepeatOption = None,
    concurrency: ConcurrencyOption = None,
    timeout: Annotated[
        float | None,
        typer.Option(callback=positive_number, help="Seconds one attempt may take (> 0)."),
    ] = None,
    store: StoreOption = None,
    label: LabelOption = None,
    environment: Annotated[str | None, typer.Option(help="Environment label, e.g. ci.")] = None,
    router_option: RouterOptionsOption = None,
    trigger_skill: Annotated[
        str | None, typer.Option(help="The skill a trigger eval set (JSON) tests.")
    ] = None,
    case: Annotated[
        list[str] | None, typer.Option(help="Run only this case (repeatable).", metavar="ID")
    ] = None,
    category: Annotated[
        list[str] | None,
        typer.Option(help="Run only cases of this category (repeatable).", metavar="CATEGORY"),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option(help="Run only cases with this tag (repeatable).", metavar="TAG"),
    ] = None,
    trigger_threshold: Annotated[
        float | None,
        typer.Option(
            min=0,
            max=1,
            help="Trigger sets: a query passes when its trigger rate over the repeats "
            "reaches this (default 0.5).",
            metavar="RATIO",
        ),
    ] = None,
    description: Annotated[
        list[str] | None,
        typer.Option(
            help="SKILL=TEXT: try another description without editing the file (repeatable); "
            "recorded with the run, and the skill's hash changes with it.",
            metavar="SKILL=TEXT",
        ),
    ] = None,
    include_skipped: Annotated[
        bool, typer.Option("--include-skipped", help="Also run cases marked skip: true.")
    ] = False,
    skip_invalid_skills: Annotated[
        bool,
        typer.Option("--skip-invalid-skills", help="Leave invalid skills out instead of refusing."),
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Warnings about skills and cases are errors.")
    ] = False,
    min_accuracy: Annotated[
        float | None, typer.Option(min=0, max=1, help="Gate: exit 1 below this accuracy.")
    ] = None,
    max_error_rate: Annotated[
        float | None,
        typer.Option(min=0, max=1, help="Gate: exit 1 above this error rate (default 0.1)."),
    ] = None,
    max_retries: Annotated[
        int | None,
        typer.Option(min=0, help="API routers (anthropic, openai): retries per attempt (4)."),
    ] = None,
    max_cost: Annotated[
        float | None,
        typer.Option(
            min=0, help="Stop scheduling before the run's cost passes this many USD (resumable)."
        ),
    ] = None,
    resume: Annotated[str | None, typer.Option(help="Run only what RUN_ID is missing.")] = None,
    retry_errors: Annotated[
        bool, typer.Option("--retry-errors", help="With --resume: redo error attempts.")
    ] = False,
    shard: Annotated[
        str | None,
        typer.Option(help="Run shard I of N (e.g. 2/3) of the run --run-id names.", metavar="I/N"),
    ] = None,
    run_id: Annotated[
        str | None, typer.Option(help="Id of the new run (every --shard names the same one).")
    ] = None,
    finish: Annotated[
        str | None, typer.Option(help="Mark RUN_ID complete and gate it (after its shards).")
    ] = None,
    executor: Annotated[
        str | None,
        typer.Option(help="Queue the attempts on redis://HOST[:PORT][/DB] for `routelens worker`."),
    ] = None,
    max_wait: Annotated[
        float | None,
        typer.Option(
            callback=positive_number, help="With --executor: stop waiting after SECONDS (> 0)."
        ),
    ] = None,
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML to this file.")] = None,
    otlp_endpoint: Annotated[
        str | None,
        typer.Option(help="Send spans and metrics over OTLP here (else OTEL_EXPORTER_OTLP_*)."),
    ] = None,
    capture_content: Annotated[
        bool | None,
        typer.Option(
            "--capture-content/--no-capture-content",
            help="Put inputs and responses on spans (default: "
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT).",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Leave the failed-case list out of the summary.")
    ] = False,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Run a routing suite and print the summary; exit 1 when the gate fails.

    The gate fails when the error rate passes max_error_rate (0.1 by default) and, with
    --min-accuracy, when accuracy is below it. Many machines: see `--shard`, `--executor`
    and `routelens worker`."""
    from routelens.config import load_config
    from routelens.runner.launch import Distribution, RunFlags
    from routelens.runner.shards import ShardSpec
    from routelens.suite.selection import CaseSelection

    config = load_config(config_path)
    gate_options = {"min_accuracy": min_accuracy, "max_error_rate": max_error_rate}
    if finish is not None:
        finished = _finish(config, store, finish)
        _report(finished, config, as_json=as_json, resume_command="", quiet=quiet, **gate_options)
        return
    distribution = Distribution(
        shard=ShardSpec.parse(shard) if shard is not None else None,
        run_id=run_id,
        executor=executor,
        max_wait_s=max_wait,
    )
    flags = RunFlags(
        skills=skills,
        cases=cases,
        router=router,
        model=model,
        repeat=repeat,
        concurrency=concurrency,
        timeout_s=timeout,
        max_cost_usd=max_cost,
        labels=parse_labels(label or []),
        environment=environment,
        router_options=parse_router_options(router_option or []),
        max_retries=max_retries,
        trigger_skill=trigger_skill,
        selection=CaseSelection(tuple(case or ()), tuple(category or ()), tuple(tag or ())),
        trigger_threshold=trigger_threshold,
        include_skipped=include_skipped,
        skip_invalid_skills=skip_invalid_skills,
        strict=strict,
        descriptions=parse_descriptions(description or []),
        distribution=distribution,
    )
    finished = _execute(
        config,
        flags,
        store_option=store,
        resume=resume,
        retry_errors=retry_errors,
        otlp_endpoint=otlp_endpoint,
        capture_content=capture_content,
        junit=output_file(junit, "--junit"),
    )
    resume = _resume_command(finished.outcome.run.run_id, store, config_path, executor)
    _report(finished, config, as_json=as_json, resume_command=resume, quiet=quiet, **gate_options)


def _resume_command(
    run_id: str, store: str | None, config_path: Path | None, executor: str | None = None
) -> str:
    """The command that continues this run, runnable as printed (with --store, --config,
    and the queue it was given, with any password left out)."""
    words = ["routelens", "run", "--resume", run_id]
    if executor is not None:
        from routelens.store.urls import strip_url_credentials

        words += ["--executor", strip_url_credentials(executor)]
    return runnable_command(*words, store=store, config=config_path)


def _finish(config: RoutelensConfig, store_option: str | None, reference: str) -> FinishedRun:
    """`--finish`: close a run its shards or workers wrote, for the same report and gate."""
    from routelens.commands.common import open_configured_store
    from routelens.runner.session import RunOutcome
    from routelens.runner.shards import finish_run

    with open_configured_store(store_option, config, access="write") as opened:
        check = finish_run(opened, reference)
        run_id = check.run.run_id
        attempts = opened.attempts(run_id)
        case_rows = opened.run_cases(run_id)
    outcome = RunOutcome(check.run, 0, interrupted=False)
    return FinishedRun(outcome, attempts, case_rows, missing_attempts=check.missing_attempts)


def _execute(
    config: RoutelensConfig,
    flags: RunFlags,
    *,
    store_option: str | None,
    resume: str | None,
    retry_errors: bool,
    otlp_endpoint: str | None,
    capture_content: bool | None,
    junit: Path | None,
) -> FinishedRun:
    from routelens.commands.common import configured_store_url, open_configured_store
    from routelens.runner.launch import plan_new_run, prepare_resumed_run, record_new_run

    if resume is not None:
        with open_configured_store(store_option, config, access="write") as opened:
            prepared = prepare_resumed_run(opened, config, resume, flags)
            return _execute_prepared(
                opened, prepared, retry_errors, otlp_endpoint, capture_content, junit
            )
    # every input error surfaces before a store exists
    plan = plan_new_run(config, flags, configured_store_url(store_option, config))
    for problem in plan.warnings:
        typer.echo(problem.listing(), err=True)
    for note in plan.notes:
        typer.echo(f"routelens: note: {note}", err=True)
    try:
        opened = open_configured_store(store_option, config, access="create")
    except BaseException:
        _close_router(plan.router)
        raise
    with opened:
        prepared = record_new_run(opened, plan)
        return _execute_prepared(
            opened, prepared, retry_errors, otlp_endpoint, capture_content, junit
        )


def _close_router(router: object) -> None:
    import asyncio

    from routelens.routers.base import Router

    if isinstance(router, Router):
        asyncio.run(router.aclose())


def _execute_prepared(
    store: Store,
    prepared: PreparedRun,
    retry_errors: bool,
    otlp_endpoint: str | None,
    capture_content: bool | None,
    junit: Path | None,
) -> FinishedRun:
    from rich.console import Console

    from routelens.report.junit import write_junit_xml
    from routelens.report.progress import RunProgress
    from routelens.runner.engine import ObserverGroup
    from routelens.runner.execution import execute_prepared, pending_work
    from routelens.runner.shards import own_attempts
    from routelens.telemetry.session import run_telemetry

    run_record = prepared.run
    pending = len(pending_work(store, prepared, retry_errors=retry_errors))
    sequence = sum(1 for r in store.list_runs() if r.suite_name == run_record.suite_name)
    with (
        run_telemetry(
            run_record,
            prepared.skills,
            otlp_endpoint=otlp_endpoint,
            capture_content=capture_content,
            planned_attempts=pending,
            run_sequence=sequence,
        ) as telemetry,
        RunProgress(pending, Console(stderr=True)) as progress,
    ):
        outcome = execute_prepared(
            store, prepared, retry_errors=retry_errors, observer=ObserverGroup(progress, telemetry)
        )
        if telemetry is not None:
            telemetry.finish(outcome.run.status)
    attempts = store.attempts(run_record.run_id)
    case_rows = store.run_cases(run_record.run_id)
    if junit is not None:
        own = own_attempts(attempts, prepared.distribution.shard)
        write_junit_xml(junit, outcome.run, own, case_rows)
    return FinishedRun(outcome, attempts, case_rows)


def _report(
    finished: FinishedRun,
    config: RoutelensConfig,
    *,
    as_json: bool,
    min_accuracy: float | None,
    max_error_rate: float | None,
    resume_command: str,
    quiet: bool,
) -> None:
    import json
    import signal

    from routelens.commands.common import stdout_console
    from routelens.report.console import render_run_summary
    from routelens.report.run_json import build_run_report
    from routelens.runner.gate import evaluate_gate
    from routelens.store.records import RunStatus

    outcome = finished.outcome
    if outcome.pending_shards:
        _report_shard_done(outcome, as_json=as_json)
        return
    report = build_run_report(outcome.run, finished.attempts, finished.case_rows)
    summary = report.summary
    gate = evaluate_gate(
        summary,
        min_accuracy=min_accuracy if min_accuracy is not None else config.min_accuracy,
        max_error_rate=max_error_rate if max_error_rate is not None else config.max_error_rate,
        missing_attempts=finished.missing_attempts,
    )
    if as_json:
        typer.echo(json.dumps(report.as_dict(slo=config.slo, gate=gate)))
    else:
        console = stdout_console()
        render_run_summary(
            console,
            outcome.run,
            summary,
            slo=config.slo,
            max_error_rate=gate.max_error_rate,
            failures=() if quiet else report.failures,
        )
        for reason in gate.reasons:
            console.print(f"[red]Gate failed:[/] {reason}")
    resume = resume_command
    if outcome.run.status is RunStatus.STOPPED_BY_BUDGET:
        typer.echo(
            "routelens: stopped by budget (--max-cost); continue with: "
            f"{resume} --max-cost <higher>",
            err=True,
        )
        raise typer.Exit(EXIT_STOPPED_BY_BUDGET)
    if outcome.interrupted:
        if outcome.interrupted_by is signal.SIGALRM:
            typer.echo("routelens: stopped waiting for the workers (--max-wait)", err=True)
        typer.echo(f"routelens: interrupted; continue with: {resume}", err=True)
        # 128 + the signal number, as shells report a process stopped by that signal
        signal_number = int(outcome.interrupted_by or signal.SIGINT)
        raise typer.Exit(exit_code_for_signal(signal_number))
    if not gate.passed:
        raise typer.Exit(EXIT_GATE_FAILED)


def _report_shard_done(outcome: RunOutcome, *, as_json: bool) -> None:
    """A shard that is not the last: what it did, and who gates the run."""
    import json

    run_id, pending = outcome.run.run_id, list(outcome.pending_shards)
    if as_json:
        report = {"run_id": run_id, "attempts_made": outcome.attempts_made}
        typer.echo(json.dumps({**report, "status": "waiting", "pending_shards": pending}))
        return
    waiting = ", ".join(str(index) for index in pending)
    typer.echo(
        f"routelens: this shard of run {run_id} is done ({outcome.attempts_made} attempts); "
        f"waiting for shard(s) {waiting}: the last to finish (or `routelens run --finish "
        f"{run_id}`) prints the summary and applies the gate",
        err=True,
    )
