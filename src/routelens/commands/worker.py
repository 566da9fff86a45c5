"""`routelens worker`: execute the attempts `routelens run --executor` puts on a queue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from routelens.commands.common import ConfigOption, StoreOption, positive_number


def worker(
    queue: Annotated[str, typer.Argument(help="The queue: redis://HOST[:PORT][/DB].")],
    store: StoreOption = None,
    skills: Annotated[
        Path | None,
        typer.Option(help="Skills folder to use for runs whose skills hash it matches."),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Attempts in flight (default: the config's).")
    ] = None,
    router_option: Annotated[
        list[str] | None,
        typer.Option(help="key=value for the routers built here (over the run's), repeatable."),
    ] = None,
    heartbeat_timeout: Annotated[
        float | None,
        typer.Option(
            callback=positive_number,
            help="Seconds a worker may be silent before its items go to others (default 60).",
        ),
    ] = None,
    config_path: ConfigOption = None,
) -> None:
    """Execute queued attempts (from `routelens run --executor`) until Ctrl-C.

    Start any number, on any machines, with the same queue and store. Each builds a run's
    router from the options the run recorded; API keys come from this machine's environment
    and config, never from the queue. A worker killed mid-attempt loses nothing: its items
    are delivered to another after --heartbeat-timeout (use the same value everywhere)."""
    import logging
    import signal
    import threading

    from routelens.commands.common import configured_store_url, parse_router_options
    from routelens.config import load_config
    from routelens.runner.queue_broker import DEFAULT_HEARTBEAT_TIMEOUT_S, check_executor
    from routelens.runner.queue_worker import WorkerContext, serve
    from routelens.store.sqlstore import open_store
    from routelens.store.urls import redact_url

    config = load_config(config_path)
    options = parse_router_options(router_option or [])
    check_executor(queue)
    # one line per attempt from us; only warnings from the libraries (HTTP, the queue)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("routelens").setLevel(logging.INFO)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with open_store(configured_store_url(store, config), access="create") as opened:
        context = WorkerContext(
            store=opened,
            config=config,
            concurrency=concurrency or config.concurrency,
            skills_dir=skills,
            router_options=options,
        )
        typer.echo(
            f"routelens worker: taking attempts from {redact_url(queue)} "
            f"into {opened.display_url} ({context.concurrency} at a time); Ctrl-C stops",
            err=True,
        )
        silence = heartbeat_timeout or DEFAULT_HEARTBEAT_TIMEOUT_S
        serve(queue, context, stop, heartbeat_timeout_s=silence)
    typer.echo("routelens worker: stopped", err=True)
