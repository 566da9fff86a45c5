"""The Prometheus exporter: every `catalogue.EXPORTED_METRICS` family, read from the store when
Prometheus scrapes, and the HTTP server that serves them on `/metrics`.

`StoreCollector` follows prometheus_client's `Collector` protocol: `collect()` computes the
families from SQL aggregates over one connection (see the `exporter_*` modules), keeps the
result for `cache_seconds` so that concurrent or repeated scrapes share one computation, and
never raises for a store it cannot read: it serves `routelens_exporter_store_up 0` and logs
one line naming the store with its password hidden.

Example::

    collector = StoreCollector("sqlite:///.routelens/routelens.sqlite", RoutelensConfig())
    running = start_exporter(collector, host="127.0.0.1", port=0)
    print(running.url)  # http://127.0.0.1:<port>/metrics
    running.stop()
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import Metric
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from routelens.config import RoutelensConfig
from routelens.errors import InputError
from routelens.publish import catalogue as c
from routelens.publish.exporter_api import api_families
from routelens.publish.exporter_cases import case_families
from routelens.publish.exporter_changes import change_families, experiment_families
from routelens.publish.exporter_cost import daily_cost_families, total_families
from routelens.publish.exporter_defaults import DEFAULT_CACHE_SECONDS, DEFAULT_HOST, DEFAULT_PORT
from routelens.publish.exporter_runs import run_families
from routelens.publish.exporter_support import Families, ScrapeContext, add_sample, new_family
from routelens.publish.exporter_windows import window_families
from routelens.store import Store, open_store
from routelens.store.sqlstore import parse_store_url
from routelens.store.urls import redact_url

logger = logging.getLogger(__name__)

FamilyBuilder = Callable[[ScrapeContext], Families]
BUILDERS: tuple[FamilyBuilder, ...] = (
    window_families,
    case_families,
    run_families,
    total_families,
    daily_cost_families,
    api_families,
    experiment_families,
    change_families,
)
"""Each fills some catalogue families; together, all of them but the exporter's own two."""


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC (the default clock)."""
    return datetime.now(UTC)


def _reason(error: BaseException) -> str:
    """One line saying why the store could not be read, with any password hidden."""
    if isinstance(error, InputError):
        text = error.one_line()
    elif isinstance(error, DBAPIError):
        text = str(error.orig).strip() or type(error.orig).__name__
    else:
        text = str(error).strip() or type(error).__name__
    return redact_url(text.splitlines()[0] if text else type(error).__name__)


class StoreCollector:
    """Computes every exported family from the store at scrape time (a prometheus_client
    `Collector`; register it with a `CollectorRegistry`)."""

    def __init__(
        self,
        store_url: str,
        config: RoutelensConfig,
        *,
        clock: Callable[[], datetime] = utc_now,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Check the URL now (InputError if it is not a store URL); open the store lazily."""
        self.display_url = parse_store_url(store_url).render_as_string(hide_password=True)
        self._store_url = store_url
        self._config = config
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._store: Store | None = None
        self._cached: list[Metric] | None = None
        self._cached_at = 0.0
        self.computations = 0
        """How many times the families were computed (not served from the cache)."""

    def describe(self) -> Iterator[Metric]:
        """The families without samples, so a registry knows the names without a scrape."""
        for spec in c.EXPORTED_METRICS:
            yield new_family(spec)

    def collect(self) -> Iterable[Metric]:
        """Every catalogue family, in catalogue order (from the cache when fresh)."""
        with self._lock:  # a scrape arriving mid-computation waits for it, then shares it
            now = self._monotonic()
            fresh = now - self._cached_at < self._cache_seconds
            if self._cached is None or not fresh:
                self._cached = self._compute()
                self._cached_at = self._monotonic()
            return list(self._cached)

    def open(self) -> bool:
        """Open the store if it is not open yet; False (and a logged warning) if it cannot be."""
        with self._lock:
            return self._open_store() is not None

    def close(self) -> None:
        """Release the store's connections; the next scrape opens it again."""
        with self._lock:
            self._close_store()

    def _open_store(self) -> Store | None:
        if self._store is None:
            try:
                self._store = open_store(self._store_url, access="read")
            except (InputError, SQLAlchemyError, OSError) as error:
                self._warn(error)
                return None
        return self._store

    def _close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def _warn(self, error: BaseException) -> None:
        logger.warning(
            "routelens exporter: cannot read the store %s: %s", self.display_url, _reason(error)
        )

    def _compute(self) -> list[Metric]:
        started = time.perf_counter()
        self.computations += 1
        families: Families = {}
        store_up = 0
        store = self._open_store()
        if store is not None:
            try:
                with store.engine.connect() as connection:
                    context = ScrapeContext(store, connection, self._clock(), self._config)
                    for build in BUILDERS:
                        families.update(build(context))
                store_up = 1
            except (InputError, SQLAlchemyError, OSError) as error:
                self._warn(error)
                self._close_store()  # reopen on the next scrape: the file or server may be back
                families = {}
        add_sample(families, c.EXPORTER_SCRAPE_DURATION, time.perf_counter() - started)
        add_sample(families, c.EXPORTER_STORE_UP, store_up)
        return [families.get(spec.name) or new_family(spec) for spec in c.EXPORTED_METRICS]


@dataclass
class RunningExporter:
    """A started exporter: where it listens, and how to stop it."""

    server: WSGIServer
    thread: threading.Thread
    collector: StoreCollector
    host: str

    @property
    def port(self) -> int:
        """The bound port (the real one when started on port 0)."""
        return int(self.server.server_port)

    @property
    def url(self) -> str:
        """The metrics URL, e.g. `http://127.0.0.1:9464/metrics`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def stop(self) -> None:
        """Stop serving, wait for the server thread, and close the store."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
        self.collector.close()


def start_exporter(
    collector: StoreCollector, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> RunningExporter:
    """Serve the collector's families over HTTP (prometheus_client's WSGI server, in a daemon
    thread, with a registry of its own); port 0 picks a free port. OSError if it cannot bind."""
    registry = CollectorRegistry()
    registry.register(collector)
    server, thread = start_http_server(port, addr=host, registry=registry)
    return RunningExporter(server=server, thread=thread, collector=collector, host=host)
