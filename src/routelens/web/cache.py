"""Computed pages kept while the store is unchanged, so a busy page is read once.

The store's version is a few aggregates that change whenever something is recorded: the
highest attempt id, the runs by status, the experiments and the change events. Reading it
costs one small query. An entry is used only at the version it was computed at, and for
at most `ttl_s` seconds (windows end "now", so time moves them too).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import Engine, func, select

from routelens.store import schema

MAX_ENTRIES = 256


def store_version(engine: Engine) -> tuple[Any, ...]:
    """What changes when anything is recorded, deleted or concluded in the store."""
    attempts, runs = schema.attempts.c, schema.runs.c
    experiments, events = schema.experiments.c, schema.change_events.c
    latest = select(
        select(func.max(attempts.attempt_id)).scalar_subquery(),
        select(func.count()).select_from(schema.change_events).scalar_subquery(),
        select(func.max(events.event_id)).scalar_subquery(),
    )
    run_states = select(runs.status, func.count()).group_by(runs.status).order_by(runs.status)
    experiment_states = (
        select(experiments.status, experiments.decision, func.count())
        .group_by(experiments.status, experiments.decision)
        .order_by(experiments.status, experiments.decision)
    )
    with engine.connect() as connection:
        return (
            tuple(connection.execute(latest).one()),
            tuple(tuple(row) for row in connection.execute(run_states)),
            tuple(tuple(row) for row in connection.execute(experiment_states)),
        )


class PageCache:
    """Results by key, each valid at one store version for `ttl_s` seconds (0: no caching)."""

    def __init__(
        self,
        version: Callable[[], Hashable],
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`version()` reads the store's current version."""
        self._version = version
        self._ttl_s = ttl_s
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[Hashable, float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The entry for `key` if fresh at the current version, else `compute()`, stored."""
        if self._ttl_s <= 0:
            return compute()
        version = self._version()
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == version and now - entry[1] < self._ttl_s:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[2]
            self.misses += 1
        value = compute()
        with self._lock:
            self._entries[key] = (version, now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)
        return value
