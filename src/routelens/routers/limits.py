"""Rate-limit awareness shared by all workers of one (router, model), or of many processes.

`parse_rate_limit_headers` reads what the API says about its limits (Anthropic's
`anthropic-ratelimit-*`, OpenAI's `x-ratelimit-*`, and `retry-after`). `AdaptiveLimiter`
turns that into behaviour: starts paced at the refill rate of whichever budget (requests or
input tokens) runs low, booked on a `RateSchedule` (this process's, or one in Redis shared
by every process on the key); an empty budget pauses everyone for one refill step; a refusal
that leaves budget (a cap on requests in flight) or an overload lowers concurrency to the
level that was refused and probes above it ever more rarely.
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

from routelens.routers.rate_schedule import LocalRateSchedule, RateSchedule

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
    # input tokens the answered request counted against the token budget (from its usage)
    input_tokens_used: int | None = None

    @property
    def budget_exhausted(self) -> bool:
        """The headers say no request or no input token is left."""
        return self.requests_remaining == 0 or self.tokens_remaining == 0

    @property
    def tells_budget(self) -> bool:
        """The headers say how much of some budget is left."""
        return self.requests_remaining is not None or self.tokens_remaining is not None


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
            # input tokens are what a routing request spends (its answer is a few tokens);
            # the combined `tokens-*` family is the fallback for older answers
            tokens_limit=_int(
                lowered.get(prefix + "input-tokens-limit") or lowered.get(prefix + "tokens-limit")
            ),
            tokens_remaining=_int(
                lowered.get(prefix + "input-tokens-remaining")
                or lowered.get(prefix + "tokens-remaining")
            ),
            tokens_reset_s=_seconds_until(
                lowered.get(prefix + "input-tokens-reset") or lowered.get(prefix + "tokens-reset"),
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
    # pace requests once fewer than this share of a budget remains
    low_budget_share: float = 0.1
    # after a decrease, ignore further throttles for this long (they describe the old level)
    decrease_cooldown_s: float = 1.0
    # a refused level is probed again after 1, 2, 4, ... windows of clean answers, at most this
    max_probe_windows: int = 64


SECONDS_PER_MINUTE = 60.0
# with fewer than this many requests (or requests' worth of tokens) left, pace a little
# slower than the refill rate, so the bucket never runs dry between two answers
CUSHION_REQUESTS = 3
CUSHION_RATE_SHARE = 0.9
# weight of the newest answer in the running mean of input tokens per request
TOKENS_MEAN_WEIGHT = 0.5


@dataclass(frozen=True)
class Pacing:
    """What one answer implies: seconds between starts, and an empty budget's pause."""

    interval_s: float
    pause_s: float = 0.0


def _budget_interval(
    limit: int | None,
    remaining: int | None,
    cost: float,
    *,
    concurrency: int,
    low_budget_share: float,
) -> tuple[float, float] | None:
    """(interval, pause) for one budget of `limit` units a minute, each request costing `cost`."""
    if limit is None or remaining is None or limit <= 0 or cost <= 0:
        return None
    interval = cost * SECONDS_PER_MINUTE / limit  # both APIs' limits are per minute
    requests_left = remaining / cost
    if requests_left < 1:
        return interval / CUSHION_RATE_SHARE, interval  # the next request needs one refill step
    if requests_left < CUSHION_REQUESTS:
        return interval / CUSHION_RATE_SHARE, 0.0
    if remaining < max(low_budget_share * limit, concurrency * cost):
        # little left: send at the rate the budget refills instead of bursting into a 429
        return interval, 0.0
    return 0.0, 0.0


def pacing_for(
    snapshot: RateLimitSnapshot,
    *,
    concurrency: int,
    input_tokens_per_request: float | None,
    low_budget_share: float,
) -> Pacing | None:
    """The pacing the answer's budgets call for; None when it said nothing about them.

    Requests cost one unit of the request budget and `input_tokens_per_request` (a running
    mean of what answers used) of the input-token budget; the slower budget sets the pace.
    """
    budgets = [
        _budget_interval(
            snapshot.requests_limit,
            snapshot.requests_remaining,
            1.0,
            concurrency=concurrency,
            low_budget_share=low_budget_share,
        ),
        _budget_interval(
            snapshot.tokens_limit,
            snapshot.tokens_remaining,
            input_tokens_per_request or 0.0,
            concurrency=concurrency,
            low_budget_share=low_budget_share,
        ),
    ]
    known = [budget for budget in budgets if budget is not None]
    if not known:
        return None
    return Pacing(max(interval for interval, _ in known), max(pause for _, pause in known))


