"""The latest facts of a window, gathered in the background: a page never waits on the store.

Gathering a week's facts reads the store several times (about 0.7-1.2 s on a million
attempts); a page that must answer in a fraction of that reads them from here instead.
`LatestFacts.get` returns the last facts gathered for a window (None before the first) and,
when they are older than `max_age_s`, starts one background gathering for the next call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from routelens.analytics.window import AttemptFilter, parse_window
from routelens.store.sqlstore import Store
from routelens.summaries.facts import SummaryFacts
from routelens.summaries.gather import gather_facts

DEFAULT_MAX_AGE_S = 60.0

logger = logging.getLogger(__name__)

Gather = Callable[..., SummaryFacts]
_Key = tuple[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class _Gathered:
    facts: SummaryFacts
    at: float


class LatestFacts:
    """Facts per (window, labels), refreshed in the background once older than `max_age_s`.

    >>> latest = LatestFacts(store, slo=0.85, daily_budget_usd=25.0)  # doctest: +SKIP
    >>> facts = latest.get("7d")  # doctest: +SKIP
    """

    def __init__(
        self,
        store: Store,
        *,
        slo: float = 0.85,
        daily_budget_usd: float = 25.0,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        gather: Gather = gather_facts,
    ) -> None:
        self.store = store
        self.slo = slo
        self.daily_budget_usd = daily_budget_usd
        self.max_age_s = max_age_s
        self._gather = gather
        self._lock = threading.Lock()
        self._facts: dict[_Key, _Gathered] = {}
        self._running: dict[_Key, threading.Thread] = {}

    def get(
        self, window: str = "7d", labels: Mapping[str, str] | None = None
    ) -> SummaryFacts | None:
        """The last facts of this window (None until first gathered); never blocks.

        `window` is checked at once (an `InputError` for `soon`), the store is read later.
        """
        parse_window(window)
        key: _Key = (window, tuple(sorted((labels or {}).items())))
        with self._lock:
            gathered = self._facts.get(key)
            fresh = gathered is not None and time.monotonic() - gathered.at < self.max_age_s
            if not fresh and key not in self._running:
                thread = threading.Thread(
                    target=self._refresh, args=(key,), name="routelens-facts", daemon=True
                )
                self._running[key] = thread
                thread.start()
        return None if gathered is None else gathered.facts

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait for the background gatherings; False if some still run after `timeout_s`."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._lock:
            threads = list(self._running.values())
        for thread in threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in threads)

    def _refresh(self, key: _Key) -> None:
        window, labels = key
        try:
            facts = self._gather(
                self.store,
                AttemptFilter(window=parse_window(window), labels=dict(labels)),
                window=window,
                slo=self.slo,
                daily_budget_usd=self.daily_budget_usd,
            )
        except Exception:  # the page keeps the facts it had; the next get() tries again
            logger.exception("gathering the summary facts of %s failed", window)
            with self._lock:
                self._running.pop(key, None)
            return
        with self._lock:
            self._facts[key] = _Gathered(facts, time.monotonic())
            self._running.pop(key, None)
