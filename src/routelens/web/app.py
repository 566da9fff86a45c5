"""The web app: every page at its URL and at `/api/...`, static files, health, guards.

    app = create_app(store, config)               # a Starlette ASGI app
    server = start_server(app, "127.0.0.1", 8765)  # uvicorn in a thread (tests, `serve`)

Each page is one `Page`: a function building a plain dict (`pages/`), the template showing
it, and the Grafana dashboard it corresponds to. The dict is computed once per store
version (`cache.py`) and rendered, or returned as JSON under `/api`.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import uvicorn
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from routelens.config import RoutelensConfig
from routelens.errors import InputError
from routelens.store.sqlstore import Store
from routelens.web.cache import PageCache, store_version
from routelens.web.context import (
    PageNotFound,
    Params,
    PatternsProvider,
    SummaryProvider,
    WebContext,
)
from routelens.web.defaults import DEFAULT_CACHE_SECONDS
from routelens.web.grafana_links import grafana_url_for
from routelens.web.pages.cases import case_page
from routelens.web.pages.changes import change_page, changes_page
from routelens.web.pages.confusion import confusion_page
from routelens.web.pages.coverage import coverage_page
from routelens.web.pages.experiments import experiment_page, experiments_page
from routelens.web.pages.flaky import flaky_page
from routelens.web.pages.overview import overview_page, overview_summary
from routelens.web.pages.patterns import patterns_page
from routelens.web.pages.runs import run_page, runs_page
from routelens.web.pages.skills import skill_page
from routelens.web.pages.sre import sre_page
from routelens.web.rendering import render
from routelens.web.security import SecurityHeaders, TokenGate

STATIC_PREFIX = "/static"

PageBuilder = Callable[[WebContext, Mapping[str, str], Params], dict[str, Any]]
PageOverlay = Callable[[WebContext, Params], dict[str, Any]]


@dataclass(frozen=True)
class Page:
    """One page: its URL, its builder and template, its menu entry and Grafana dashboard."""

    name: str
    path: str
    build: PageBuilder
    title: str
    menu: str | None = None
    fresh: PageOverlay | None = None
    """Parts computed on every request, over the cached page (the executive summary, which
    changes when a model's answer arrives, not when the store does)."""

    @property
    def api_path(self) -> str:
        """`/api/...`: the same dict as JSON (`/` → `/api/overview`)."""
        return "/api/overview" if self.path == "/" else "/api" + self.path

    @property
    def template(self) -> str:
        """The template file that shows the page."""
        return f"{self.name}.html"


PAGES = (
    Page(
        "overview",
        "/",
        overview_page,
        "Overview",
        "Overview",
        fresh=overview_summary,
    ),
    Page("runs", "/runs", runs_page, "Runs", "Runs"),
    Page("run", "/runs/{run_id:path}", run_page, "Run"),
    Page("case", "/cases/{case_id:path}", case_page, "Case"),
    Page("flaky", "/flaky", flaky_page, "Flaky cases", "Flaky"),
    Page("confusion", "/confusion", confusion_page, "Confusion", "Confusion"),
    Page("coverage", "/coverage", coverage_page, "Coverage", "Coverage"),
    Page(
        "patterns",
        "/patterns",
        patterns_page,
        "Failed-input patterns",
        "Patterns",
    ),
    Page("skill", "/skills/{name:path}", skill_page, "Skill"),
    Page("changes", "/changes", changes_page, "Changes", "Changes"),
    Page("change", "/changes/{event_id}", change_page, "Change"),
    Page(
        "experiments",
        "/experiments",
        experiments_page,
        "Experiments",
        "Experiments",
    ),
    Page(
        "experiment",
        "/experiments/{name:path}",
        experiment_page,
        "Experiment",
    ),
    Page("sre", "/sre", sre_page, "SRE", "SRE"),
)
"""Every page, in menu order."""


def grafana_link(config: RoutelensConfig, page: Page) -> str | None:
    """The Grafana panel matching `page`, when `[serve] grafana_url` is set."""
    return grafana_url_for(config, page.name)


def _error_page(status: int, title: str, message: str) -> Response:
    body = render(
        "error.html",
        {"title": title, "message": message, "menu": _menu(None), "grafana": None, "data": {}},
    )
    return HTMLResponse(body, status_code=status)


def _menu(current: str | None) -> list[dict[str, Any]]:
    return [
        {"title": page.menu, "path": page.path, "current": page.name == current}
        for page in PAGES
        if page.menu is not None
    ]


def _endpoint(page: Page, context: WebContext, *, api: bool) -> Callable[[Request], Response]:
    def endpoint(request: Request) -> Response:
        params = Params(request.query_params)
        key = (page.name, tuple(sorted(request.path_params.items())), str(request.query_params))
        try:
            data = context.cached(key, lambda: page.build(context, request.path_params, params))
            if page.fresh is not None:
                data = {**data, **page.fresh(context, params)}
        except PageNotFound as missing:
            if api:
                return JSONResponse({"error": str(missing)}, status_code=404)
            return _error_page(404, "Not found", str(missing))
        except InputError as error:
            if api:
                return JSONResponse({"error": error.one_line()}, status_code=400)
            return _error_page(400, "Bad request", error.one_line())
        if api:
            return JSONResponse(data)
        body = render(
            page.template,
            {
                "title": page.title,
                "page": page.name,
                "menu": _menu(page.name),
                "grafana": grafana_link(context.config, page),
                "api": _api_url(request),
                "params": params.as_dict(),
                "data": data,
            },
        )
        return HTMLResponse(body)

    return endpoint


def _api_url(request: Request) -> str:
    path = request.url.path
    api = "/api/overview" if path == "/" else "/api" + path
    return api + (f"?{request.url.query}" if request.url.query else "")


def _health(context: WebContext) -> Callable[[Request], Response]:
    def health(request: Request) -> Response:
        try:
            with context.store.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return PlainTextResponse("store unreadable\n", status_code=503)
        return PlainTextResponse("ok\n")

    return health


def create_app(
    store: Store,
    config: RoutelensConfig,
    *,
    auth_token: str | None = None,
    cache_seconds: float = DEFAULT_CACHE_SECONDS,
    patterns: PatternsProvider | None = None,
    summary: SummaryProvider | None = None,
) -> Starlette:
    """The dashboard over `store` (opened read-only by the caller); `auth_token` guards it."""
    cache = PageCache(lambda: store_version(store.engine), cache_seconds)
    context = WebContext(store, config, cache, patterns=patterns, summary=summary)
    routes: list[BaseRoute] = [Route("/healthz", _health(context), methods=["GET"])]
    for page in PAGES:
        routes.append(Route(page.path, _endpoint(page, context, api=False), methods=["GET"]))
        routes.append(Route(page.api_path, _endpoint(page, context, api=True), methods=["GET"]))
    routes.append(Mount(STATIC_PREFIX, StaticFiles(packages=[("routelens.web", "static")])))
    middleware = [Middleware(SecurityHeaders)]
    if auth_token:
        middleware.append(Middleware(TokenGate, token=auth_token))

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error_page(404, "Not found", f"no page at {request.url.path}")

    app = Starlette(routes=routes, middleware=middleware, exception_handlers={404: not_found})
    app.state.context = context
    return app


class RunningServer:
    """A uvicorn server serving an app from a thread; `stop()` ends it."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, url: str) -> None:
        """Keep the server, its thread and the URL it answers at."""
        self.server = server
        self.thread = thread
        self.url = url

    def stop(self) -> None:
        """Ask the server to finish its requests and stop, and wait for it."""
        self.server.should_exit = True
        self.thread.join(timeout=10)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port); port 0 picks a free one. OSError if taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(128)
    except OSError:
        listener.close()
        raise
    return listener


def start_server(app: Starlette, listener: socket.socket) -> RunningServer:
    """Serve `app` on an already bound socket from a background thread."""
    config = uvicorn.Config(app, log_level=logging.WARNING, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="routelens-serve", daemon=True
    )
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.01)
    host, port = listener.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return RunningServer(server, thread, f"http://{shown}:{port}/")