class AdaptiveLimiter:
    """Concurrency and pacing for one (router, model), shared by every worker of a run.

    The first request goes alone (and, while answers say the budget is empty, the next
    ones), so that the budget headers and the cost of a request set the pace before the
    others start. Pass a shared `schedule` (see `shared_limits.py`) to pace many
    processes on one API key together; concurrency stays each process's own.

    >>> limiter = AdaptiveLimiter(LimiterSettings(max_concurrency=8))
    >>> # async with limiter.slot(): ... call the API ...; then await limiter.on_success(snapshot)
    """

    def __init__(
        self,
        settings: LimiterSettings | None = None,
        *,
        schedule: RateSchedule | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings or LimiterSettings()
        self.schedule: RateSchedule = schedule or LocalRateSchedule(clock=clock)
        self.clock = clock
        self.limit = self.settings.max_concurrency
        self.in_flight = 0
        self.throttles = 0
        self.ceiling: int | None = None  # the concurrency the API last refused
        self.input_tokens_per_request: float | None = None
        self._probe_windows = 1
        self._clean_answers = 0
        self._answered = False
        self._last_decrease = float("-inf")
        self._changed = asyncio.Condition()
        self._next_in_line = asyncio.Lock()

    @property
    def allowed_in_flight(self) -> int:
        """Requests that may be in flight now: `limit`, but one until the first answer that
        is not an empty budget's refusal (so an empty budget is probed by one request)."""
        return self.limit if self._answered else 1

    async def _take_slot(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_flight < self.allowed_in_flight)
            self.in_flight += 1

    async def _release(self) -> None:
        async with self._changed:
            self.in_flight -= 1
            self._changed.notify_all()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the allowed concurrent requests, then wait for the schedule's turn."""
        await self._take_slot()
        try:
            async with self._next_in_line:  # one waiter asks the schedule; the rest queue
                while (wait := await self.schedule.try_start()) > 0:
                    await asyncio.sleep(wait)
            yield
        finally:
            await self._release()

    async def _answered_once(self) -> None:
        if not self._answered:
            self._answered = True
            async with self._changed:
                self._changed.notify_all()

    async def on_success(self, snapshot: RateLimitSnapshot) -> None:
        """A clean answer: grow concurrency back step by step; pace by what the budgets say."""
        await self._answered_once()
        self._clean_answers += 1
        probing = self.ceiling is not None and self.limit + 1 >= self.ceiling
        window = self.limit * (self._probe_windows if probing else 1)
        if self._clean_answers >= window and self.limit < self.settings.max_concurrency:
            if self.ceiling is not None and self.limit >= self.ceiling:
                self.ceiling, self._probe_windows = None, 1  # the refused level held: forget it
            self.limit += 1
            self._clean_answers = 0
        if snapshot.input_tokens_used is not None:
            self._note_input_tokens(snapshot.input_tokens_used)
        await self._apply_budget(snapshot)

    def _note_input_tokens(self, tokens: int) -> None:
        mean = self.input_tokens_per_request
        self.input_tokens_per_request = (
            float(tokens) if mean is None else mean + TOKENS_MEAN_WEIGHT * (tokens - mean)
        )

    async def on_failure(self) -> None:
        """Any other failed call: the first answer has come, even if it was not a good one."""
        await self._answered_once()

    async def on_throttled(self, snapshot: RateLimitSnapshot, *, overloaded: bool = False) -> None:
        """A 429 or 529.

        An empty budget (or a 429 that says nothing about budgets) pauses every worker until
        `retry-after`, else one refill step, and paces. A refusal that leaves budget (too
        many requests in flight) or an overload lowers concurrency instead: to the level
        that was refused, and that level is probed again only after ever longer clean runs.
        """
        self.throttles += 1
        self._clean_answers = 0
        if snapshot.tells_budget and not overloaded and snapshot.budget_exhausted:
            # still one request at a time until an answer tells what a request costs
            await self._apply_budget(snapshot)
            return
        await self._answered_once()
        if snapshot.tells_budget and not overloaded:
            self._lower_concurrency(refused_level=self.in_flight + 1)
            return
        self._lower_concurrency(refused_level=None)
        if snapshot.retry_after_s:
            await self.schedule.pause(snapshot.retry_after_s)

    def _lower_concurrency(self, refused_level: int | None) -> None:
        now = self.clock()
        if now - self._last_decrease < self.settings.decrease_cooldown_s:
            return  # one burst of refusals describes one level
        self._last_decrease = now
        if refused_level is None:  # nothing says which level was too many: halve
            target = self.limit // 2
        else:
            target = min(self.limit, refused_level) - 1
            if self.ceiling is not None and refused_level >= self.ceiling:  # a failed probe
                self._probe_windows = min(self._probe_windows * 2, self.settings.max_probe_windows)
            self.ceiling = refused_level
        self.limit = max(self.settings.min_concurrency, target)

    async def _apply_budget(self, snapshot: RateLimitSnapshot) -> None:
        pacing = pacing_for(
            snapshot,
            concurrency=self.limit,
            input_tokens_per_request=self.input_tokens_per_request,
            low_budget_share=self.settings.low_budget_share,
        )
        if pacing is None:
            return
        await self.schedule.set_interval(pacing.interval_s)
        if pacing.pause_s:
            await self.schedule.pause(pacing.pause_s)
