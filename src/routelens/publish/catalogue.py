"""Every metric the exporter serves, defined once: name, type, help text and labels.

The exporter (`publish/exporter.py`) yields exactly these families; the recording and alerting
rules (`publish/rules.py`) and the Grafana dashboards (`publish/grafana/`) refer to them only
through the constants below, so a renamed metric cannot leave a panel or an alert behind.

Names follow the Prometheus conventions: a `routelens_` prefix, base units as suffixes
(`_seconds`, `_usd`, `_ratio` for 0..1), `_total` only on counters. Values computed over a
time window are gauges named `routelens_window_*` with a `window` label ("1d", "7d"), because
they can go down; all-time totals are counters so `rate()` and `increase()` work on them.

The OpenTelemetry metrics a live run emits (`routing_test_*`, `gen_ai.client.*`, defined in
`telemetry/names.py`) and the collector's own `otelcol_*` and spanmetrics series are listed at
the end: dashboards may use them, but they exist only where a run or a collector reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from routelens.analytics import api_health

MetricKind = Literal["gauge", "counter", "gaugehistogram", "info"]


@dataclass(frozen=True)
class MetricSpec:
    """One metric family: `name` as Prometheus shows it (counters include `_total`)."""

    name: str
    kind: MetricKind
    help: str
    labels: tuple[str, ...] = ()

    @property
    def family_name(self) -> str:
        """The name prometheus_client's metric families take (without `_total` / `_info`)."""
        if self.kind == "counter":
            return self.name.removesuffix("_total")
        if self.kind == "info":
            return self.name.removesuffix("_info")
        return self.name


# --- label names and fixed label values -----------------------------------------------------
LABEL_WINDOW: Final = "window"
LABEL_SKILL: Final = "skill"
LABEL_SKILL_VERSION: Final = "skill_version"  # that skill's SKILL.md content hash (short)
LABEL_SKILLS_VERSION: Final = "skills_version"  # the run's whole-skills-set hash (short)
LABEL_CATEGORY: Final = "category"
LABEL_MODEL: Final = "model"
LABEL_ROUTER: Final = "router"
LABEL_OUTCOME: Final = "outcome"
LABEL_CASE_ID: Final = "case_id"
LABEL_CLASS: Final = "class"
LABEL_TOKEN_TYPE: Final = "token_type"
LABEL_ERROR_KIND: Final = "error_kind"
LABEL_EXPECTED_SKILL: Final = "expected_skill"
LABEL_ACTUAL_SKILL: Final = "actual_skill"
LABEL_EXPERIMENT: Final = "experiment"
LABEL_ARM: Final = "arm"
LABEL_BOUND: Final = "bound"
LABEL_STATUS: Final = "status"
LABEL_DECISION: Final = "decision"
LABEL_KIND: Final = "kind"
LABEL_HASH: Final = "hash"
LABEL_SIDE: Final = "side"
LABEL_RELEASE: Final = "release"
LABEL_RUN_ID: Final = "run_id"
LABEL_SUITE: Final = "suite"
LABEL_LE: Final = "le"

WINDOW_DAY: Final = "1d"
WINDOW_WEEK: Final = "7d"
WINDOW_PREVIOUS_WEEK: Final = "previous_7d"  # the 7 days before the last 7 (accuracy only)
WINDOWS: Final = (WINDOW_DAY, WINDOW_WEEK)

OUTCOME_PASS: Final = "pass"
OUTCOME_FAIL: Final = "fail"
OUTCOME_ERROR: Final = "error"
OUTCOMES: Final = (OUTCOME_PASS, OUTCOME_FAIL, OUTCOME_ERROR)

# the `error_kind` label values: how routelens.analytics.api_health names a retry
ERROR_KIND_RATE_LIMITED: Final = api_health.ERROR_KIND_RATE_LIMITED
ERROR_KIND_SERVER_ERROR: Final = api_health.ERROR_KIND_SERVER_ERROR
ERROR_KIND_TIMEOUT: Final = api_health.ERROR_KIND_TIMEOUT
ERROR_KIND_OTHER: Final = api_health.ERROR_KIND_OTHER
ERROR_KINDS: Final = api_health.ERROR_KINDS

