"""What every page function receives: the store, the config, the page cache, query values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from routelens.analytics.window import AttemptFilter, parse_window
from routelens.config import RoutelensConfig
from routelens.errors import InputError
from routelens.store.sqlstore import Store
from routelens.web.cache import PageCache

PatternsProvider = Callable[["WebContext", AttemptFilter], dict[str, Any]]
"""Failed-input pattern analysis for a window: clusters and word-cloud terms (see
`pages/patterns.py` for the dict it returns)."""
SummaryProvider = Callable[["WebContext", AttemptFilter], dict[str, Any]]
"""The executive summary for a window: text and the facts it states (`pages/overview.py`)."""


class PageNotFound(Exception):
    """The URL names something the store does not have (a run, a case, a skill)."""


@dataclass
class WebContext:
    """The store a server reads, its settings, and the optional analysis providers."""

    store: Store
    config: RoutelensConfig
    cache: PageCache
    patterns: PatternsProvider | None = None
    summary: SummaryProvider | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def window_filter(
        self, window: timedelta | None, labels: Mapping[str, str] | None = None
    ) -> AttemptFilter:
        """An attempt filter for a window ending now."""
        return AttemptFilter(window=window, labels=dict(labels or {}), now=self.clock())

    def cached(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """`compute()`, or its result from earlier while the store is unchanged."""
        return self.cache.get_or_compute(key, compute)


class Params:
    """A page's query string, read with checks: a bad value is an InputError (HTTP 400).

    >>> Params({"page": "2"}).page()
    2
    """

    def __init__(self, values: Mapping[str, str]) -> None:
        """Wrap the query values (the last value of a repeated key wins)."""
        self._values = dict(values)

    def text(self, name: str, default: str | None = None) -> str | None:
        """The value of `name` with surrounding space removed; empty is absent."""
        value = self._values.get(name, "").strip()
        return value or default

    def window(self, default: str | None) -> tuple[str | None, timedelta | None]:
        """`?window=7d` as text and duration; `all` (or no default) is the whole history."""
        text = self.text("window", default)
        if text is None or text == "all":
            return "all", None
        return text, parse_window(text)

    def page(self) -> int:
        """`?page=N`, a page number from 1."""
        return self.integer("page", 1, minimum=1)

    def integer(self, name: str, default: int, *, minimum: int = 0) -> int:
        """`?name=N`: a whole number of at least `minimum`."""
        text = self.text(name)
        if text is None:
            return default
        if not text.isdigit() or int(text) < minimum:
            raise InputError(f"?{name}", f"{text!r} is not a whole number >= {minimum}")
        return int(text)

    def choice(self, name: str, allowed: tuple[str, ...], default: str | None) -> str | None:
        """`?name=` one of `allowed`."""
        value = self.text(name, default)
        if value is not None and value not in allowed:
            raise InputError(f"?{name}", f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def as_dict(self) -> dict[str, str]:
        """The values given, for links that keep them."""
        return dict(self._values)
