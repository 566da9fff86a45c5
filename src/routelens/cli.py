"""The `routelens` command: thin commands that parse flags, call one function, and print."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from routelens.analytics.summary import summarize_attempts
from routelens.commands.changes import changes_app
from routelens.commands.claude_prompt import bundled_collision_warnings, claude_prompt_app
from routelens.commands.common import (
    ConfigOption,
    JsonOption,
    StoreOption,
    command_group,
    parse_labels,
    parse_router_options,
    reports_input_errors,
)
from routelens.commands.common import (
    open_configured_store as _open,
)
from routelens.commands.compare import compare_command
from routelens.commands.confidence import confidence_command
from routelens.commands.confusion import confusion_command
from routelens.commands.cost import cost_command
from routelens.commands.experiment import experiment_app
from routelens.commands.exporter import exporter_command
from routelens.commands.flaky import flaky_command
from routelens.commands.power import power_command
from routelens.commands.publish import publish_app
from routelens.commands.trend import trend_command
from routelens.config import RoutelensConfig, load_config
from routelens.errors import InputError
from routelens.report.console import render_run_summary, render_runs_table
from routelens.report.junit import write_junit_xml
from routelens.report.progress import RunProgress
from routelens.report.run_json import run_report_dict
from routelens.runner.engine import ObserverGroup, plan_work
from routelens.runner.gate import evaluate_gate
from routelens.runner.launch import RunFlags, prepare_new_run, prepare_resumed_run
from routelens.runner.session import execute_run
from routelens.store import (
    RunStatus,
    export_run_jsonl,
    import_jsonl,
)
from routelens.suite.cases import load_case_suite
from routelens.suite.skills import load_skill_set
from routelens.telemetry.session import run_telemetry

EXIT_GATE_FAILED = 1
EXIT_STOPPED_BY_BUDGET = 3
EXIT_INTERRUPTED = 130

app = command_group("routelens", "Measure, explain and watch how Claude Code skills are routed.")


def _stdout() -> Console:
    return Console(highlight=False, soft_wrap=False)


@app.command()
@reports_input_errors
def run(
    skills: Annotated[Path | None, typer.Option(help="Folder holding the SKILL.md files.")] = None,
    cases: Annotated[
        Path | None, typer.Option(help="Case file (YAML golden set or trigger eval JSON).")
    ] = None,
    router: Annotated[str | None, typer.Option(help="local, or package.module:factory.")] = None,
    model: Annotated[str | None, typer.Option(help="Model the router uses.")] = None,
    repeat: Annotated[int | None, typer.Option(min=1, help="Attempts per case.")] = None,
    concurrency: Annotated[int | None, typer.Option(min=1, help="Attempts in flight.")] = None,
    timeout: Annotated[float | None, typer.Option(help="Seconds one attempt may take.")] = None,
    store: StoreOption = None,
    label: Annotated[list[str] | None, typer.Option(help="key=value, repeatable.")] = None,
    environment: Annotated[str | None, typer.Option(help="Environment label, e.g. ci.")] = None,
    router_option: Annotated[
        list[str] | None, typer.Option(help="key=value passed to the router, repeatable.")
    ] = None,
    trigger_skill: Annotated[
        str | None, typer.Option(help="Skill a trigger eval set tests.")
    ] = None,
    min_accuracy: Annotated[
        float | None, typer.Option(min=0, max=1, help="Gate: exit 1 below this accuracy.")
    ] = None,
    max_error_rate: Annotated[
        float | None, typer.Option(min=0, max=1, help="Gate: exit 1 above this error rate.")
    ] = None,
    max_retries: Annotated[
        int | None, typer.Option(min=0, help="API routers: retries per attempt (default 4).")
    ] = None,
    max_cost: Annotated[
        float | None,
        typer.Option(
            min=0, help="Stop scheduling before the run's cost passes this many USD (resumable)."
        ),
    ] = None,
    resume: Annotated[str | None, typer.Option(help="Run only what RUN_ID is missing.")] = None,
    retry_errors: Annotated[bool, typer.Option(help="With --resume: redo error attempts.")] = False,
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML here.")] = None,
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
        ),
    ] = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Run a routing suite and print the summary; exit 1 when the gate fails."""
    config = load_config(config_path)
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
        router_options={
            **parse_router_options(router_option or []),
            **({} if max_retries is None else {"max_retries": max_retries}),
        },
        trigger_skill=trigger_skill,
    )
    with _open(store, config) as opened:
        if resume is not None:
            prepared = prepare_resumed_run(opened, config, resume, flags)
        else:
            prepared = prepare_new_run(opened, config, flags)
        run_record, skill_set, case_list = prepared.run, prepared.skills, prepared.cases
        settings, active_router = prepared.settings, prepared.router
        pending = len(plan_work(case_list, settings.repeat, opened.attempt_keys(run_record.run_id)))
        sequence = sum(1 for r in opened.list_runs() if r.suite_name == run_record.suite_name)
        with (
            run_telemetry(
                run_record,
                skill_set,
                otlp_endpoint=otlp_endpoint,
                capture_content=capture_content,
                planned_attempts=pending,
                run_sequence=sequence,
            ) as telemetry,
            RunProgress(pending, Console(stderr=True)) as progress,
        ):
            outcome = execute_run(
                opened,
                run_record,
                skill_set,
                case_list,
                active_router,
                settings,
                retry_errors=retry_errors,
                observer=ObserverGroup(progress, telemetry),
            )
            if telemetry is not None:
                telemetry.finish(outcome.run.status)
        attempts = opened.attempts(run_record.run_id)
        if junit is not None:
            write_junit_xml(junit, outcome.run, attempts)
    summary = summarize_attempts(attempts)
    gate = evaluate_gate(
        summary,
        min_accuracy=min_accuracy if min_accuracy is not None else config.min_accuracy,
        max_error_rate=max_error_rate if max_error_rate is not None else config.max_error_rate,
    )
    if as_json:
        typer.echo(json.dumps(run_report_dict(outcome.run, summary, slo=config.slo, gate=gate)))
    else:
        console = _stdout()
        render_run_summary(console, outcome.run, summary, slo=config.slo)
        for reason in gate.reasons:
            console.print(f"[red]Gate failed:[/] {reason}")
    if outcome.run.status is RunStatus.STOPPED_BY_BUDGET:
        typer.echo(
            f"routelens: stopped by budget (--max-cost); continue with: routelens run --resume "
            f"{outcome.run.run_id} --max-cost <higher>",
            err=True,
        )
        raise typer.Exit(EXIT_STOPPED_BY_BUDGET)
    if outcome.interrupted:
        typer.echo(
            f"routelens: interrupted; continue with: routelens run --resume {outcome.run.run_id}",
            err=True,
        )
        raise typer.Exit(EXIT_INTERRUPTED)
    if not gate.passed:
        raise typer.Exit(EXIT_GATE_FAILED)


