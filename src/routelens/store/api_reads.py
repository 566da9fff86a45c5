"""API health aggregates for the SRE view: requests, retries by kind, errors, latency, tokens.

Grouped by UTC day or by run over an `AttemptFilter`, from the rollups (`store/rollups.py`):
sums of the attempt rollup, retries of each attempt's JSON `retry_log` counted by HTTP
status and error type, and latency percentiles estimated from the decided attempts' log
histograms (`analytics.api_health.percentiles_from_buckets`: within `LATENCY_RELATIVE_ERROR`,
2.2%, of the exact value, exact when the values near a percentile are few or equal;
docs/web.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, Engine, func, select, true

from routelens.analytics.api_health import percentiles_from_buckets, retry_error_kind
from routelens.analytics.summary import TokenTotals
from routelens.analytics.window import AttemptFilter
from routelens.store.rollup_reads import Period, rollup_rows
from routelens.store.rollups import ATTEMPTS, LATENCIES, RETRIES
from routelens.store.sql_functions import (
    LOG_BUCKETS_PER_DOUBLING,
    day_of_hour,
    epoch_seconds,
    verdict_sums,
)

API_PERCENTILES = (50.0, 95.0, 99.0)
LATENCY_RELATIVE_ERROR = 2 ** (1 / LOG_BUCKETS_PER_DOUBLING) - 1
"""How far a latency percentile may be from the exact one, relative to it (a log bucket's
width, 2.2%): an estimate and the exact value at a rank both lie in one bucket."""
_TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


@dataclass(frozen=True)
class ApiUsage:
    """The API calls of one group of attempts (a UTC day, or a run)."""

    key: str
    attempts: int
    errors: int
    retries: int
    retry_wait_s: float
    rate_limited_errors: int
    """Attempts that ended in an error with HTTP 429 or 529."""
    server_errors: int
    """Attempts that ended in an error with another 5xx status."""
    tokens: TokenTotals
    cost_usd: float
    first_start_s: float | None = None
    last_end_s: float | None = None
    busy_s: float = 0.0
    retries_by_kind: dict[str, int] = field(default_factory=dict)
    latency_s: dict[str, float | None] = field(default_factory=dict)
    """Latency percentiles of the attempts that did not error: `p50`, `p95`, `p99`."""

    @property
    def requests(self) -> int:
        """HTTP requests made: one per attempt, one more per retry."""
        return self.attempts + self.retries


Grouping = Literal["day", "run"]


def usage_by_day(engine: Engine, attempt_filter: AttemptFilter) -> list[ApiUsage]:
    """API usage per UTC day of the attempts' start, oldest first."""
    return _usage(engine, attempt_filter, "day")


def usage_by_run(engine: Engine, attempt_filter: AttemptFilter) -> list[ApiUsage]:
    """API usage per run, with the run's first start, last end and busy seconds."""
    return _usage(engine, attempt_filter, "run")


def _key(rows: Any, by: Grouping) -> ColumnElement[Any]:
    return day_of_hour(rows.c.hour) if by == "day" else rows.c.run_id


def _usage(engine: Engine, attempt_filter: AttemptFilter, by: Grouping) -> list[ApiUsage]:
    period = Period.of(attempt_filter)
    rows = rollup_rows(engine.dialect.name, ATTEMPTS, period)
    key = _key(rows, by)
    columns: list[Any] = [
        key,
        func.sum(rows.c.attempts),
        verdict_sums(rows.c.verdict, rows.c.attempts)[2],
        *(
            func.sum(rows.c[name])
            for name in (
                "retries",
                "retry_wait_s",
                "rate_limited_errors",
                "server_errors",
                *_TOKENS,
                "cost_usd",
            )
        ),
    ]
    if by == "run":
        columns += [
            epoch_seconds(func.min(rows.c.first_started_at)),
            epoch_seconds(func.max(rows.c.last_finished_at)),
            func.sum(rows.c.busy_s),
        ]
    with engine.connect() as connection:
        found = connection.execute(select(*columns).group_by(key)).all()
        kinds = _retries_by_kind(connection, period, by)
        latencies = _latency_percentiles(connection, period, by)
    usage = []
    for row in sorted(found, key=lambda r: str(r[0])):
        group = str(row[0])
        timing: dict[str, Any] = {}
        if by == "run":
            timing = {
                "first_start_s": None if row[12] is None else float(row[12]),
                "last_end_s": None if row[13] is None else float(row[13]),
                "busy_s": float(row[14] or 0.0),
            }
        percentiles = latencies.get(group, tuple(None for _ in API_PERCENTILES))
        usage.append(
            ApiUsage(
                key=group,
                attempts=int(row[1]),
                errors=int(row[2] or 0),
                retries=int(row[3] or 0),
                retry_wait_s=float(row[4] or 0.0),
                rate_limited_errors=int(row[5] or 0),
                server_errors=int(row[6] or 0),
                tokens=TokenTotals(*(int(value or 0) for value in row[7:11])),
                cost_usd=float(row[11] or 0.0),
                retries_by_kind=kinds.get(group, {}),
                latency_s={
                    f"p{p:g}": value for p, value in zip(API_PERCENTILES, percentiles, strict=True)
                },
                **timing,
            )
        )
    return usage


def _retries_by_kind(
    connection: Connection, period: Period, by: Grouping
) -> dict[str, dict[str, int]]:
    """Logged retries of attempts with a retry count, per group and kind."""
    rows = rollup_rows(connection.dialect.name, RETRIES, period)
    keys = [_key(rows, by), rows.c.http_status, rows.c.error_type]
    query = (
        select(*keys, func.sum(rows.c.retries))
        .where(rows.c.logged == true(), rows.c.attempt_retried == true())
        .group_by(*keys)
    )
    found: defaultdict[str, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    results: Iterable[Any] = connection.execute(query)
    for group, status, error_type, retries in results:
        kind = retry_error_kind(None if status is None else int(status), error_type)
        found[str(group)][kind] += int(retries)
    return {group: dict(sorted(kinds.items())) for group, kinds in found.items()}


def _latency_percentiles(
    connection: Connection, period: Period, by: Grouping
) -> dict[str, tuple[float | None, ...]]:
    """Per group, the percentiles estimated from the decided attempts' log histograms."""
    rows = rollup_rows(connection.dialect.name, LATENCIES, period)
    group = _key(rows, by)
    query = (
        select(
            group,
            rows.c.log_bucket,
            func.min(rows.c.min_s),
            func.max(rows.c.max_s),
            func.sum(rows.c.attempts),
        )
        .where(rows.c.decided == true())
        .group_by(group, rows.c.log_bucket)
        .order_by(group, rows.c.log_bucket)
    )
    buckets: defaultdict[str, list[tuple[float, float, int]]] = defaultdict(list)
    for key, _, smallest, largest, count in connection.execute(query):
        buckets[str(key)].append((float(smallest), float(largest), int(count)))
    return {
        key: percentiles_from_buckets(values, API_PERCENTILES) for key, values in buckets.items()
    }