# Grafana dashboard uids (the plan's): links and bookmarks use them, so they never change
DASHBOARD_EXECUTIVE: Final = "routing-executive"
DASHBOARD_QA: Final = "routing-qa-engineer"
DASHBOARD_SKILLS: Final = "routing-skills-ab"
DASHBOARD_SRE: Final = "routing-sre-ops"
DASHBOARD_EXPERIMENTS: Final = "routing-experiments"

TOKEN_TYPES: Final = ("input", "output", "cache_read", "cache_write")
CASE_CLASSES: Final = ("stable-pass", "broken", "flaky", "insufficient-data")
BOUND_ESTIMATE: Final = "estimate"
BOUND_LOW: Final = "low"
BOUND_HIGH: Final = "high"
SIDE_BEFORE: Final = "before"
SIDE_AFTER: Final = "after"
NO_SKILL: Final = "none"  # expected or actual skill absent (clarification cases, no route)
CLARIFIED: Final = "clarified"  # the actual "skill" when the router asked which one
LATENCY_BUCKETS_SECONDS: Final = api_health.API_LATENCY_BUCKETS_SECONDS

# --- routing quality ---------------------------------------------------------------------------
WINDOW_ATTEMPTS: Final = MetricSpec(
    "routelens_window_attempts",
    "gauge",
    "Attempts that started in the window, by expected skill, its version, category, model, "
    "skills-set version and outcome (pass, fail, error).",
    (
        LABEL_WINDOW,
        LABEL_SKILL,
        LABEL_SKILL_VERSION,
        LABEL_CATEGORY,
        LABEL_MODEL,
        LABEL_SKILLS_VERSION,
        LABEL_OUTCOME,
    ),
)
ACCURACY: Final = MetricSpec(
    "routelens_accuracy_ratio",
    "gauge",
    "Share of decided attempts (errors excluded) that passed, over the window "
    "(1d, 7d, previous_7d).",
    (LABEL_WINDOW,),
)
ACCURACY_WEEK_OVER_WEEK_DELTA: Final = MetricSpec(
    "routelens_accuracy_week_over_week_delta_ratio",
    "gauge",
    "Accuracy over the last 7 days minus accuracy over the 7 days before (absent if either "
    "week has no decided attempt).",
)
ERROR_RATE: Final = MetricSpec(
    "routelens_window_error_ratio",
    "gauge",
    "Share of attempts in the window that ended in an error (router failure or timeout).",
    (LABEL_WINDOW,),
)
CASES_BY_CLASS: Final = MetricSpec(
    "routelens_cases",
    "gauge",
    "Case conditions by stability class over the last 7 days (stable-pass, broken, flaky, "
    "insufficient-data), as `routelens flaky` classifies them.",
    (LABEL_CLASS,),
)
CASE_STABILITY: Final = MetricSpec(
    "routelens_case_stability_score",
    "gauge",
    "Stability score 0..100 of each case over the last 7 days (only while the suite has no "
    "more cases than `max_case_labels`).",
    (LABEL_CASE_ID, LABEL_CATEGORY, LABEL_CLASS),
)
CASE_PASS_RATE: Final = MetricSpec(
    "routelens_case_pass_ratio",
    "gauge",
    "Pass rate of each case over the last 7 days (same case-label limit).",
    (LABEL_CASE_ID, LABEL_CATEGORY, LABEL_CLASS),
)
CASE_LATENCY_P95: Final = MetricSpec(
    "routelens_case_latency_p95_seconds",
    "gauge",
    "95th percentile attempt latency of each case over the last 7 days (same case-label limit).",
    (LABEL_CASE_ID, LABEL_CATEGORY),
)
CONFUSION: Final = MetricSpec(
    "routelens_window_confusion_attempts",
    "gauge",
    "Attempts in the window by expected and actual skill (actual is `clarified` when the "
    "router asked, `none` when it routed nowhere); errors excluded.",
    (LABEL_WINDOW, LABEL_EXPECTED_SKILL, LABEL_ACTUAL_SKILL),
)
CLARIFICATION_RATE: Final = MetricSpec(
    "routelens_window_clarification_ratio",
    "gauge",
    "Share of decided attempts on disambiguation cases in which the router asked which skill.",
    (LABEL_WINDOW,),
)
DISAMBIGUATION_ATTEMPTS: Final = MetricSpec(
    "routelens_window_disambiguation_attempts",
    "gauge",
    "Attempts on disambiguation cases in the window, by outcome.",
    (LABEL_WINDOW, LABEL_OUTCOME),
)
CLARIFICATION_OPTIONS_NAMED: Final = MetricSpec(
    "routelens_window_clarification_options_named_ratio",
    "gauge",
    "Mean share of a disambiguation case's `disambiguation_options` that the router's "
    "clarifying questions in the window named (scored attempts in which it asked).",
    (LABEL_WINDOW,),
)
CASE_CLARIFICATION_OPTIONS_NAMED: Final = MetricSpec(
    "routelens_case_clarification_options_named_ratio",
    "gauge",
    "Mean share of its `disambiguation_options` each disambiguation case's clarifying "
    "questions named over the last 7 days (same case-label limit).",
    (LABEL_CASE_ID,),
)
RELEASE_ACCURACY: Final = MetricSpec(
    "routelens_release_accuracy_ratio",
    "gauge",
    "Accuracy of the runs carrying each of the five most recent values of the release label.",
    (LABEL_RELEASE,),
)
SKILLS: Final = MetricSpec(
    "routelens_skills",
    "gauge",
    "Skills in the most recent run's skills folder.",
)
SKILL_CASES: Final = MetricSpec(
    "routelens_skill_cases",
    "gauge",
    "Cases expecting each skill in the most recent run (0 for a skill no case covers).",
    (LABEL_SKILL,),
)
SKILL_COVERAGE: Final = MetricSpec(
    "routelens_skill_coverage_ratio",
    "gauge",
    "Share of the most recent run's skills that at least one case expects.",
)
ATTEMPTS_TOTAL: Final = MetricSpec(
    "routelens_attempts_total",
    "counter",
    "Attempts recorded in the store, by router, model and outcome.",
    (LABEL_ROUTER, LABEL_MODEL, LABEL_OUTCOME),
)

