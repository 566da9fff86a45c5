"""Retries for API routers: exponential backoff with full jitter, honouring `retry-after`.

A router classifies each failure as retryable (429, 529, 5xx, timeouts, dropped connections)
or fatal (other 4xx). `call_with_retries` runs the call inside the shared limiter's slot,
tells the limiter what happened, waits, and records every retry; when retries run out the
attempt fails with a `RouterError` carrying the error type, status, retry count and time
waited, so the runner stores it as an `error` attempt rather than losing it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from routelens.routers.base import RetryEvent, RouterError
from routelens.routers.limits import AdaptiveLimiter, RateLimitSnapshot

T = TypeVar("T")

OVERLOADED_STATUS = 529
THROTTLE_STATUSES = frozenset({429, OVERLOADED_STATUS})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry one attempt."""

    max_retries: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0

    def backoff_s(self, retry_number: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max, base * 2^retry)] (AWS architecture blog)."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2**retry_number)
        return rng.uniform(0.0, ceiling)


class ApiFailure(Exception):
    """One failed API call, classified by the router."""

    def __init__(
        self,
        message: str,
        *,
        error_type: str,
        retryable: bool,
        http_status: int | None = None,
        snapshot: RateLimitSnapshot | None = None,
    ) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.retryable = retryable
        self.http_status = http_status
        self.snapshot = snapshot or RateLimitSnapshot()

    @property
    def throttled(self) -> bool:
        """A 429 or 529: the API asks us to slow down, not just to try again."""
        return self.http_status in THROTTLE_STATUSES


@dataclass
class CallStats:
    """What calling the API for one attempt took: retries, waits, time inside calls."""

    retries: list[RetryEvent] = field(default_factory=list)
    api_latency_s: float = 0.0
    http_status: int | None = None

    @property
    def retry_count(self) -> int:
        """How many times the call was sent again."""
        return len(self.retries)

    @property
    def retry_wait_s(self) -> float:
        """Total time spent waiting between tries."""
        return sum(retry.wait_s for retry in self.retries)


async def call_with_retries(
    call: Callable[[], Awaitable[tuple[T, RateLimitSnapshot]]],
    *,
    limiter: AdaptiveLimiter,
    policy: RetryPolicy,
    rng: random.Random | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> tuple[T, CallStats]:
    """Run `call` (which returns its result and the response's rate-limit snapshot)."""
    random_source = rng or random.Random()
    stats = CallStats()
    for retry_number in range(policy.max_retries + 1):
        started = time.perf_counter()
        try:
            async with limiter.slot():
                result, snapshot = await call()
        except ApiFailure as failure:
            stats.api_latency_s += time.perf_counter() - started
            stats.http_status = failure.http_status
            if failure.throttled:
                overloaded = failure.http_status == OVERLOADED_STATUS
                await limiter.on_throttled(failure.snapshot, overloaded=overloaded)
            else:
                await limiter.on_failure()
            if not failure.retryable or retry_number == policy.max_retries:
                raise RouterError(
                    str(failure),
                    error_type=failure.error_type,
                    http_status=failure.http_status,
                    retries=stats.retry_count,
                    retry_wait_s=stats.retry_wait_s,
                    retry_log=tuple(stats.retries),
                ) from None
            wait = failure.snapshot.retry_after_s
            if wait is None:
                wait = policy.backoff_s(retry_number, random_source)
            stats.retries.append(RetryEvent(failure.error_type, failure.http_status, wait))
            await sleep(wait)
            continue
        stats.api_latency_s += time.perf_counter() - started
        await limiter.on_success(snapshot)
        return result, stats
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover
