"""`routelens exporter`: serve the store's analytics as Prometheus metrics on `/metrics`."""

from __future__ import annotations

import logging
import threading
from typing import Annotated

import typer

from routelens.commands.common import ConfigOption, StoreOption
from routelens.config import load_config
from routelens.errors import InputError
from routelens.extras import install_hint
from routelens.publish.exporter_defaults import DEFAULT_CACHE_SECONDS, DEFAULT_HOST, DEFAULT_PORT
from routelens.store import DEFAULT_STORE_URL


def exporter_command(
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port to listen on (0: any free).")
    ] = DEFAULT_PORT,
    host: Annotated[
        str, typer.Option("--host", help="Address to bind; loopback unless you mean it.")
    ] = DEFAULT_HOST,
    cache_seconds: Annotated[
        float | None,
        typer.Option(
            "--cache-seconds",
            min=0,
            help="Serve scrapes this close together from one computation (0: never); "
            f"default: [exporter] scrape_cache_seconds, else {DEFAULT_CACHE_SECONDS:g}.",
            show_default=False,
        ),
    ] = None,
    store: StoreOption = None,
    config_path: ConfigOption = None,
) -> None:
    """Serve Prometheus metrics computed from the store at each scrape.

    On /metrics: accuracy, flaky cases, cost and budget, API health, the last run,
    experiments and SKILL.md changes. Runs until Ctrl-C."""
    # Imported here: prometheus-client is optional.
    try:
        from routelens.publish.exporter import StoreCollector, start_exporter
    except ImportError as error:
        raise InputError(
            "routelens exporter",
            f"needs prometheus-client ({error.name} is missing): {install_hint('publish')}",
        ) from None
    config = load_config(config_path)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if cache_seconds is None:
        cache_seconds = config.exporter.scrape_cache_seconds
    collector = StoreCollector(
        store or config.store or DEFAULT_STORE_URL, config, cache_seconds=cache_seconds
    )
    collector.open()  # a store that cannot be read now is logged, and served as store_up 0
    try:
        running = start_exporter(collector, host=host, port=port)
    except OSError as error:
        collector.close()
        reason = error.strerror or str(error)
        raise InputError(
            "--port", f"cannot listen on {host}:{port}: {reason}", field="port"
        ) from None
    typer.echo(f"routelens exporter: serving {running.url} from {collector.display_url}")
    typer.echo("Press Ctrl-C to stop.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        typer.echo("routelens exporter: stopped")
    finally:
        running.stop()
