"""Rate-limit headers and the adaptive limiter."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from routelens.routers.limits import (
    CUSHION_RATE_SHARE,
    AdaptiveLimiter,
    LimiterSettings,
    Pacing,
    RateLimitSnapshot,
    pacing_for,
    parse_duration,
    parse_rate_limit_headers,
    parse_retry_after,
)
from routelens.routers.rate_schedule import LocalRateSchedule

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
    assert snapshot.budget_exhausted


def test_anthropic_input_token_headers_win_over_the_combined_family() -> None:
    snapshot = parse_rate_limit_headers(
        {
            "anthropic-ratelimit-tokens-limit": "500000",
            "anthropic-ratelimit-tokens-remaining": "499000",
            "anthropic-ratelimit-input-tokens-limit": "200000",
            "anthropic-ratelimit-input-tokens-remaining": "150000",
        },
        NOW,
    )
    assert (snapshot.tokens_limit, snapshot.tokens_remaining) == (200000, 150000)
    assert not snapshot.budget_exhausted


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


def limiter_with_clock(max_concurrency: int) -> tuple[AdaptiveLimiter, FakeClock]:
    clock = FakeClock()
    return AdaptiveLimiter(LimiterSettings(max_concurrency=max_concurrency), clock=clock), clock


def schedule_of(limiter: AdaptiveLimiter) -> LocalRateSchedule:
    assert isinstance(limiter.schedule, LocalRateSchedule)
    return limiter.schedule


def test_an_overload_halves_concurrency_once_per_cooldown_and_clean_answers_grow_it_back() -> None:
    limiter, clock = limiter_with_clock(8)

    async def scenario() -> None:
        await limiter.on_throttled(RateLimitSnapshot(), overloaded=True)
        await limiter.on_throttled(RateLimitSnapshot(), overloaded=True)  # same burst
        assert limiter.limit == 4
        clock.now += 2
        await limiter.on_throttled(RateLimitSnapshot(), overloaded=True)
        assert limiter.limit == 2
        for _ in range(2):
            await limiter.on_success(RateLimitSnapshot())
        assert limiter.limit == 3  # one step per window of `limit` clean answers
        for _ in range(3 + 4 + 5 + 6 + 7):
            await limiter.on_success(RateLimitSnapshot())
        assert limiter.limit == 8  # and never past the maximum

    asyncio.run(scenario())


def test_a_refusal_that_leaves_budget_drops_to_the_refused_level_and_probes_it_ever_later() -> None:
    limiter, clock = limiter_with_clock(16)
    budget_left = RateLimitSnapshot(requests_limit=600, requests_remaining=15, retry_after_s=1.0)

    async def refuse_at(level: int) -> None:
        limiter.in_flight = level - 1  # the refused request has already given its slot back
        await limiter.on_throttled(budget_left)
        limiter.in_flight = 0
        clock.now += 2

    async def answers_until_growth() -> int:
        count, start = 0, limiter.limit
        while limiter.limit == start:
            await limiter.on_success(RateLimitSnapshot())
            count += 1
        return count

    async def scenario() -> list[int]:
        await refuse_at(7)  # the API takes 6 in flight
        assert (limiter.limit, limiter.ceiling) == (6, 7)
        assert schedule_of(limiter).paused_until == 0.0  # budget left: nobody else pauses
        waits = []
        for _ in range(3):
            waits.append(await answers_until_growth())  # back to 7: a probe
            await refuse_at(7)  # the probe fails
        return waits

    waits = asyncio.run(scenario())
    assert waits == [6, 12, 24]  # 1, 2, 4 windows of 6 clean answers


def test_a_429_without_budget_headers_pauses_every_worker_for_retry_after() -> None:
    limiter, _ = limiter_with_clock(4)
    asyncio.run(limiter.on_throttled(RateLimitSnapshot(retry_after_s=5.0)))
    assert schedule_of(limiter).paused_until == 105.0
    assert limiter.limit == 2


def test_an_empty_budget_waits_one_refill_step_and_keeps_concurrency() -> None:
    limiter, _ = limiter_with_clock(4)
    # 60 requests a minute, none left: one request per second refills
    empty = RateLimitSnapshot(requests_limit=60, requests_remaining=0, retry_after_s=1.0)
    asyncio.run(limiter.on_throttled(empty))
    schedule = schedule_of(limiter)
    assert schedule.paused_until == 101.0
    assert schedule.interval_s == pytest.approx(1 / CUSHION_RATE_SHARE)
    assert limiter.limit == 4  # pacing handles an empty budget; fewer workers would not help


@pytest.mark.parametrize(
    ("remaining", "interval"),
    [
        (60, 0.0),  # plenty left: no pacing
        (5, 0.6),  # under a tenth of 100: the refill rate, 60 s / 100
        (2, 0.6 / CUSHION_RATE_SHARE),  # almost dry: a little slower, to rebuild a cushion
    ],
)
def test_a_low_request_budget_paces_at_the_refill_rate(remaining: int, interval: float) -> None:
    snapshot = RateLimitSnapshot(requests_limit=100, requests_remaining=remaining)
    pacing = pacing_for(
        snapshot, concurrency=4, input_tokens_per_request=None, low_budget_share=0.1
    )
    assert pacing == Pacing(pytest.approx(interval))  # type: ignore[arg-type]


def test_the_slower_of_the_request_and_token_budgets_sets_the_pace() -> None:
    # 600 requests a minute (0.1 s each) but 200,000 input tokens a minute at 1,500 a request
    snapshot = RateLimitSnapshot(
        requests_limit=600, requests_remaining=10, tokens_limit=200_000, tokens_remaining=9_000
    )
    pacing = pacing_for(
        snapshot, concurrency=4, input_tokens_per_request=1500, low_budget_share=0.1
    )
    assert pacing is not None
    assert pacing.interval_s == pytest.approx(1500 * 60 / 200_000)
    assert (
        pacing_for(
            RateLimitSnapshot(), concurrency=4, input_tokens_per_request=1, low_budget_share=0.1
        )
        is None
    )


def test_answers_teach_the_limiter_the_input_tokens_a_request_costs() -> None:
    limiter, _ = limiter_with_clock(4)

    async def scenario() -> None:
        for used in (1500, 20, 20, 20, 20, 20):
            await limiter.on_success(RateLimitSnapshot(input_tokens_used=used))

    asyncio.run(scenario())
    assert limiter.input_tokens_per_request == pytest.approx(20, abs=50)


@pytest.mark.parametrize("lateness_s", [0.03, 0.25])
def test_the_schedule_spaces_starts_without_drift_when_waiters_wake_late(
    lateness_s: float,
) -> None:
    clock = FakeClock()
    schedule = LocalRateSchedule(clock=clock)

    async def scenario() -> list[float]:
        await schedule.set_interval(0.1)
        starts = []
        for _ in range(50):
            while (wait := await schedule.try_start()) > 0:
                clock.now += wait + lateness_s  # every wake-up is late
            starts.append(clock.now)
        return starts

    starts = asyncio.run(scenario())
    # 50 starts at 0.1 s each take 4.9 s: lateness is caught up, not added up
    assert starts[-1] - starts[0] == pytest.approx(4.9, abs=lateness_s + 0.05)


def test_an_idle_schedule_grants_no_burst() -> None:
    clock = FakeClock()
    schedule = LocalRateSchedule(clock=clock)

    async def scenario() -> list[float]:
        await schedule.set_interval(0.1)
        await schedule.try_start()
        clock.now += 10  # idle for a hundred intervals
        return [await schedule.try_start(), await schedule.try_start()]

    assert asyncio.run(scenario()) == [0.0, pytest.approx(0.1)]


def test_a_pause_holds_every_start_and_a_changed_interval_applies_at_once() -> None:
    clock = FakeClock()
    schedule = LocalRateSchedule(clock=clock)

    async def scenario() -> None:
        await schedule.set_interval(1.0)
        assert await schedule.try_start() == 0.0
        assert await schedule.try_start() == pytest.approx(1.0)
        await schedule.set_interval(0.25)  # the waiter's turn comes sooner
        assert await schedule.try_start() == pytest.approx(0.25)
        await schedule.pause(3.0)
        assert await schedule.try_start() == pytest.approx(3.0)

    asyncio.run(scenario())


def test_the_first_request_goes_alone_and_slots_never_exceed_the_current_limit() -> None:
    async def scenario() -> tuple[int, list[int]]:
        limiter = AdaptiveLimiter(LimiterSettings(max_concurrency=3))
        peak = 0
        in_flight_at_start: list[int] = []

        async def one() -> None:
            nonlocal peak
            async with limiter.slot():
                in_flight_at_start.append(limiter.in_flight)
                peak = max(peak, limiter.in_flight)
                await asyncio.sleep(0.01)
            await limiter.on_success(RateLimitSnapshot())

        await asyncio.gather(*(one() for _ in range(12)))
        assert limiter.in_flight == 0
        return peak, in_flight_at_start

    peak, in_flight_at_start = asyncio.run(scenario())
    assert peak == 3
    assert in_flight_at_start[:2] == [1, 1]  # the second waited for the first answer


def test_an_empty_budget_is_probed_one_request_at_a_time_until_an_answer_comes() -> None:
    limiter, _ = limiter_with_clock(8)
    empty = RateLimitSnapshot(tokens_limit=1000, tokens_remaining=0, retry_after_s=1.0)

    async def scenario() -> list[int]:
        allowed = [limiter.allowed_in_flight]
        await limiter.on_throttled(empty)
        allowed.append(limiter.allowed_in_flight)
        await limiter.on_success(RateLimitSnapshot(input_tokens_used=100))
        allowed.append(limiter.allowed_in_flight)
        return allowed

    assert asyncio.run(scenario()) == [1, 1, 8]