@app.command()
@reports_input_errors
def validate(
    skills: Annotated[Path, typer.Option(help="Folder holding the SKILL.md files.")],
    cases: Annotated[Path | None, typer.Option(help="Case file to check against them.")] = None,
    trigger_skill: Annotated[
        str | None, typer.Option(help="Skill a trigger eval set tests.")
    ] = None,
    store: StoreOption = None,
    config_path: ConfigOption = None,
) -> None:
    """Check the skills (and cases) without running anything; exit 2 on the first problem.

    Warns when a skill has the name of a skill Claude Code bundles (as captured into the store
    by `routelens claude-prompt capture`).
    """
    skill_set = load_skill_set(skills)
    for warning in bundled_collision_warnings(skill_set, store, load_config(config_path)):
        typer.echo(f"routelens: warning: {warning}", err=True)
    message = f"ok: {len(skill_set.skills)} skills (hash {skill_set.skills_hash[:12]})"
    if cases is not None:
        suite = load_case_suite(cases, skill_set, trigger_skill=trigger_skill)
        message += f", {len(suite.cases)} cases (hash {suite.suite_hash[:12]})"
    typer.echo(message)


@app.command("skills")
@reports_input_errors
def list_skills(
    skills: Annotated[Path, typer.Option(help="Folder holding the SKILL.md files.")],
    as_json: JsonOption = False,
) -> None:
    """List the skills a folder holds, with the names they answer to and their hashes."""
    skill_set = load_skill_set(skills)
    rows = [
        {
            "name": skill.name,
            "folder": skill.folder_name,
            "content_hash": skill.content_hash,
            "path": str(skill.path),
            "description": skill.description,
        }
        for skill in skill_set.skills
    ]
    if as_json:
        typer.echo(json.dumps({"skills_hash": skill_set.skills_hash, "skills": rows}))
        return
    for row in rows:
        alias = "" if row["folder"] == row["name"] else f" (folder {row['folder']})"
        typer.echo(f"{row['name']}{alias}  {row['content_hash'][:12]}")
    typer.echo(f"skills hash {skill_set.skills_hash}")


