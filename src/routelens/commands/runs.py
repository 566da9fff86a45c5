"""`routelens runs`: list recorded runs with filters; delete or prune old ones."""

from __future__ import annotations

from typing import Annotated

import typer

from routelens.commands.common import (
    ConfigOption,
    JsonOption,
    LabelOption,
    StoreOption,
    command_group,
    parse_labels,
)

app = command_group("runs", "List recorded runs, newest first; delete or prune them.")
app.info.no_args_is_help = False
app.info.invoke_without_command = True

STATUSES = "running, completed, interrupted, failed, stopped-by-budget"


@app.callback()
def runs(
    ctx: typer.Context,
    store: StoreOption = None,
    limit: Annotated[int, typer.Option(min=1, help="Newest N runs.")] = 20,
    label: LabelOption = None,
    status: Annotated[
        str | None, typer.Option(help=f"Only runs in this state: {STATUSES}.")
    ] = None,
    router: Annotated[str | None, typer.Option(help="Only runs through this router.")] = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """List recorded runs, newest first, with their accuracy; `runs delete` and `runs prune`
    remove runs with their attempts."""
    if ctx.invoked_subcommand is not None:
        return
    import json

    from routelens.commands.common import open_configured_store, stdout_console
    from routelens.config import load_config
    from routelens.report.console import render_runs_table
    from routelens.report.run_json import run_report_dict
    from routelens.store.records import RunStatus
    from routelens.store.run_lookup import RunQuery, list_runs
    from routelens.store.run_summary import run_summaries

    if status is not None and status not in {s.value for s in RunStatus}:
        raise typer.BadParameter(f"{status!r} is not one of: {STATUSES}", param_hint="--status")
    config = load_config(config_path)
    query = RunQuery(labels=parse_labels(label or []), status=status, router=router, limit=limit)
    with open_configured_store(store, config) as opened:
        records = list_runs(opened, query)
        summaries = run_summaries(opened.engine, [r.run_id for r in records])
    if as_json:
        rows = [run_report_dict(r, summaries[r.run_id], slo=config.slo) for r in records]
        typer.echo(json.dumps({"runs": rows}))
        return
    render_runs_table(stdout_console(), records, summaries)


@app.command("delete")
def delete(
    run_ids: Annotated[
        list[str], typer.Argument(help="Runs to delete: ids, unique prefixes, or 'latest'.")
    ],
    store: StoreOption = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Delete runs with their skills, cases and attempts."""
    from routelens.commands.common import open_configured_store
    from routelens.config import load_config
    from routelens.store.run_lookup import delete_runs, find_run

    with open_configured_store(store, load_config(config_path), access="write") as opened:
        ids = [find_run(opened, reference).run_id for reference in run_ids]
        deleted = delete_runs(opened, ids)
    _print_deleted(ids, deleted.runs, deleted.attempts, as_json)


@app.command("prune")
def prune(
    older_than: Annotated[
        str, typer.Option(help="Delete runs that started longer ago than this, e.g. 90d, 12h.")
    ],
    label: LabelOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be deleted; delete nothing.")
    ] = False,
    store: StoreOption = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Delete runs (and their attempts) that started before a cut-off."""
    from datetime import UTC, datetime

    from routelens.analytics.window import parse_window
    from routelens.commands.common import open_configured_store
    from routelens.config import load_config
    from routelens.store.run_lookup import RunQuery, delete_runs, list_runs

    cutoff = datetime.now(UTC) - parse_window(older_than, field="older-than")
    config = load_config(config_path)
    with open_configured_store(store, config, access="read" if dry_run else "write") as opened:
        query = RunQuery(labels=parse_labels(label or []), started_before=cutoff)
        ids = [run.run_id for run in list_runs(opened, query)]
        if dry_run:
            _print_deleted(ids, 0, 0, as_json, dry_run=True)
            return
        deleted = delete_runs(opened, ids)
    _print_deleted(ids, deleted.runs, deleted.attempts, as_json)


def _print_deleted(
    ids: list[str], runs: int, attempts: int, as_json: bool, *, dry_run: bool = False
) -> None:
    import json

    if as_json:
        key = "would_delete" if dry_run else "deleted"
        typer.echo(json.dumps({key: ids, "runs": runs, "attempts": attempts}))
        return
    if dry_run:
        for run_id in ids:
            typer.echo(f"would delete {run_id}")
        typer.echo(f"{len(ids)} runs would be deleted (--dry-run: nothing was)")
        return
    typer.echo(f"deleted {runs} runs and {attempts} attempts")
