"""`routing-sre-ops`: API health, workers, tokens, cost, and the telemetry pipeline itself."""

from __future__ import annotations

from typing import Final

from routelens.config import RoutelensConfig
from routelens.publish import catalogue as c
from routelens.publish.grafana import panels as p
from routelens.publish.grafana import queries as q
from routelens.telemetry import names

UID: Final = c.DASHBOARD_SRE
TITLE: Final = "Routing — SRE Operations"
MODEL_VARIABLE: Final = "model"
SECONDS_PER_HOUR: Final = 3600
# The plan's retry-rate alert fires above 10%; 429s are worth a look from 5%.
RETRY_RATE_LIMIT: Final = 0.10
RATE_LIMITED_LIMIT: Final = 0.05
# Worker utilisation under 50% raises LowWorkerUtilization.
WORKER_UTILIZATION_FLOOR: Final = 0.5
# A robust z-score above 3.5 is the usual outlier cut (Iglewicz and Hoaglin).
COST_ANOMALY_SCORE: Final = 3.5
# A mean attempt cost of 2x the 7-day mean raises AttemptCostSpike.
ATTEMPT_COST_SPIKE: Final = 2.0


def _model_filter() -> dict[str, str]:
    return {c.LABEL_MODEL: p.variable(MODEL_VARIABLE)}


def _api_health_panels() -> list[p.PanelBuilder]:
    router_model = p.legend(c.LABEL_ROUTER, c.LABEL_MODEL)
    retry = p.timeseries_panel(
        "API Retry Rate",
        [p.target(p.series(c.RULE_RETRY_RATE_1D, regex=_model_filter()), router_model)],
        p.UNIT_RATIO,
        width=8,
    ).thresholds(p.ceiling_thresholds(RETRY_RATE_LIMIT))
    latency = p.timeseries_panel(
        "API Latency Percentiles",
        [
            p.target(c.RULE_API_LATENCY_P50, f"p50 {p.legend(c.LABEL_WINDOW)}"),
            p.target(c.RULE_API_LATENCY_P95, f"p95 {p.legend(c.LABEL_WINDOW)}", ref_id="B"),
            p.target(c.RULE_API_LATENCY_P99, f"p99 {p.legend(c.LABEL_WINDOW)}", ref_id="C"),
        ],
        p.UNIT_SECONDS,
        width=8,
    )
    rate_limited = p.timeseries_panel(
        "429 Error Rate",
        [p.target(p.series(c.RULE_RATE_LIMITED_RATE_1D, regex=_model_filter()), router_model)],
        p.UNIT_RATIO,
        width=8,
    ).thresholds(p.ceiling_thresholds(RATE_LIMITED_LIMIT))
    server_errors = p.timeseries_panel(
        "5xx Error Rate",
        [p.target(p.series(c.RULE_SERVER_ERROR_RATE_1D, regex=_model_filter()), router_model)],
        p.UNIT_RATIO,
        width=8,
    )
    retries = p.series(c.WINDOW_API_RETRIES, {c.LABEL_WINDOW: c.WINDOW_DAY}, _model_filter())
    by_kind = p.timeseries_panel(
        "Retries by Error Kind (1d)",
        [p.target(f"sum {p.by(c.LABEL_ERROR_KIND)} ({retries})", p.legend(c.LABEL_ERROR_KIND))],
        p.UNIT_COUNT,
        width=8,
    )
    requests = p.series(c.WINDOW_API_REQUESTS, {c.LABEL_WINDOW: c.WINDOW_DAY}, _model_filter())
    volume = p.stat_panel(
        "API Requests (1d)", [p.target(f"sum({requests})")], p.UNIT_COUNT, width=8, height=8
    )
    return [retry, latency, rate_limited, server_errors, by_kind, volume]


