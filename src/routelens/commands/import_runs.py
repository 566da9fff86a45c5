"""`routelens import`: merge run bundles (JSONL from `routelens export`) into a store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from routelens.commands.common import ConfigOption, StoreOption

CONFLICTS_SHOWN = 20
"""Conflicts listed one by one; beyond this many, only their count."""


def import_runs(
    files: Annotated[list[Path], typer.Argument(help="JSONL files from `routelens export`.")],
    store: StoreOption = None,
    config_path: ConfigOption = None,
) -> None:
    """Merge exported runs into the store (CI shards, history from elsewhere).

    Idempotent: what the store holds stays as it is. An attempt offered again with another
    verdict is reported as a conflict (the store's verdict is kept).
    """
    from routelens.commands.common import open_configured_store
    from routelens.config import load_config
    from routelens.store.jsonl import import_jsonl

    with open_configured_store(store, load_config(config_path), access="create") as opened:
        for path in files:
            result = import_jsonl(opened, path)
            line = (
                f"{path}: {result.runs_created} runs created, {result.attempts_added} "
                f"attempts added, {result.attempts_skipped} already present"
            )
            if result.conflicts:
                line += f", {len(result.conflicts)} conflicting (the store's verdict is kept)"
            typer.echo(line)
            for conflict in result.conflicts[:CONFLICTS_SHOWN]:
                typer.echo(
                    f"  conflict: run {conflict.run_id}, case {conflict.case_id}, repeat "
                    f"{conflict.repeat_index}: stored {conflict.stored_verdict}, offered "
                    f"{conflict.offered_verdict}"
                )
            if len(result.conflicts) > CONFLICTS_SHOWN:
                typer.echo(f"  ... and {len(result.conflicts) - CONFLICTS_SHOWN} more conflicts")