# --- cost and tokens ----------------------------------------------------------------------------
COST_TOTAL: Final = MetricSpec(
    "routelens_cost_usd_total",
    "counter",
    "Spend recorded in the store (USD), by router and model.",
    (LABEL_ROUTER, LABEL_MODEL),
)
WINDOW_COST: Final = MetricSpec(
    "routelens_window_cost_usd",
    "gauge",
    "Spend in the window (USD), by model and expected skill.",
    (LABEL_WINDOW, LABEL_MODEL, LABEL_SKILL),
)
DAILY_COST: Final = MetricSpec(
    "routelens_daily_cost_usd",
    "gauge",
    "Spend so far today (UTC day), USD.",
)
DAILY_BUDGET: Final = MetricSpec(
    "routelens_daily_budget_usd",
    "gauge",
    "The configured daily budget (USD), for panels and alerts to compare against.",
)
BUDGET_BURN: Final = MetricSpec(
    "routelens_budget_burn_ratio",
    "gauge",
    "Today's spend divided by the daily budget (1 = budget used up).",
)
MONTHLY_PROJECTED_COST: Final = MetricSpec(
    "routelens_monthly_projected_cost_usd",
    "gauge",
    "This calendar month's spend so far plus the last 7 days' daily average for the days left.",
)
ATTEMPT_COST_MEAN: Final = MetricSpec(
    "routelens_window_attempt_cost_mean_usd",
    "gauge",
    "Mean cost of one attempt in the window (USD).",
    (LABEL_WINDOW,),
)
DAILY_COST_ANOMALY: Final = MetricSpec(
    "routelens_daily_cost_anomaly_score",
    "gauge",
    "Robust z-score of today's spend against the previous 28 days (median and MAD).",
)
WINDOW_TOKENS: Final = MetricSpec(
    "routelens_window_tokens",
    "gauge",
    "Tokens in the window by model and type (input, output, cache_read, cache_write).",
    (LABEL_WINDOW, LABEL_MODEL, LABEL_TOKEN_TYPE),
)
TOKENS_TOTAL: Final = MetricSpec(
    "routelens_tokens_total",
    "counter",
    "Tokens recorded in the store by model and type.",
    (LABEL_MODEL, LABEL_TOKEN_TYPE),
)

