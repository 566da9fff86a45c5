"""API health, as the SRE reads it: what kind each retry was, shares of requests, utilisation.

Pure: the store counts (`store/api_reads.py`), these functions name and divide. A request
is one HTTP call: every attempt makes one, and each retry one more, so an attempt's
requests are `1 + retries`. A retry's kind comes from its HTTP status (429 and Anthropic's
529 "overloaded" are rate limiting; any other 5xx a server error) or, without one, from
its error type (`timeout` in the name).
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence
from typing import Final

ERROR_KIND_RATE_LIMITED: Final = "rate_limited"  # HTTP 429 (and Anthropic's 529 overloaded)
ERROR_KIND_SERVER_ERROR: Final = "server_error"  # other 5xx
ERROR_KIND_TIMEOUT: Final = "timeout"
ERROR_KIND_OTHER: Final = "other"
ERROR_KINDS: Final = (
    ERROR_KIND_RATE_LIMITED,
    ERROR_KIND_SERVER_ERROR,
    ERROR_KIND_TIMEOUT,
    ERROR_KIND_OTHER,
)
RATE_LIMITED_STATUSES: Final = frozenset({429, 529})
"""Too many requests, and Anthropic's "overloaded"."""
API_LATENCY_BUCKETS_SECONDS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
"""Upper bounds of the exporter's API latency histogram (the store keeps its counts)."""


def retry_error_kind(http_status: int | None, error_type: str | None) -> str:
    """rate_limited (429, 529), server_error (other 5xx), timeout, else other."""
    if http_status in RATE_LIMITED_STATUSES:
        return ERROR_KIND_RATE_LIMITED
    if http_status is not None and 500 <= http_status <= 599:
        return ERROR_KIND_SERVER_ERROR
    if error_type is not None and "timeout" in error_type.lower():
        return ERROR_KIND_TIMEOUT
    return ERROR_KIND_OTHER


def share(part: float, whole: float) -> float | None:
    """part ÷ whole, None when whole is 0."""
    return part / whole if whole else None


def worker_utilization(busy_s: float, workers: int | None, wall_s: float) -> float | None:
    """Busy time ÷ (workers x wall time): how much of the run's capacity attempts used.

    None when the run's worker count is unknown or it took no time.
    """
    if workers is None or workers <= 0 or wall_s <= 0:
        return None
    return busy_s / (workers * wall_s)


def percentiles_from_buckets(
    buckets: Sequence[tuple[float, float, int]], percentiles: Sequence[float]
) -> tuple[float | None, ...]:
    """numpy's linear percentiles of values known only as buckets: (smallest value,
    largest value, count) each, in order and not overlapping.

    The value at a rank inside a bucket is read as if the bucket's values were spread evenly
    from its smallest to its largest: exact when a bucket holds one distinct value, and never
    further from the true value than the bucket is wide. Then, as numpy does, the value at
    h = (n - 1) p is x[⌊h⌋] + (h - ⌊h⌋) (x[⌊h⌋ + 1] - x[⌊h⌋]). None when there are no values.
    """
    total = sum(count for _, _, count in buckets)
    if total == 0:
        return tuple(None for _ in percentiles)
    starts = list(itertools.accumulate((count for _, _, count in buckets), initial=0))

    def at_rank(rank: int) -> float:
        index = bisect.bisect_right(starts, rank) - 1
        smallest, largest, count = buckets[index]
        if count == 1:
            return smallest
        return smallest + (largest - smallest) * (rank - starts[index]) / (count - 1)

    found: list[float | None] = []
    for percentile in percentiles:
        position = (total - 1) * (percentile / 100.0)
        below = math.floor(position)
        low = at_rank(below)
        high = at_rank(below + 1) if below + 1 < total else low
        found.append(low + (position - below) * (high - low))
    return tuple(found)
