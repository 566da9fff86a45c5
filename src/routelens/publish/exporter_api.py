"""API health: retries by error kind (from each attempt's `retry_log`) and latency buckets.

Retries are counted from the JSON `retry_log` of each attempt, expanded in SQL
(`json_each` on SQLite, `json_array_elements` on PostgreSQL) and grouped by HTTP status and
error type; `retry_error_kind` names the kind. Attempts stored before schema v2 have no log:
their `retries` count as `other`. Latency is the attempt's latency minus its retry waits.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from prometheus_client.utils import floatToGoString
from sqlalchemy import ColumnElement, case, func, select, true

from routelens.analytics.api_health import retry_error_kind
from routelens.publish import catalogue as c
from routelens.publish.exporter_support import (
    Families,
    ScrapeContext,
    add_histogram,
    add_sample,
    ensure,
    label_or_none,
    started_within,
)
from routelens.store import schema
from routelens.store.api_reads import retry_events
from routelens.store.sql_functions import sum_if

_TOTAL = "total"


def read_retries(context: ScrapeContext) -> dict[tuple[str, str, str], dict[str, float]]:
    """(router, model, error kind) → retries in total, in the 1d and in the 7d window."""
    attempts, runs = schema.attempts.c, schema.runs.c
    events = retry_events(context.dialect).alias("retry_event")
    joined = schema.attempts.join(schema.runs, attempts.run_id == runs.run_id).join(events, true())
    # Extracted in a subquery so PostgreSQL's GROUP BY matches (bound JSON paths differ).
    inner = (
        select(
            runs.router.label("router"),
            runs.model.label("model"),
            events.c.value["http_status"].as_integer().label("http_status"),
            events.c.value["error_type"].as_string().label("error_type"),
            attempts.started_at.label("started_at"),
        )
        .select_from(joined)
        .subquery("retry")
    )
    legacy = (  # before schema v2: a count without a log
        select(
            runs.router,
            runs.model,
            *_window_sums(context, attempts.started_at, attempts.retries),
        )
        .select_from(schema.attempts.join(schema.runs, attempts.run_id == runs.run_id))
        .where(attempts.retry_log.is_(None), attempts.retries > 0)
        .group_by(runs.router, runs.model)
    )
    keys = [inner.c.router, inner.c.model, inner.c.http_status, inner.c.error_type]
    query = select(*keys, *_window_sums(context, inner.c.started_at, None)).group_by(*keys)
    found: dict[tuple[str, str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    connection = context.connection
    for router, model, status, error_type, *sums in connection.execute(query):
        kind = retry_error_kind(None if status is None else int(status), error_type)
        _add(found[(str(router), label_or_none(model), kind)], sums)
    for router, model, *sums in connection.execute(legacy):
        _add(found[(str(router), label_or_none(model), c.ERROR_KIND_OTHER)], sums)
    return found


def _window_sums(
    context: ScrapeContext, started: ColumnElement[Any], value: ColumnElement[Any] | None
) -> list[ColumnElement[Any]]:
    """SUM(value) (COUNT(*) when value is None) over all rows, the 1d and the 7d window."""
    day = (started >= context.since(c.WINDOW_DAY)) & (started <= context.now)
    week = (started >= context.since(c.WINDOW_WEEK)) & (started <= context.now)
    if value is None:
        return [func.count(), sum_if(day), sum_if(week)]
    return [func.sum(value), sum_if(day, value), sum_if(week, value)]


def _add(target: dict[str, float], sums: Sequence[Any]) -> None:
    for name, value in zip((_TOTAL, c.WINDOW_DAY, c.WINDOW_WEEK), sums, strict=True):
        target[name] += float(value or 0)


def api_families(context: ScrapeContext) -> Families:
    """Retries by kind (windows and all time) and the API latency gauge histograms."""
    families: Families = {}
    for (router, model, kind), sums in sorted(read_retries(context).items()):
        labels = {"router": router, "model": model, "error_kind": kind}
        add_sample(families, c.API_RETRIES_TOTAL, sums[_TOTAL], **labels)
        for window in c.WINDOWS:
            if sums[window]:
                add_sample(families, c.WINDOW_API_RETRIES, sums[window], window=window, **labels)
    _latency_histograms(context, families)
    return ensure(families, c.API_RETRIES_TOTAL, c.WINDOW_API_RETRIES, c.WINDOW_API_LATENCY)


def _latency_histograms(context: ScrapeContext, families: Families) -> None:
    # Each attempt's bucket (the first bound it is within) is computed once and the 7 days
    # are grouped by (bucket, in the last day); the cumulative counts are summed here. One
    # CASE per attempt instead of one per bound and window: about 2.5x faster.
    attempts = schema.attempts.c
    latency = attempts.latency_s - attempts.retry_wait_s
    bounds = c.LATENCY_BUCKETS_SECONDS
    bucket = case(
        *((latency <= bound, index) for index, bound in enumerate(bounds)), else_=len(bounds)
    ).label("bucket")
    in_day = (attempts.started_at >= context.since(c.WINDOW_DAY)).label("in_day")
    inner = (
        select(bucket, in_day, latency.label("latency"))
        .where(started_within(context, context.since(c.WINDOW_WEEK)))
        .subquery("bucketed")
    )
    query = select(
        inner.c.bucket, inner.c.in_day, func.count(), func.sum(inner.c.latency)
    ).group_by(inner.c.bucket, inner.c.in_day)
    counts = {window: [0.0] * (len(bounds) + 1) for window in c.WINDOWS}
    seconds: dict[str, list[float]] = {window: [] for window in c.WINDOWS}
    for index, day, count, total in context.connection.execute(query):
        windows = c.WINDOWS if day else (c.WINDOW_WEEK,)
        for window in windows:
            counts[window][int(index)] += float(count)
            seconds[window].append(float(total or 0))
    for window in c.WINDOWS:
        per_bucket = counts[window]
        total_count = sum(per_bucket)
        if not total_count:
            continue
        cumulative = list(itertools.accumulate(per_bucket[:-1]))
        buckets = [
            (floatToGoString(bound), count)  # type: ignore[no-untyped-call]
            for bound, count in zip(bounds, cumulative, strict=True)
        ]
        buckets.append(("+Inf", total_count))
        add_histogram(
            families, c.WINDOW_API_LATENCY, buckets, math.fsum(seconds[window]), window=window
        )
