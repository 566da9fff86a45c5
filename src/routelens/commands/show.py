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
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Print the summary of one stored run."""
    import json

    from routelens.commands.common import open_configured_store, stdout_console
    from routelens.config import load_config
    from routelens.report.console import render_run_summary
    from routelens.report.junit import write_junit_xml
    from routelens.report.run_json import run_report_dict
    from routelens.store.run_lookup import find_run
    from routelens.store.run_summary import run_summaries

    config = load_config(config_path)
    with open_configured_store(store, config) as opened:
        record = find_run(opened, run_id)
        summary = run_summaries(opened.engine, [record.run_id])[record.run_id]
        if junit is not None:
            write_junit_xml(junit, record, opened.attempts(record.run_id))
    if as_json:
        typer.echo(json.dumps(run_report_dict(record, summary, slo=config.slo)))
    else:
        render_run_summary(stdout_console(), record, summary, slo=config.slo)
