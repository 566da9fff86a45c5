"""`/sre`: API health per day and per run: retries, 429/5xx shares, latency, tokens, cost.

A request is one HTTP call (an attempt's first, and one per retry). The 429 share counts
retries answered 429 or 529 and attempts that ended in one, over requests; the 5xx share
the same for other 5xx statuses. `by_model` is `routelens cost --json`'s `by_model`.
Worker utilisation is a run's busy time ÷ (workers x wall time), as the exporter's gauge.
Latency percentiles are estimated from log-bucketed latencies (`store/api_reads.py`), within
`latency_percentiles.relative_error` of the exact value; the page says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from routelens.analytics.api_health import (
    ERROR_KIND_RATE_LIMITED,
    ERROR_KIND_SERVER_ERROR,
    share,
    worker_utilization,
)
from routelens.analytics.cost import cost_report, cost_report_dict
from routelens.store.api_reads import (
    LATENCY_RELATIVE_ERROR,
    ApiUsage,
    usage_by_day,
    usage_by_run,
)
from routelens.store.cost_reads import spend_by_model
from routelens.web.context import Params, WebContext

DEFAULT_WINDOW = "7d"


def usage_dict(usage: ApiUsage) -> dict[str, Any]:
    """One day's or run's API health as plain values."""
    rate_limited = usage.retries_by_kind.get(ERROR_KIND_RATE_LIMITED, 0)
    rate_limited += usage.rate_limited_errors
    server = usage.retries_by_kind.get(ERROR_KIND_SERVER_ERROR, 0) + usage.server_errors
    tokens = usage.tokens
    prompt = tokens.input + tokens.cache_read + tokens.cache_write
    return {
        "key": usage.key,
        "attempts": usage.attempts,
        "requests": usage.requests,
        "errors": usage.errors,
        "retries": usage.retries,
        "retry_wait_s": usage.retry_wait_s,
        "retries_by_kind": dict(usage.retries_by_kind),
        "rate_limited": rate_limited,
        "rate_limited_share": share(rate_limited, usage.requests),
        "server_errors": server,
        "server_error_share": share(server, usage.requests),
        "latency_s": dict(usage.latency_s),
        "tokens": {
            "input": tokens.input,
            "output": tokens.output,
            "cache_read": tokens.cache_read,
            "cache_write": tokens.cache_write,
        },
        "cache_read_share": share(tokens.cache_read, prompt),
        "cost_usd": usage.cost_usd,
    }


def sre_page(context: WebContext, path: Mapping[str, str], params: Params) -> dict[str, Any]:
    """API health of the window by day and by run, and spend by model."""
    window_text, window = params.window(DEFAULT_WINDOW)
    attempt_filter = context.window_filter(window)
    engine = context.store.engine
    with ThreadPoolExecutor(max_workers=2) as pool:
        days = pool.submit(usage_by_day, engine, attempt_filter)
        models = pool.submit(spend_by_model, engine, attempt_filter)
        runs = usage_by_run(engine, attempt_filter)
        by_day, by_model = days.result(), models.result()
    report = cost_report(
        [], by_model, [], [], [], today=attempt_filter.now.date(), daily_budget_usd=0
    )
    records = {run.run_id: run for run in context.store.list_runs()}
    run_rows = []

    def started(usage: ApiUsage) -> str:
        record = records.get(usage.key)
        return "" if record is None else record.started_at.isoformat()

    for usage in sorted(runs, key=lambda u: (started(u), u.key)):
        record = records.get(usage.key)
        settings = record.settings if record is not None else {}
        workers = settings.get("concurrency") if isinstance(settings, dict) else None
        workers = workers if isinstance(workers, int) and workers > 0 else None
        wall = 0.0
        if usage.first_start_s is not None and usage.last_end_s is not None:
            wall = max(usage.last_end_s - usage.first_start_s, 0.0)
        run_rows.append(
            usage_dict(usage)
            | {
                "run_id": usage.key,
                "started_at": None if record is None else record.started_at.isoformat(),
                "router": None if record is None else record.router,
                "model": None if record is None else record.model,
                "workers": workers,
                "wall_s": wall,
                "busy_s": usage.busy_s,
                "utilization": worker_utilization(usage.busy_s, workers, wall),
            }
        )
    day_rows = [usage_dict(usage) | {"day": usage.key} for usage in by_day]
    return {
        "window": window_text,
        "by_day": day_rows,
        "by_run": run_rows,
        "by_model": cost_report_dict(report)["by_model"],
        "latency_percentiles": {"method": "log_buckets", "relative_error": LATENCY_RELATIVE_ERROR},
    }
