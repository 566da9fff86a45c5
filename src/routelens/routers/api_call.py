"""What the API routers share: retries, the rate limiter, prices, and the measured figures."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from routelens.routers.base import TokenUsage
from routelens.routers.limits import AdaptiveLimiter, LimiterSettings, RateLimitSnapshot
from routelens.routers.pricing import PriceTable, load_price_table
from routelens.routers.retry import CallStats, RetryPolicy, call_with_retries

T = TypeVar("T")


class ApiCaller:
    """One per API router (so one limiter per router and model): calls, retries, prices.

    >>> caller = ApiCaller(retry_policy=RetryPolicy(max_retries=6))
    """

    def __init__(
        self,
        *,
        retry_policy: RetryPolicy | None = None,
        limiter: AdaptiveLimiter | None = None,
        prices: PriceTable | None = None,
        seed: int | None = None,
    ) -> None:
        self.retry_policy = retry_policy or RetryPolicy()
        self.limiter = limiter or AdaptiveLimiter(LimiterSettings())
        self.prices = prices or load_price_table()
        self._rng = random.Random(seed)

    async def call(
        self, once: Callable[[], Awaitable[tuple[T, RateLimitSnapshot]]]
    ) -> tuple[T, CallStats]:
        """`once` under the limiter, retried by the policy (see `call_with_retries`)."""
        return await call_with_retries(
            once, limiter=self.limiter, policy=self.retry_policy, rng=self._rng
        )

    async def aclose(self) -> None:
        """Release what the limiter holds (a shared schedule's connection)."""
        await self.limiter.schedule.aclose()

    def measured(
        self, tokens: TokenUsage, stats: CallStats, model: str | None, response_model: str | None
    ) -> dict[str, Any]:
        """The `RouteResult` fields every API answer fills: usage, cost, latency, retries."""
        return {
            "tokens": tokens,
            "cost_usd": self.prices.cost_usd(response_model or model, tokens) or 0.0,
            "latency_s": stats.api_latency_s,
            "retries": stats.retry_count,
            "retry_wait_s": stats.retry_wait_s,
            "retry_log": tuple(stats.retries),
            "http_status": 200,
            "response_model": response_model,
        }
