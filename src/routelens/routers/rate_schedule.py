"""When the next API request may start: a pacing schedule that one process or many can share.

The API's budgets are token buckets refilling at their per-minute limit. A `RateSchedule`
lets requests start the way the generic cell rate algorithm does (GCRA, ITU-T I.371): each
start moves the next allowed start one `interval_s` after the previous *allowed* time, not
after the moment the request actually went out, so a waiter woken late never lowers the
long-run rate (lateness up to a few intervals is caught up). Nothing is booked ahead: a waiter
asks again when its time comes, so a pace that changes meanwhile applies at once. A pause
(an empty budget, `retry-after`) holds every start until it ends.

`LocalRateSchedule` keeps this in memory for one process (the default); the Redis one in
`shared_limits.py` keeps the same three numbers in Redis so that N processes sharing an API
key book from one schedule.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final, Protocol, runtime_checkable

# how many intervals late a waiter may be and still have its missed starts caught up
CATCH_UP_INTERVALS: Final = 3


@runtime_checkable
class RateSchedule(Protocol):
    """Start times for requests against one API budget, shared by everyone holding it."""

    async def try_start(self) -> float:
        """Start now if allowed (returns 0, and the next start moves one interval on), else
        the seconds until it may be allowed (nothing changes)."""
        ...

    async def pause(self, seconds: float) -> None:
        """No start before `seconds` from now."""
        ...

    async def set_interval(self, interval_s: float) -> None:
        """Seconds between two starts from now on (0: no pacing); the next start moves with it."""
        ...

    async def aclose(self) -> None:
        """Release connections, if any."""
        ...


class LocalRateSchedule:
    """The schedule in this process's memory (the default: no other process shares it)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.next_start = 0.0  # the theoretical arrival time of the next request
        self.paused_until = 0.0
        self.interval_s = 0.0

    async def try_start(self) -> float:
        """Start now if allowed, else the seconds to wait (see `RateSchedule.try_start`)."""
        now = self.clock()
        due = max(self.paused_until, self.next_start)
        if due > now:
            return due - now
        self.next_start = next_allowed_start(due, now, self.interval_s)
        return 0.0

    async def pause(self, seconds: float) -> None:
        """No start before `seconds` from now."""
        until = self.clock() + seconds
        self.paused_until = max(self.paused_until, until)
        self.next_start = max(self.next_start, until)

    async def set_interval(self, interval_s: float) -> None:
        """Seconds between two starts from now on; the next start moves with it."""
        self.next_start += interval_s - self.interval_s
        self.interval_s = interval_s

    async def aclose(self) -> None:
        """Nothing to release."""


def next_allowed_start(due: float, now: float, interval_s: float) -> float:
    """After a start at `now` that was allowed from `due`: when the next one is allowed.

    A waiter up to `CATCH_UP_INTERVALS` late (a busy event loop, a busy machine) is caught
    up: the next start counts from `due`, so the starts it missed go out at once, which the
    API's bucket allows since it refilled meanwhile. After a longer idle time the schedule
    starts afresh from `now`, so idleness grants no burst.
    """
    return (due if now - due <= CATCH_UP_INTERVALS * interval_s else now) + interval_s