# --- API health -------------------------------------------------------------------------------
WINDOW_API_REQUESTS: Final = MetricSpec(
    "routelens_window_api_requests",
    "gauge",
    "API requests in the window (each attempt's first try plus its retries), by router and model.",
    (LABEL_WINDOW, LABEL_ROUTER, LABEL_MODEL),
)
WINDOW_API_RETRIES: Final = MetricSpec(
    "routelens_window_api_retries",
    "gauge",
    "Retried API requests in the window by the error that caused them "
    "(rate_limited, server_error, timeout, other).",
    (LABEL_WINDOW, LABEL_ROUTER, LABEL_MODEL, LABEL_ERROR_KIND),
)
WINDOW_API_LATENCY: Final = MetricSpec(
    "routelens_window_api_latency_seconds",
    "gaugehistogram",
    "Latency of attempts in the window excluding retry waits, as a gauge histogram "
    "(`_bucket{le}`, `_gcount`, `_gsum`).",
    (LABEL_WINDOW,),
)
API_RETRIES_TOTAL: Final = MetricSpec(
    "routelens_api_retries_total",
    "counter",
    "Retried API requests recorded in the store, by router, model and error kind.",
    (LABEL_ROUTER, LABEL_MODEL, LABEL_ERROR_KIND),
)

# --- last run ---------------------------------------------------------------------------------
LAST_RUN_INFO: Final = MetricSpec(
    "routelens_last_run_info",
    "info",
    "The most recent run: id, suite, router, model and status.",
    (LABEL_RUN_ID, LABEL_SUITE, LABEL_ROUTER, LABEL_MODEL, LABEL_STATUS),
)
LAST_RUN_TIMESTAMP: Final = MetricSpec(
    "routelens_last_run_timestamp_seconds",
    "gauge",
    "Unix time the most recent run started.",
)
LAST_RUN_DURATION: Final = MetricSpec(
    "routelens_last_run_duration_seconds",
    "gauge",
    "Wall time of the most recent run, first attempt start to last attempt end.",
)
LAST_RUN_WORKERS: Final = MetricSpec(
    "routelens_last_run_workers",
    "gauge",
    "Workers (concurrency) of the most recent run.",
)
LAST_RUN_WORKER_UTILIZATION: Final = MetricSpec(
    "routelens_last_run_worker_utilization_ratio",
    "gauge",
    "Busy time of the most recent run's workers divided by workers times wall time.",
)

# --- experiments ------------------------------------------------------------------------------
EXPERIMENT_INFO: Final = MetricSpec(
    "routelens_experiment_info",
    "info",
    "Each experiment's lifecycle status (draft, running, concluded) and decision.",
    (LABEL_EXPERIMENT, LABEL_STATUS, LABEL_DECISION),
)
EXPERIMENT_ARM_ACCURACY: Final = MetricSpec(
    "routelens_experiment_arm_accuracy_ratio",
    "gauge",
    "Accuracy of each arm (control, treatment) of each experiment so far.",
    (LABEL_EXPERIMENT, LABEL_ARM),
)
EXPERIMENT_ARM_ATTEMPTS: Final = MetricSpec(
    "routelens_experiment_arm_attempts",
    "gauge",
    "Decided attempts of each arm of each experiment so far.",
    (LABEL_EXPERIMENT, LABEL_ARM),
)
EXPERIMENT_DIFFERENCE: Final = MetricSpec(
    "routelens_experiment_difference_ratio",
    "gauge",
    "Treatment minus control accuracy: the estimate and the always-valid interval's bounds.",
    (LABEL_EXPERIMENT, LABEL_BOUND),
)
EXPERIMENT_P_VALUE: Final = MetricSpec(
    "routelens_experiment_p_value",
    "gauge",
    "The experiment's p-value (paired test on case-level outcomes).",
    (LABEL_EXPERIMENT,),
)