def _worker_panels() -> list[p.PanelBuilder]:
    utilization = (
        p.gauge_panel(
            "Worker Utilization",
            [p.target(c.LAST_RUN_WORKER_UTILIZATION.name)],
            p.UNIT_RATIO,
            width=8,
        )
        .description("Busy time of the last run's workers / (workers x wall time).")
        .thresholds(p.thresholds(p.RED, [(WORKER_UTILIZATION_FLOOR, p.GREEN)]))
        .min(0)
        .max(1)
    )
    workers = p.stat_panel(
        "Workers (last run)", [p.target(c.LAST_RUN_WORKERS.name)], p.UNIT_COUNT, width=8, height=6
    )
    duration = p.stat_panel(
        "Last Run Duration",
        [p.target(c.LAST_RUN_DURATION.name)],
        p.UNIT_SECONDS,
        width=8,
        height=6,
    )
    return [utilization, workers, duration]


def _token_panels() -> list[p.PanelBuilder]:
    day_tokens = p.series(c.WINDOW_TOKENS, {c.LABEL_WINDOW: c.WINDOW_DAY}, _model_filter())
    by_type = p.barchart_panel(
        "Tokens by Type (1d)",
        p.target(f"sum {p.by(c.LABEL_TOKEN_TYPE)} ({day_tokens})", instant=True, table_format=True),
        c.LABEL_TOKEN_TYPE,
        p.UNIT_COUNT,
        width=8,
    )
    token_rate = p.timeseries_panel(
        "Token Rate by Type",
        [
            p.target(
                f"sum {p.by(c.LABEL_TOKEN_TYPE)} "
                f"(rate({p.series(c.TOKENS_TOTAL, regex=_model_filter())}[$__rate_interval]))",
                p.legend(c.LABEL_TOKEN_TYPE),
            )
        ],
        "short",
        width=8,
    )
    fresh_input, cached_input = p.token_type("input"), p.token_type("cache_read")
    cache_read = p.series(
        c.WINDOW_TOKENS,
        {c.LABEL_WINDOW: c.WINDOW_DAY, c.LABEL_TOKEN_TYPE: cached_input},
        _model_filter(),
    )
    prompt = p.series(
        c.WINDOW_TOKENS,
        {c.LABEL_WINDOW: c.WINDOW_DAY},
        {**_model_filter(), c.LABEL_TOKEN_TYPE: f"{fresh_input}|{cached_input}"},
    )
    cache_share = p.stat_panel(
        "Cache Read Share (1d)",
        [p.target(f"sum({cache_read}) / sum({prompt})")],
        p.UNIT_RATIO,
        width=8,
        height=8,
    ).description("Input tokens served from the prompt cache, of all input tokens.")
    return [by_type, token_rate, cache_share]


def _cost_panels(config: RoutelensConfig) -> list[p.PanelBuilder]:
    by_model = p.series(c.RULE_COST_RATE_BY_MODEL_1H, regex=_model_filter())
    cost_rate = p.timeseries_panel(
        "Cost Rate (USD/h)",
        [
            p.target(f"{c.RULE_COST_RATE_1H} * {SECONDS_PER_HOUR}", "total"),
            p.target(
                f"{by_model} * {SECONDS_PER_HOUR}",
                p.legend(c.LABEL_MODEL),
                ref_id="B",
            ),
        ],
        p.UNIT_USD,
        width=8,
    )
    daily = p.timeseries_panel(
        "Daily Cost vs Budget",
        [
            p.target(c.DAILY_COST.name, "spend today"),
            p.target(c.DAILY_BUDGET.name, "daily budget", ref_id="B"),
        ],
        p.UNIT_USD,
        width=8,
    ).thresholds(p.ceiling_thresholds(config.daily_budget_usd))
    anomaly = p.timeseries_panel(
        "Cost Anomaly Score",
        [p.target(c.DAILY_COST_ANOMALY.name, "robust z-score")],
        "none",
        width=8,
    ).thresholds(p.thresholds(p.GREEN, [(COST_ANOMALY_SCORE, p.RED)]))
    mean_cost = p.series(c.ATTEMPT_COST_MEAN, {c.LABEL_WINDOW: c.WINDOW_DAY})
    week_cost = p.series(c.ATTEMPT_COST_MEAN, {c.LABEL_WINDOW: c.WINDOW_WEEK})
    spike = (
        p.stat_panel(
            "Attempt Cost vs 7d Mean",
            [p.target(f"{mean_cost} / ignoring ({c.LABEL_WINDOW}) {week_cost}")],
            "none",
            width=8,
        )
        .description("Mean attempt cost today over the 7-day mean; 2 raises AttemptCostSpike.")
        .thresholds(p.thresholds(p.GREEN, [(ATTEMPT_COST_SPIKE, p.RED)]))
    )
    return [cost_rate, daily, anomaly, spike]


