"""The Jinja2 environment: templates from the package, everything escaped, display filters.

Autoescaping is on for every template, and templates never mark text safe: whatever a user
wrote (inputs, responses, descriptions, labels, ids) reaches the page as literal text.
Undefined names are errors (StrictUndefined), so a template cannot silently show nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined

MISSING = "\N{EN DASH}"


def percent(value: float | None, digits: int = 1) -> str:
    """0.8512 → "85.1%"; None → a dash."""
    return MISSING if value is None else f"{value * 100:.{digits}f}%"


def usd(value: float | None, digits: int = 4) -> str:
    """Dollars with thousands separators; None → a dash."""
    return MISSING if value is None else f"${value:,.{digits}f}"


def number(value: float | None, digits: int = 0) -> str:
    """A count or amount with thousands separators; None → a dash."""
    return MISSING if value is None else f"{value:,.{digits}f}"


def seconds(value: float | None) -> str:
    """A duration in seconds, to the millisecond; None → a dash."""
    return MISSING if value is None else f"{value:.3f} s"


def points(delta: float | None) -> str:
    """An accuracy change as signed percentage points: 0.015 → "+1.5 pt"."""
    return MISSING if delta is None else f"{delta * 100:+.1f} pt"


def when(value: str | None) -> str:
    """An ISO 8601 time as `YYYY-MM-DD HH:MM UTC`."""
    if not value:
        return MISSING
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC")


def short(value: str | None, length: int = 8) -> str:
    """The first characters of a hash or commit."""
    return value[:length] if value else MISSING


def path_segment(value: Any) -> str:
    """A value quoted for one URL path segment (`/` included)."""
    return quote(str(value), safe="")


def query(values: Mapping[str, Any], **changes: Any) -> str:
    """`?a=1&b=2`: `values` with `changes` applied (None removes a key), or "" when empty."""
    merged = {key: value for key, value in {**values, **changes}.items() if value is not None}
    return "?" + urlencode(merged) if merged else ""


@cache
def environment() -> Environment:
    """The one template environment (templates are compiled once per process)."""
    env = Environment(
        loader=PackageLoader("routelens.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        percent=percent,
        usd=usd,
        number=number,
        seconds=seconds,
        points=points,
        when=when,
        short=short,
        path=path_segment,
    )
    env.globals["query"] = query
    return env


def render(template: str, context: Mapping[str, Any]) -> str:
    """The named template rendered with `context`."""
    return environment().get_template(template).render(context)