# --- SKILL.md changes -------------------------------------------------------------------------
SKILL_CHANGE_EVENTS_TOTAL: Final = MetricSpec(
    "routelens_skill_change_events_total",
    "counter",
    "SKILL.md change events recorded by `routelens changes scan`, by skill and kind.",
    (LABEL_SKILL, LABEL_KIND),
)
SKILL_LAST_CHANGE_TIMESTAMP: Final = MetricSpec(
    "routelens_skill_last_change_timestamp_seconds",
    "gauge",
    "Unix time of each skill's most recent recorded change (commit time).",
    (LABEL_SKILL,),
)
SKILL_INFO: Final = MetricSpec(
    "routelens_skill_info",
    "info",
    "Each skill's current SKILL.md content hash (short), from its latest change or run.",
    (LABEL_SKILL, LABEL_HASH),
)
SKILL_CHANGE_ACCURACY: Final = MetricSpec(
    "routelens_skill_change_accuracy_ratio",
    "gauge",
    "Accuracy of the cases expecting each skill before and after its latest change "
    "(attempts on the old hash vs the new hash, last 30 days).",
    (LABEL_SKILL, LABEL_SIDE),
)

# --- the exporter itself ----------------------------------------------------------------------
EXPORTER_SCRAPE_DURATION: Final = MetricSpec(
    "routelens_exporter_scrape_duration_seconds",
    "gauge",
    "Time the exporter took to compute this scrape from the store.",
)
EXPORTER_STORE_UP: Final = MetricSpec(
    "routelens_exporter_store_up",
    "gauge",
    "1 when the store could be read during this scrape, else 0.",
)

EXPORTED_METRICS: Final[tuple[MetricSpec, ...]] = (
    WINDOW_ATTEMPTS,
    ACCURACY,
    ACCURACY_WEEK_OVER_WEEK_DELTA,
    ERROR_RATE,
    CASES_BY_CLASS,
    CASE_STABILITY,
    CASE_PASS_RATE,
    CASE_LATENCY_P95,
    CONFUSION,
    CLARIFICATION_RATE,
    DISAMBIGUATION_ATTEMPTS,
    CLARIFICATION_OPTIONS_NAMED,
    CASE_CLARIFICATION_OPTIONS_NAMED,
    RELEASE_ACCURACY,
    SKILLS,
    SKILL_CASES,
    SKILL_COVERAGE,
    ATTEMPTS_TOTAL,
    COST_TOTAL,
    WINDOW_COST,
    DAILY_COST,
    DAILY_BUDGET,
    BUDGET_BURN,
    MONTHLY_PROJECTED_COST,
    ATTEMPT_COST_MEAN,
    DAILY_COST_ANOMALY,
    WINDOW_TOKENS,
    TOKENS_TOTAL,
    WINDOW_API_REQUESTS,
    WINDOW_API_RETRIES,
    WINDOW_API_LATENCY,
    API_RETRIES_TOTAL,
    LAST_RUN_INFO,
    LAST_RUN_TIMESTAMP,
    LAST_RUN_DURATION,
    LAST_RUN_WORKERS,
    LAST_RUN_WORKER_UTILIZATION,
    EXPERIMENT_INFO,
    EXPERIMENT_ARM_ACCURACY,
    EXPERIMENT_ARM_ATTEMPTS,
    EXPERIMENT_DIFFERENCE,
    EXPERIMENT_P_VALUE,
    SKILL_CHANGE_EVENTS_TOTAL,
    SKILL_LAST_CHANGE_TIMESTAMP,
    SKILL_INFO,
    SKILL_CHANGE_ACCURACY,
    EXPORTER_SCRAPE_DURATION,
    EXPORTER_STORE_UP,
)
"""Every family the exporter serves, in the order it yields them."""

