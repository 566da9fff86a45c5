"""Time windows (`--window 7d`) and label filters (`--label key=value`) for analytics."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from routelens.errors import InputError

_WINDOW = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_UNIT = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_window(text: str, *, field: str = "window") -> timedelta:
    """`12h`, `7d`, `4w` → a timedelta; anything else is an InputError naming `--<field>`."""
    match = _WINDOW.match(text)
    if not match or int(match.group(1)) == 0:
        raise InputError(f"--{field}", f"{text!r} is not a duration like 12h, 7d or 4w")
    return int(match.group(1)) * _UNIT[match.group(2)]


@dataclass(frozen=True)
class AttemptFilter:
    """Which attempts an analysis reads: a time window ending `now`, run labels, runs."""

    window: timedelta | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    run_ids: tuple[str, ...] = ()
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def since(self) -> datetime | None:
        """The earliest attempt start the window admits, or None for all history."""
        return None if self.window is None else self.now - self.window
