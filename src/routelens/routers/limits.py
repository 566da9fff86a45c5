"""Rate-limit awareness shared by all workers of one (router, model).

`parse_rate_limit_headers` reads what the API says about its limits (Anthropic's
`anthropic-ratelimit-*`, OpenAI's `x-ratelimit-*`, and `retry-after`). `AdaptiveLimiter`
turns that into behaviour: concurrency that halves on 429/529 and grows back one step per
window of clean answers (AIMD), a shared pause until `retry-after`, and pacing at the
budget's refill rate when the remaining request budget runs low.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_DURATION_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


@dataclass(frozen=True)
class RateLimitSnapshot:
    """What one response said about the limits; None where it said nothing.

    Reset values are seconds from when the response arrived.
    """

    requests_limit: int | None = None
    requests_remaining: int | None = None
    requests_reset_s: float | None = None
    tokens_limit: int | None = None
    tokens_remaining: int | None = None
    tokens_reset_s: float | None = None
    retry_after_s: float | None = None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def parse_duration(text: str) -> float | None:
    """OpenAI-style durations: `1s`, `6m0s`, `20ms`, `1h2m3.5s` → seconds."""
    parts = _DURATION_PART.findall(text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        return None
    return sum(float(number) * _DURATION_SECONDS[unit] for number, unit in parts)


def _seconds_until(value: str | None, now: datetime) -> float | None:
    """An RFC 3339 time (Anthropic) or a duration (OpenAI) as seconds from `now`."""
    if value is None:
        return None
    duration = parse_duration(value)
    if duration is not None:
        return duration
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())


def parse_retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    """`retry-after-ms`, else `retry-after` as seconds or an HTTP date; None when absent."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - now).total_seconds())


def parse_rate_limit_headers(
    headers: Mapping[str, str], now: datetime | None = None
) -> RateLimitSnapshot:
    """Read Anthropic's or OpenAI's rate-limit headers (keys compared lower-case)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    moment = now or datetime.now(UTC)
    if any(key.startswith("anthropic-ratelimit-") for key in lowered):
        prefix = "anthropic-ratelimit-"
        return RateLimitSnapshot(
            requests_limit=_int(lowered.get(prefix + "requests-limit")),
            requests_remaining=_int(lowered.get(prefix + "requests-remaining")),
            requests_reset_s=_seconds_until(lowered.get(prefix + "requests-reset"), moment),
            tokens_limit=_int(
                lowered.get(prefix + "tokens-limit") or lowered.get(prefix + "input-tokens-limit")
            ),
            tokens_remaining=_int(
                lowered.get(prefix + "tokens-remaining")
                or lowered.get(prefix + "input-tokens-remaining")
            ),
            tokens_reset_s=_seconds_until(
                lowered.get(prefix + "tokens-reset") or lowered.get(prefix + "input-tokens-reset"),
                moment,
            ),
            retry_after_s=parse_retry_after(lowered, moment),
        )
    return RateLimitSnapshot(
        requests_limit=_int(lowered.get("x-ratelimit-limit-requests")),
        requests_remaining=_int(lowered.get("x-ratelimit-remaining-requests")),
        requests_reset_s=_seconds_until(lowered.get("x-ratelimit-reset-requests"), moment),
        tokens_limit=_int(lowered.get("x-ratelimit-limit-tokens")),
        tokens_remaining=_int(lowered.get("x-ratelimit-remaining-tokens")),
        tokens_reset_s=_seconds_until(lowered.get("x-ratelimit-reset-tokens"), moment),
        retry_after_s=parse_retry_after(lowered, moment),
    )


@dataclass(frozen=True)
class LimiterSettings:
    """Bounds for the adaptive limiter."""

    max_concurrency: int = 8
    min_concurrency: int = 1
    # pace requests once fewer than this share of the request budget remains
    low_budget_share: float = 0.1
    # after a decrease, ignore further throttles for this long (they describe the old level)
    decrease_cooldown_s: float = 1.0


class AdaptiveLimiter:
    """Concurrency and pacing for one (router, model), shared by every worker of a run.

    >>> limiter = AdaptiveLimiter(LimiterSettings(max_concurrency=8))
    >>> # async with limiter.slot(): ... call the API ...; then limiter.on_success(snapshot)
    """

    def __init__(
        self,
        settings: LimiterSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings or LimiterSettings()
        self.clock = clock
        self.limit = self.settings.max_concurrency
        self.in_flight = 0
        self.paused_until = 0.0
        self.next_start = 0.0
        self.pace_interval_s = 0.0
        self.throttles = 0
        self._clean_answers = 0
        self._last_decrease = float("-inf")
        self._changed = asyncio.Condition()

    def _pause_for(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    async def _wait_turn(self) -> None:
        while True:
            now = self.clock()
            wait = max(self.paused_until, self.next_start) - now
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            if self.in_flight < self.limit:
                self.in_flight += 1
                self.next_start = now + self.pace_interval_s
                return
            async with self._changed:
                await self._changed.wait()

    async def _release(self) -> None:
        self.in_flight -= 1
        async with self._changed:
            self._changed.notify_all()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the allowed concurrent requests, after any shared pause or pacing."""
        await self._wait_turn()
        try:
            yield
        finally:
            await self._release()

    def on_success(self, snapshot: RateLimitSnapshot) -> None:
        """A clean answer: grow back one step per window of clean answers; pace if budget is low."""
        self._clean_answers += 1
        if self._clean_answers >= self.limit and self.limit < self.settings.max_concurrency:
            self.limit += 1
            self._clean_answers = 0
        self._apply_budget(snapshot)

    def on_throttled(self, snapshot: RateLimitSnapshot) -> None:
        """A 429 or 529: halve concurrency (once per cooldown) and pause until retry-after."""
        self.throttles += 1
        now = self.clock()
        if now - self._last_decrease >= self.settings.decrease_cooldown_s:
            self.limit = max(self.settings.min_concurrency, self.limit // 2)
            self._last_decrease = now
        self._clean_answers = 0
        if snapshot.retry_after_s:
            self._pause_for(snapshot.retry_after_s)
        self._apply_budget(snapshot)

    def _apply_budget(self, snapshot: RateLimitSnapshot) -> None:
        interval = refill_interval_s(snapshot)
        if interval is None:
            self.pace_interval_s = 0.0
            return
        remaining, limit = snapshot.requests_remaining or 0, snapshot.requests_limit or 0
        if remaining <= 0:
            self._pause_for(interval)  # the next request is allowed one refill step from now
            self.pace_interval_s = interval
        elif remaining < max(self.settings.low_budget_share * limit, self.limit):
            # little left: send at the rate the budget refills instead of bursting into a 429
            self.pace_interval_s = interval
        else:
            self.pace_interval_s = 0.0


def refill_interval_s(snapshot: RateLimitSnapshot) -> float | None:
    """Seconds per request at the rate the request budget refills, when the headers tell.

    Both APIs report `reset` as the time until the budget is *full again* (a token bucket
    refilling continuously), so the refill rate is (limit - remaining) / reset.
    """
    remaining, limit = snapshot.requests_remaining, snapshot.requests_limit
    reset = snapshot.requests_reset_s
    if remaining is None or limit is None or reset is None or limit <= 0:
        return None
    missing = limit - remaining
    if missing <= 0 or reset <= 0:
        return None
    return reset / missing
