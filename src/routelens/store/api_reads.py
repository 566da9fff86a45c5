"""API health aggregates for the SRE view: requests, retries by kind, errors, latency, tokens.

Grouped by UTC day or by run over an `AttemptFilter`. Retries are read from each attempt's
JSON `retry_log` (expanded in SQL: `json_each` on SQLite, `json_array_elements` on
PostgreSQL; the exporter reads it the same way). Latency percentiles are numpy's "linear"
method, computed from the few sorted latencies around each percentile's position.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Engine,
    and_,
    column,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.sql.selectable import TableValuedAlias

from routelens.analytics.api_health import RATE_LIMITED_STATUSES, retry_error_kind
from routelens.analytics.summary import TokenTotals
from routelens.analytics.window import AttemptFilter
from routelens.store import schema
from routelens.store.reads import attempts_select, filter_conditions
from routelens.store.records import Verdict
from routelens.store.sql_functions import epoch_seconds, sum_if, utc_day

API_PERCENTILES = (50.0, 95.0, 99.0)


def retry_events(dialect: str) -> TableValuedAlias:
    """`attempts.retry_log` as a table of JSON values (one row per retry), to join on true."""
    expand = func.json_array_elements if dialect == "postgresql" else func.json_each
    return expand(schema.attempts.c.retry_log).table_valued(
        column("value", JSON), joins_implicitly=True
    )


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


def _day_key() -> ColumnElement[Any]:
    return utc_day(schema.attempts.c.started_at)


def _run_key() -> ColumnElement[Any]:
    return schema.attempts.c.run_id


def usage_by_day(engine: Engine, attempt_filter: AttemptFilter) -> list[ApiUsage]:
    """API usage per UTC day of the attempts' start, oldest first."""
    return _usage(engine, attempt_filter, _day_key(), with_timing=False)


def usage_by_run(engine: Engine, attempt_filter: AttemptFilter) -> list[ApiUsage]:
    """API usage per run, with the run's first start, last end and busy seconds."""
    return _usage(engine, attempt_filter, _run_key(), with_timing=True)


def _usage(
    engine: Engine, attempt_filter: AttemptFilter, key: ColumnElement[Any], *, with_timing: bool
) -> list[ApiUsage]:
    attempts = schema.attempts.c
    errored = attempts.verdict == str(Verdict.ERROR)
    limited = and_(errored, attempts.http_status.in_(sorted(RATE_LIMITED_STATUSES)))
    server = and_(
        errored,
        attempts.http_status.between(500, 599),
        attempts.http_status.not_in(sorted(RATE_LIMITED_STATUSES)),
    )
    columns: list[Any] = [
        key,
        func.count(),
        sum_if(errored),
        func.sum(attempts.retries),
        func.sum(attempts.retry_wait_s),
        sum_if(limited),
        sum_if(server),
        func.sum(attempts.input_tokens),
        func.sum(attempts.output_tokens),
        func.sum(attempts.cache_read_tokens),
        func.sum(attempts.cache_write_tokens),
        func.sum(attempts.cost_usd),
    ]
    if with_timing:
        started, finished = epoch_seconds(attempts.started_at), epoch_seconds(attempts.finished_at)
        columns += [func.min(started), func.max(finished), func.sum(finished - started)]
    query = attempts_select(columns, attempt_filter, attempts_only=True).group_by(key)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
        kinds = _retries_by_kind(connection, attempt_filter, key)
        latencies = latency_percentiles_by(
            connection,
            key,
            [*filter_conditions(attempt_filter), attempts.verdict != str(Verdict.ERROR)],
            API_PERCENTILES,
            join_runs=bool(attempt_filter.labels),
        )
    usage = []
    for row in sorted(rows, key=lambda r: str(r[0])):
        group = str(row[0])
        timing: dict[str, Any] = {}
        if with_timing:
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
    connection: Connection, attempt_filter: AttemptFilter, key: ColumnElement[Any]
) -> dict[str, dict[str, int]]:
    attempts = schema.attempts.c
    events = retry_events(connection.dialect.name).alias("retry_event")
    joined: Any = schema.attempts
    if attempt_filter.labels:
        joined = joined.join(schema.runs, attempts.run_id == schema.runs.c.run_id)
    # The JSON fields are extracted in a subquery so PostgreSQL's GROUP BY matches them.
    inner = (
        select(
            key.label("key"),
            events.c.value["http_status"].as_integer().label("http_status"),
            events.c.value["error_type"].as_string().label("error_type"),
        )
        .select_from(joined.join(events, true()))
        .where(attempts.retries > 0, *filter_conditions(attempt_filter))
        .subquery("retry")
    )
    keys = [inner.c.key, inner.c.http_status, inner.c.error_type]
    found: defaultdict[str, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in connection.execute(select(*keys, func.count()).group_by(*keys)):
        status = None if row[1] is None else int(row[1])
        found[str(row[0])][retry_error_kind(status, row[2])] += int(row[3])
    return {group: dict(sorted(kinds.items())) for group, kinds in found.items()}


def latency_percentiles_by(
    connection: Connection,
    key: ColumnElement[Any],
    conditions: Sequence[ColumnElement[bool]],
    percentiles: Sequence[float],
    *,
    join_runs: bool = False,
) -> dict[str, tuple[float | None, ...]]:
    """Per value of `key`, numpy's linear percentiles of `attempts.latency_s` where
    `conditions` hold.

    The latencies of each group are numbered in order by a window function, and only the
    few around each percentile's position h = (n - 1) p come back; the value is
    x[⌊h⌋] + (h - ⌊h⌋) (x[⌊h⌋ + 1] - x[⌊h⌋]).
    """
    attempts = schema.attempts.c
    position = func.row_number().over(
        partition_by=key, order_by=attempts.latency_s
    ) - literal_column("1")
    joined: Any = schema.attempts
    if join_runs:
        joined = joined.join(schema.runs, attempts.run_id == schema.runs.c.run_id)
    numbered = (
        select(
            key.label("key"),
            attempts.latency_s.label("latency"),
            position.label("position"),
            func.count().over(partition_by=key).label("size"),
        )
        .select_from(joined)
        .where(and_(*conditions))
        .subquery("numbered")
    )
    # ⌊(n - 1) p⌋ in integer arithmetic; float rounding may put numpy's ⌊h⌋ one lower,
    # so one more row is kept on each side.
    near = []
    for percentile in percentiles:
        floor = (numbered.c.size - 1) * round(percentile * 100) // 10_000
        near.append(and_(numbered.c.position >= floor - 1, numbered.c.position <= floor + 2))
    query = select(numbered.c.key, numbered.c.latency, numbered.c.position, numbered.c.size).where(
        or_(*near)
    )
    values: defaultdict[str, dict[int, float]] = defaultdict(dict)
    sizes: dict[str, int] = {}
    for group, latency, index, count in connection.execute(query):
        values[str(group)][int(index)] = float(latency)
        sizes[str(group)] = int(count)
    return {
        group: tuple(_linear(values[group], sizes[group], p) for p in percentiles)
        for group in sizes
    }


def _linear(values: dict[int, float], size: int, percentile: float) -> float | None:
    if size == 0:
        return None
    position = (size - 1) * (percentile / 100.0)
    below = math.floor(position)
    low = values[below]
    high = values.get(below + 1, low)
    return low + (position - below) * (high - low)