def _pipeline_panels() -> list[p.PanelBuilder]:
    def per_second(series: str) -> str:
        return f"sum(rate({series}[$__rate_interval]))"

    collector = p.timeseries_panel(
        "Collector Span Export",
        [
            p.target(per_second(c.OTELCOL_EXPORTER_SENT_SPANS_TOTAL), "sent"),
            p.target(per_second(c.OTELCOL_EXPORTER_SEND_FAILED_SPANS_TOTAL), "failed", ref_id="B"),
            p.target(per_second(c.OTELCOL_RECEIVER_REFUSED_SPANS_TOTAL), "refused", ref_id="C"),
            p.target(
                per_second(c.OTELCOL_EXPORTER_SEND_FAILED_METRIC_POINTS_TOTAL),
                "failed metric points",
                ref_id="D",
            ),
        ],
        "short",
        width=8,
    )
    memory = p.timeseries_panel(
        "Collector Memory (RSS)",
        [p.target(c.OTELCOL_PROCESS_MEMORY_RSS_BYTES, "rss")],
        p.UNIT_BYTES,
        width=8,
    )
    exporter = p.stat_panel(
        "Store Readable",
        [p.target(c.EXPORTER_STORE_UP.name)],
        "none",
        width=4,
    ).mappings([p.value_text("1", "UP", p.GREEN), p.value_text("0", "DOWN", p.RED)])
    scrape = p.stat_panel(
        "Exporter Scrape Time",
        [p.target(c.EXPORTER_SCRAPE_DURATION.name)],
        p.UNIT_SECONDS,
        width=4,
    )
    return [collector, memory, exporter, scrape]


def _live_run_panels() -> list[p.PanelBuilder]:
    def per_second(series: str, *labels: str) -> str:
        return (
            f"sum {p.by(*labels)} (rate({series}[$__rate_interval]))"
            if labels
            else (f"sum(rate({series}[$__rate_interval]))")
        )

    live = p.timeseries_panel(
        "Live Attempts and Retries",
        [
            p.target(
                per_second(q.LIVE_TESTS_TOTAL, names.LABEL_RESULT),
                f"attempts {p.legend(names.LABEL_RESULT)}",
            ),
            p.target(per_second(q.LIVE_RETRIES_TOTAL), "retries", ref_id="B"),
        ],
        "reqps",
        width=8,
    )
    live_latency = p.timeseries_panel(
        "Live API Latency p95",
        [
            p.target(
                f"histogram_quantile(0.95, {per_second(q.LIVE_API_LATENCY_BUCKET, c.LABEL_LE)})",
                "p95",
            )
        ],
        p.UNIT_SECONDS,
        width=8,
    )
    spans = p.timeseries_panel(
        "Span Duration p95 (spanmetrics)",
        [
            p.target(
                "histogram_quantile(0.95, "
                f"{per_second(c.SPANMETRICS_DURATION_BUCKET, c.LABEL_LE)})",
                "p95",
            ),
        ],
        p.UNIT_SECONDS,
        width=8,
    )
    return [live, live_latency, spans]


def build(config: RoutelensConfig) -> p.Document:
    """The SRE dashboard as Grafana JSON."""
    dashboard = p.new_dashboard(
        UID, TITLE, "API health, worker utilisation, tokens, cost, collector and exporter health."
    ).with_variable(p.label_variable(MODEL_VARIABLE, c.LABEL_MODEL, c.WINDOW_API_REQUESTS))
    sections = [
        ("API Health", _api_health_panels()),
        ("Workers", _worker_panels()),
        ("Token Economics", _token_panels()),
        ("Cost", _cost_panels(config)),
        ("Collector and Exporter Health", _pipeline_panels()),
        ("Live Runs (OpenTelemetry)", _live_run_panels()),
    ]
    for heading, section in sections:
        dashboard = dashboard.with_row(p.row(heading))
        for panel in section:
            dashboard = dashboard.with_panel(panel)
    return p.to_document(dashboard)
