"""`routelens export`: write a run as JSONL."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from routelens.commands.common import ConfigOption, StoreOption


def export(
    run_id: Annotated[str, typer.Argument(help="The run: its id, a unique prefix, or 'latest'.")],
    out: Annotated[Path, typer.Option(help="Bundle file to write (folders are created).")],
    store: StoreOption = None,
    config_path: ConfigOption = None,
) -> None:
    """Write a run as a bundle: the run, its skills, cases and attempts, one JSON a line.

    `routelens import` reads it back; exporting the imported run gives the same bytes.
    """
    from routelens.commands.common import open_configured_store, output_file
    from routelens.config import load_config
    from routelens.store.jsonl import export_run_jsonl
    from routelens.store.run_lookup import find_run

    config = load_config(config_path)
    checked = output_file(out, "--out") or out
    with open_configured_store(store, config) as opened:
        record = find_run(opened, run_id)
        count = export_run_jsonl(opened, record.run_id, checked)
    typer.echo(f"exported {count} attempts of run {record.run_id} to {out}")
