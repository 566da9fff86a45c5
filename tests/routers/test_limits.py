"""Rate-limit headers and the adaptive limiter."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from routelens.routers.limits import (
    AdaptiveLimiter,
    LimiterSettings,
    RateLimitSnapshot,
    parse_duration,
    parse_rate_limit_headers,
    parse_retry_after,
    refill_interval_s,
)

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def test_anthropic_headers_give_limits_remaining_and_seconds_to_reset() -> None:
    snapshot = parse_rate_limit_headers(
        {
            "Anthropic-RateLimit-Requests-Limit": "50",
            "anthropic-ratelimit-requests-remaining": "0",
            "anthropic-ratelimit-requests-reset": "2026-11-25T12:00:07Z",
            "anthropic-ratelimit-input-tokens-limit": "30000",
            "anthropic-ratelimit-input-tokens-remaining": "1200",
            "anthropic-ratelimit-input-tokens-reset": "2026-11-25T12:00:30+00:00",
            "retry-after": "7",
        },
        NOW,
    )
    assert snapshot == RateLimitSnapshot(50, 0, 7.0, 30000, 1200, 30.0, 7.0)


def test_openai_headers_use_durations() -> None:
    snapshot = parse_rate_limit_headers(
        {
            "x-ratelimit-limit-requests": "500",
            "x-ratelimit-remaining-requests": "499",
            "x-ratelimit-reset-requests": "120ms",
            "x-ratelimit-limit-tokens": "30000",
            "x-ratelimit-remaining-tokens": "29000",
            "x-ratelimit-reset-tokens": "6m0s",
            "retry-after-ms": "1500",
        },
        NOW,
    )
    assert snapshot == RateLimitSnapshot(500, 499, 0.12, 30000, 29000, 360.0, 1.5)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1s", 1.0),
        ("6m0s", 360.0),
        ("20ms", 0.02),
        ("1h2m3.5s", 3723.5),
        ("soon", None),
        ("", None),
    ],
)
def test_durations(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


def test_retry_after_accepts_seconds_and_http_dates_and_ignores_junk() -> None:
    assert parse_retry_after({"retry-after": "3"}, NOW) == 3.0
    assert parse_retry_after({"retry-after": "Wed, 25 Nov 2026 12:00:10 GMT"}, NOW) == 10.0
    assert parse_retry_after({"retry-after": "later"}, NOW) is None
    assert parse_retry_after({}, NOW) is None


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_throttling_halves_concurrency_once_per_cooldown_and_clean_answers_grow_it_back() -> None:
    clock = FakeClock()
    limiter = AdaptiveLimiter(LimiterSettings(max_concurrency=8), clock=clock)
    limiter.on_throttled(RateLimitSnapshot())
    limiter.on_throttled(RateLimitSnapshot())  # same burst: no second halving
    assert limiter.limit == 4
    clock.now += 2
    limiter.on_throttled(RateLimitSnapshot())
    assert limiter.limit == 2
    for _ in range(2):
        limiter.on_success(RateLimitSnapshot())
    assert limiter.limit == 3  # one step per window of `limit` clean answers
    for _ in range(3 + 4 + 5 + 6 + 7):
        limiter.on_success(RateLimitSnapshot())
    assert limiter.limit == 8  # and never past the maximum


def test_retry_after_pauses_every_worker() -> None:
    clock = FakeClock()
    limiter = AdaptiveLimiter(LimiterSettings(max_concurrency=4), clock=clock)
    limiter.on_throttled(RateLimitSnapshot(retry_after_s=5.0))
    assert limiter.paused_until == 105.0


def test_an_empty_budget_waits_one_refill_step_not_the_whole_reset() -> None:
    clock = FakeClock()
    limiter = AdaptiveLimiter(LimiterSettings(max_concurrency=4), clock=clock)
    # 60 requests a minute, none left, full again in 60 s: one request per second refills
    limiter.on_success(
        RateLimitSnapshot(requests_limit=60, requests_remaining=0, requests_reset_s=60.0)
    )
    assert limiter.paused_until == 101.0
    assert limiter.pace_interval_s == 1.0


def test_low_request_budget_paces_at_the_refill_rate() -> None:
    limiter = AdaptiveLimiter(LimiterSettings(max_concurrency=4))
    limiter.on_success(
        RateLimitSnapshot(requests_limit=100, requests_remaining=50, requests_reset_s=30)
    )
    assert limiter.pace_interval_s == 0.0  # plenty left: no pacing
    limiter.on_success(
        RateLimitSnapshot(requests_limit=100, requests_remaining=5, requests_reset_s=57)
    )
    assert limiter.pace_interval_s == pytest.approx(0.6)  # 95 to refill in 57 s


def test_refill_interval_needs_all_three_headers() -> None:
    assert refill_interval_s(RateLimitSnapshot(requests_limit=10, requests_remaining=5)) is None
    assert refill_interval_s(RateLimitSnapshot(10, 10, 5.0)) is None  # full: nothing refills
    assert refill_interval_s(RateLimitSnapshot(10, 0, 5.0)) == 0.5


def test_slots_never_exceed_the_current_limit() -> None:
    async def scenario() -> int:
        limiter = AdaptiveLimiter(LimiterSettings(max_concurrency=3))
        peak = 0

        async def one() -> None:
            nonlocal peak
            async with limiter.slot():
                peak = max(peak, limiter.in_flight)
                await asyncio.sleep(0.01)

        await asyncio.gather(*(one() for _ in range(12)))
        assert limiter.in_flight == 0
        return peak

    assert asyncio.run(scenario()) == 3