@app.command()
@reports_input_errors
def runs(
    store: StoreOption = None,
    limit: Annotated[int, typer.Option(min=1, help="Newest N runs.")] = 20,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """List recent runs, newest first, with their accuracy."""
    with _open(store, load_config(config_path)) as opened:
        records = opened.list_runs(limit)
        summaries = {r.run_id: summarize_attempts(opened.attempts(r.run_id)) for r in records}
    if as_json:
        config = RoutelensConfig()
        typer.echo(
            json.dumps(
                {"runs": [run_report_dict(r, summaries[r.run_id], slo=config.slo) for r in records]}
            )
        )
        return
    render_runs_table(_stdout(), records, summaries)


@app.command()
@reports_input_errors
def show(
    run_id: Annotated[str, typer.Argument(help="The run to show.")],
    store: StoreOption = None,
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML here.")] = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Print the summary of one stored run."""
    config = load_config(config_path)
    with _open(store, config) as opened:
        record = opened.get_run(run_id)
        if record is None:
            raise InputError(opened.display_url, f"no run {run_id!r} in this store", field="run_id")
        attempts = opened.attempts(run_id)
    if junit is not None:
        write_junit_xml(junit, record, attempts)
    summary = summarize_attempts(attempts)
    if as_json:
        typer.echo(json.dumps(run_report_dict(record, summary, slo=config.slo)))
    else:
        render_run_summary(_stdout(), record, summary, slo=config.slo)


@app.command("export")
@reports_input_errors
def export_run(
    run_id: Annotated[str, typer.Argument(help="The run to export.")],
    out: Annotated[Path, typer.Option(help="JSONL file to write.")],
    store: StoreOption = None,
    config_path: ConfigOption = None,
) -> None:
    """Write one attempt per line (JSONL) for a run."""
    with _open(store, load_config(config_path)) as opened:
        count = export_run_jsonl(opened, run_id, out)
    typer.echo(f"exported {count} attempts of run {run_id} to {out}")


@app.command("import")
@reports_input_errors
def import_runs(
    files: Annotated[list[Path], typer.Argument(help="JSONL files from `routelens export`.")],
    store: StoreOption = None,
    config_path: ConfigOption = None,
) -> None:
    """Merge exported attempts into the store (CI shards, history from elsewhere)."""
    with _open(store, load_config(config_path)) as opened:
        for path in files:
            result = import_jsonl(opened, path)
            typer.echo(
                f"{path}: {result.runs_created} runs created, {result.attempts_added} "
                f"attempts added, {result.attempts_skipped} already present"
            )


app.command("compare")(reports_input_errors(compare_command))
app.command("power")(reports_input_errors(power_command))
app.command("confusion")(reports_input_errors(confusion_command))
app.command("trend")(reports_input_errors(trend_command))
app.command("cost")(reports_input_errors(cost_command))
app.command("flaky")(reports_input_errors(flaky_command))
app.command("confidence")(reports_input_errors(confidence_command))
app.command("exporter")(reports_input_errors(exporter_command))


app.add_typer(experiment_app, name="experiment")
app.add_typer(changes_app, name="changes")
app.add_typer(publish_app, name="publish")
app.add_typer(claude_prompt_app, name="claude-prompt")


def main() -> None:
    """Console-script entry point."""
    app(prog_name="routelens")


if __name__ == "__main__":
    main()
