"""Retries: which failures retry, how long they wait, what they record."""

from __future__ import annotations

import asyncio
import random

import pytest

from routelens.routers.base import RouterError
from routelens.routers.limits import AdaptiveLimiter, LimiterSettings, RateLimitSnapshot
from routelens.routers.retry import ApiFailure, RetryPolicy, call_with_retries


def _run(outcomes: list[object], policy: RetryPolicy, waits: list[float]) -> tuple[object, object]:
    remaining = list(outcomes)

    async def call() -> tuple[str, RateLimitSnapshot]:
        outcome = remaining.pop(0)
        if isinstance(outcome, ApiFailure):
            raise outcome
        return str(outcome), RateLimitSnapshot()

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    limiter = AdaptiveLimiter(LimiterSettings(max_concurrency=4, decrease_cooldown_s=0))
    result = asyncio.run(
        call_with_retries(
            call, limiter=limiter, policy=policy, rng=random.Random(1), sleep=fake_sleep
        )
    )
    return result, limiter


def throttled(retry_after: float | None = None) -> ApiFailure:
    return ApiFailure(
        "slow down",
        error_type="rate_limit_error",
        retryable=True,
        http_status=429,
        snapshot=RateLimitSnapshot(retry_after_s=retry_after),
    )


def test_retry_after_is_honoured_and_every_retry_recorded() -> None:
    waits: list[float] = []
    overloaded = ApiFailure("busy", error_type="overloaded_error", retryable=True, http_status=529)
    (result, stats), limiter = _run([throttled(2.5), overloaded, "routed"], RetryPolicy(), waits)
    assert result == "routed"
    assert waits[0] == 2.5
    assert 0.0 <= waits[1] <= 1.0  # second retry: full jitter in [0, 0.5 * 2^1]
    assert [(r.error_type, r.http_status) for r in stats.retries] == [
        ("rate_limit_error", 429),
        ("overloaded_error", 529),
    ]
    assert stats.retry_wait_s == pytest.approx(sum(waits))
    # 4 → 2 → 1 on the throttles, then one clean answer at limit 1 grows it back to 2
    assert limiter.throttles == 2
    assert limiter.limit == 2


def test_full_jitter_stays_within_the_exponential_ceiling() -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=4.0)
    rng = random.Random(7)
    for retry_number in range(8):
        for _ in range(50):
            assert 0.0 <= policy.backoff_s(retry_number, rng) <= min(4.0, 0.5 * 2**retry_number)


def test_exhausted_retries_raise_a_router_error_with_the_last_failure() -> None:
    waits: list[float] = []
    server_error = ApiFailure("boom", error_type="api_error", retryable=True, http_status=500)
    with pytest.raises(RouterError) as raised:
        _run([server_error] * 3, RetryPolicy(max_retries=2), waits)
    assert (raised.value.error_type, raised.value.http_status) == ("api_error", 500)
    assert raised.value.retries == 2
    assert len(waits) == 2


def test_fatal_failures_do_not_retry() -> None:
    waits: list[float] = []
    bad = ApiFailure("bad", error_type="invalid_request_error", retryable=False, http_status=400)
    with pytest.raises(RouterError) as raised:
        _run([bad, "never"], RetryPolicy(), waits)
    assert raised.value.retries == 0
    assert waits == []
