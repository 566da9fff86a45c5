"""`routelens import`: merge run bundles (JSONL from `routelens export`) into a store."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from routelens.commands.common import ConfigOption, StoreOption

if TYPE_CHECKING:
    from routelens.store.sqlstore import Store

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
    from routelens.commands.common import configured_store_url
    from routelens.config import load_config
    from routelens.store.jsonl import import_jsonl

    url = configured_store_url(store, load_config(config_path))
    with _created_only_if_it_works(url) as opened:
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


@contextmanager
def _created_only_if_it_works(url: str) -> Iterator[Store]:
    """The store at `url`; a SQLite store that does not exist yet is built under a temporary
    name and put in place only when every file imported, so a bad file leaves no store."""
    from routelens.store.sqlstore import open_store
    from routelens.store.urls import sqlite_file

    target = sqlite_file(url)
    if target is None or target.exists():
        with open_store(url, access="create") as opened:
            yield opened
        return
    staging = target.with_name(f".{target.name}.importing-{os.getpid()}")
    new_folders = [folder for folder in target.parents if not folder.exists()]
    try:
        with open_store(staging, access="create") as opened:
            yield opened
        staging.replace(target)
        new_folders = []
    finally:
        for leftover in staging.parent.glob(f"{staging.name}*"):
            leftover.unlink()
        for folder in new_folders:  # innermost first
            folder.rmdir()
