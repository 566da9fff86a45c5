"""`routelens serve`: the web dashboard over a store, read-only."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from routelens.commands.common import ConfigOption, StoreOption
from routelens.errors import InputError
from routelens.extras import install_hint
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
    summary_router: Annotated[
        str,
        typer.Option(
            "--summary-router",
            help="Who writes the overview's executive summary: offline (a template, the "
            "default), anthropic, openai or claude-code (checked: every number must be a fact).",
            metavar="NAME",
        ),
    ] = "offline",
    summary_model: Annotated[
        str | None, typer.Option("--summary-model", help="The model that writes it.")
    ] = None,
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
            f"needs the web extra ({error.name} is missing): {install_hint('web')}",
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
    from routelens.summaries.writer import RouterChoice

    choices = {"offline": None, **{choice.value: choice for choice in RouterChoice}}
    if summary_router not in choices:
        raise InputError(
            "--summary-router", f"{summary_router!r} is not one of: {', '.join(choices)}"
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
    from routelens.web.providers import patterns_provider, summary_provider

    app = create_app(
        opened,
        config,
        auth_token=token,
        cache_seconds=cache_seconds,
        patterns=patterns_provider(),
        summary=summary_provider(
            opened,
            slo=config.slo,
            daily_budget_usd=config.daily_budget_usd,
            router=choices[summary_router],
            model=summary_model,
        ),
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
