"""API health: retries by error kind (from each attempt's `retry_log`) and latency buckets.

Both come from the rollups (`store/rollups.py`): the retries of each attempt's JSON
`retry_log` counted by HTTP status and error type (`retry_error_kind` names the kind;
attempts stored before schema v2 have no log, and their `retries` count as `other`), and
each attempt's latency less its retry waits counted in the histogram's buckets.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from prometheus_client.utils import floatToGoString
from sqlalchemy import func, select

from routelens.analytics.api_health import retry_error_kind
from routelens.publish import catalogue as c
from routelens.publish.exporter_support import (
    Families,
    ScrapeContext,
    add_histogram,
    add_sample,
    ensure,
    label_or_none,
)
from routelens.store import schema
from routelens.store.rollup_reads import Period, rollup_rows
from routelens.store.rollups import LATENCIES, RETRIES

_TOTAL = "total"


def read_retries(context: ScrapeContext) -> dict[tuple[str, str, str], dict[str, float]]:
    """(router, model, error kind) → retries in total, in the 1d and in the 7d window."""
    found: dict[tuple[str, str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    periods = {
        _TOTAL: Period(),
        **{window: Period(start=context.since(window), end=context.now) for window in c.WINDOWS},
    }
    runs = schema.runs.c
    for name, period in periods.items():
        rows = rollup_rows(context.dialect, RETRIES, period)
        keys = [runs.router, runs.model, rows.c.http_status, rows.c.error_type, rows.c.logged]
        query = (
            select(*keys, func.sum(rows.c.retries))
            .select_from(rows.join(schema.runs, rows.c.run_id == runs.run_id))
            .group_by(*keys)
        )
        results: Iterable[Any] = context.connection.execute(query)
        for router, model, status, error_type, logged, retries in results:
            if logged:
                kind = retry_error_kind(None if status is None else int(status), error_type)
            else:  # before schema v2: a count without a log
                kind = c.ERROR_KIND_OTHER
            found[(str(router), label_or_none(model), kind)][name] += float(retries or 0)
    return found


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
    # The rollups count each attempt in its bucket (the first bound it is within); the
    # cumulative counts are summed here.
    bounds = c.LATENCY_BUCKETS_SECONDS
    for window in c.WINDOWS:
        rows = rollup_rows(
            context.dialect, LATENCIES, Period(start=context.since(window), end=context.now)
        )
        query = select(
            rows.c.api_bucket, func.sum(rows.c.attempts), func.sum(rows.c.api_seconds)
        ).group_by(rows.c.api_bucket)
        per_bucket = [0.0] * (len(bounds) + 1)
        seconds: list[float] = []
        for index, count, total in context.connection.execute(query):
            per_bucket[int(index)] += float(count)
            seconds.append(float(total or 0))
        total_count = sum(per_bucket)
        if not total_count:
            continue
        cumulative = list(itertools.accumulate(per_bucket[:-1]))
        buckets = [
            (floatToGoString(bound), count)  # type: ignore[no-untyped-call]
            for bound, count in zip(bounds, cumulative, strict=True)
        ]
        buckets.append(("+Inf", total_count))
        add_histogram(families, c.WINDOW_API_LATENCY, buckets, math.fsum(seconds), window=window)
