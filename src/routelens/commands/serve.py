"""`routelens serve`: the web dashboard over a store, read-only."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from routelens.commands.common import ConfigOption, StoreOption
from routelens.errors import InputError
from routelens.web.defaults import (
    DEFAULT_CACHE_SECONDS,
    DEFAULT_HOST,
    DEFAULT_PORT,
    TOKEN_VARIABLE,
)


def serve_command(
    host: Annotated[
        str, typer.Option("--host", help="Address to bind; any but loopback needs a token.")
    ] = DEFAULT_HOST,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port to listen on (0: any free).")
    ] = DEFAULT_PORT,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the overview in a browser once serving.")
    ] = False,
    auth_token: Annotated[
        str | None,
        typer.Option(
            "--auth-token",
            help=f"Every request must carry it (default: ${TOKEN_VARIABLE}).",
            show_default=False,
        ),
    ] = None,
    cache_seconds: Annotated[
        float,
        typer.Option(
            "--cache-seconds",
            min=0,
            help="Reuse a computed page this long while the store is unchanged (0: never).",
        ),
    ] = DEFAULT_CACHE_SECONDS,
    store: StoreOption = None,
    config_path: ConfigOption = None,
) -> None:
    """Serve the web dashboard: overview, runs, cases, skills, changes, flaky cases and more.

    Reads the store only (it never creates, migrates or writes one). Binds 127.0.0.1 unless
    --host says otherwise; any other address needs --auth-token or $ROUTELENS_SERVE_TOKEN,
    and then every request must carry it. Runs until Ctrl-C."""
    try:
        from routelens.web.app import bind, create_app, start_server
        from routelens.web.security import is_loopback
    except ImportError as error:
        raise InputError(
            "routelens serve",
            f"needs the web extra ({error.name} is missing): pip install 'routelens[web]'",
        ) from None
    from routelens.commands.common import open_configured_store
    from routelens.config import load_config

    token = auth_token or os.environ.get(TOKEN_VARIABLE) or None
    if not is_loopback(host) and token is None:
        raise InputError(
            "--host",
            f"{host} is reachable from other machines: set --auth-token (or ${TOKEN_VARIABLE})",
            field="host",
        )
    config = load_config(config_path)
    opened = open_configured_store(store, config)
    try:
        listener = bind(host, port)
    except OSError as error:
        opened.close()
        reason = error.strerror or str(error)
        raise InputError(
            "--port", f"cannot listen on {host}:{port}: {reason}", field="port"
        ) from None
    app = create_app(
        opened,
        config,
        auth_token=token,
        cache_seconds=cache_seconds,
    )
    running = start_server(app, listener)
    typer.echo(f"routelens serve: {running.url} from {opened.display_url} (read-only)")
    if token is not None:
        typer.echo("every request needs the token: open a page once with ?token=... in a browser")
    typer.echo("Press Ctrl-C to stop.")
    if open_browser:
        import webbrowser

        webbrowser.open(running.url)
    try:
        running.thread.join()
    except KeyboardInterrupt:
        typer.echo("routelens serve: stopped")
    finally:
        running.stop()
        opened.close()
