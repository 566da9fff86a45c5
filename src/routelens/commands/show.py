"""`routelens show`: the summary of one stored run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from routelens.commands.common import ConfigOption, JsonOption, StoreOption


def show(
    run_id: Annotated[str, typer.Argument(help="The run: its id, a unique prefix, or 'latest'.")],
    store: StoreOption = None,
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML to this file.")] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Leave the failed-case list out of the summary.")
    ] = False,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Print the summary of one stored run."""
    import json

    from routelens.analytics.failures import failed_cases
    from routelens.analytics.summary import summarize_run
    from routelens.commands.common import open_configured_store, output_file, stdout_console
    from routelens.config import load_config
    from routelens.report.console import render_run_summary
    from routelens.report.junit import write_junit_xml
    from routelens.report.run_json import run_report_dict
    from routelens.store.run_lookup import find_run

    config = load_config(config_path)
    junit = output_file(junit, "--junit")
    with open_configured_store(store, config) as opened:
        record = find_run(opened, run_id)
        attempts = opened.attempts(record.run_id)
        case_rows = opened.run_cases(record.run_id)
    if junit is not None:
        write_junit_xml(junit, record, attempts, case_rows)
    summary = summarize_run(record, attempts, case_rows)
    failures = failed_cases(attempts, {row.case_id: row.definition for row in case_rows})
    if as_json:
        report = run_report_dict(record, summary, slo=config.slo)
        report["failures"] = [case.as_dict() for case in failures]
        typer.echo(json.dumps(report))
    else:
        render_run_summary(
            stdout_console(),
            record,
            summary,
            slo=config.slo,
            max_error_rate=config.max_error_rate,
            failures=() if quiet else failures,
        )
