"""`routelens migrate`: bring a store written by an older routelens to the current schema."""

from __future__ import annotations

import typer

from routelens.commands.common import ConfigOption, StoreOption


def migrate(store: StoreOption = None, config_path: ConfigOption = None) -> None:
    """Bring an existing store to the schema this routelens writes.

    Read-only commands (runs, show, the analytics, the exporter, serve) never migrate a store:
    they ask for this command instead."""
    from routelens.commands.common import open_configured_store
    from routelens.config import load_config
    from routelens.store.migrations import LATEST_VERSION

    with open_configured_store(store, load_config(config_path), access="write") as opened:
        shown = opened.display_url
    typer.echo(f"{shown}: schema version {LATEST_VERSION}")
