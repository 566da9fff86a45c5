"""`routelens import`: merge JSONL files from `routelens export` into a store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from routelens.commands.common import ConfigOption, StoreOption


def import_runs(
    files: Annotated[list[Path], typer.Argument(help="JSONL files from `routelens export`.")],
    store: StoreOption = None,
    config_path: ConfigOption = None,
) -> None:
    """Merge exported attempts into the store (CI shards, history from elsewhere)."""
    from routelens.commands.common import open_configured_store
    from routelens.config import load_config
    from routelens.store.jsonl import import_jsonl

    with open_configured_store(store, load_config(config_path), access="create") as opened:
        for path in files:
            result = import_jsonl(opened, path)
            typer.echo(
                f"{path}: {result.runs_created} runs created, {result.attempts_added} "
                f"attempts added, {result.attempts_skipped} already present"
            )