# --- series that come from elsewhere (listed so queries never spell them by hand) --------------
# The collector's spanmetrics connector (deploy/otel-collector.yaml), as the plan queries them.
SPANMETRICS_CALLS_TOTAL: Final = "traces_spanmetrics_calls_total"
SPANMETRICS_DURATION_BUCKET: Final = "traces_spanmetrics_duration_seconds_bucket"
# The collector's own telemetry (its Prometheus endpoint on :8888).
OTELCOL_EXPORTER_SENT_SPANS_TOTAL: Final = "otelcol_exporter_sent_spans_total"
OTELCOL_EXPORTER_SEND_FAILED_SPANS_TOTAL: Final = "otelcol_exporter_send_failed_spans_total"
OTELCOL_EXPORTER_SEND_FAILED_METRIC_POINTS_TOTAL: Final = (
    "otelcol_exporter_send_failed_metric_points_total"
)
OTELCOL_RECEIVER_REFUSED_SPANS_TOTAL: Final = "otelcol_receiver_refused_spans_total"
OTELCOL_PROCESS_MEMORY_RSS_BYTES: Final = "otelcol_process_memory_rss"

# --- recording rules (`publish/rules.py` defines their expressions; dashboards query them) -----
# The plan's Appendix B names, kept: per-case pass rate over 7 days and the flaky set (here
# the Wilson-interval classification of `routelens flaky`, not the plan's 30-70% band).
RULE_CASE_PASS_RATE_7D: Final = "routing_test:pass_rate_7d"
RULE_FLAKY_CASES: Final = "routing_test:flaky_tests"
# level:metric:operations
RULE_ACCURACY_BY_SKILL_7D: Final = "skill:routelens_accuracy:ratio_7d"
RULE_ACCURACY_BY_CATEGORY_7D: Final = "category:routelens_accuracy:ratio_7d"
RULE_ACCURACY_BY_MODEL_7D: Final = "model:routelens_accuracy:ratio_7d"
RULE_ACCURACY_BY_SKILL_VERSION_7D: Final = "skill_version:routelens_accuracy:ratio_7d"
RULE_ERROR_RATE_1D: Final = ":routelens_errors:ratio_1d"
RULE_RETRY_RATE_1D: Final = "router_model:routelens_api_retries:ratio_1d"
RULE_RATE_LIMITED_RATE_1D: Final = "router_model:routelens_api_rate_limited:ratio_1d"
RULE_SERVER_ERROR_RATE_1D: Final = "router_model:routelens_api_server_errors:ratio_1d"
RULE_API_LATENCY_P50: Final = "window:routelens_api_latency_seconds:p50"
RULE_API_LATENCY_P95: Final = "window:routelens_api_latency_seconds:p95"
RULE_API_LATENCY_P99: Final = "window:routelens_api_latency_seconds:p99"
RULE_COST_RATE_1H: Final = ":routelens_cost_usd:rate1h"
RULE_COST_RATE_BY_MODEL_1H: Final = "model:routelens_cost_usd:rate1h"

# --- alert names (Appendix C's three, then ours) -----------------------------------------------
ALERT_ACCURACY_BELOW_SLO: Final = "RoutingAccuracyBelowSLO"
ALERT_DAILY_COST_EXCEEDED: Final = "DailyCostExceeded"
ALERT_HIGH_RETRY_RATE: Final = "HighAPIRetryRate"
ALERT_ERROR_RATE_ABOVE_SLO: Final = "RoutingErrorRateAboveSLO"
ALERT_HIGH_RATE_LIMITED_RATE: Final = "HighAPIRateLimitedRate"
ALERT_ATTEMPT_COST_SPIKE: Final = "AttemptCostSpike"
ALERT_LOW_WORKER_UTILIZATION: Final = "LowWorkerUtilization"
ALERT_COLLECTOR_EXPORT_FAILURES: Final = "CollectorExportFailures"
ALERT_EXPORTER_STORE_DOWN: Final = "RoutelensStoreUnreadable"
