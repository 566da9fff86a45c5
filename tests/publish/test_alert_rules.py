"""Generated alerting rules under `promtool test rules`: each alert fires after its `for` with
the right labels and annotations, stays silent at its threshold, and follows the config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from routelens.config import AlertSettings, RoutelensConfig
from routelens.publish import catalogue as c
from routelens.publish.rules import (
    ALERTING_GROUP,
    ALERTING_RULES_FILE,
    render_rule_files,
    rule_expressions,
)
from tests.publish.promtool_harness import (
    EXPORTER,
    alert_test,
    annotations,
    attempts,
    promtool_test_rules,
    requires_promtool,
    series,
)

# --- alerting rules ------------------------------------------------------------------------------


def alert_group(
    alert: str,
    input_series: list[dict[str, str]],
    quiet_at: str,
    firing_at: str,
    *firing: tuple[dict[str, str], dict[str, str]],
) -> dict[str, Any]:
    """Nothing fires at `quiet_at` (still pending); exactly `firing` at `firing_at`."""
    # the exporter's job and instance labels, unless the case drops one ("" = aggregated away)
    labelled = [
        ({k: v for k, v in {**EXPORTER, **labels}.items() if v}, notes) for labels, notes in firing
    ]
    return {
        "interval": "1m",
        "input_series": input_series,
        "alert_rule_test": [
            alert_test(alert, quiet_at),
            alert_test(alert, firing_at, *labelled),
        ],
    }


def retries(count: int, router: str, error_kind: str) -> dict[str, str]:
    return series(
        c.WINDOW_API_RETRIES.name,
        f"{count}x40",
        window="1d",
        router=router,
        model="m",
        error_kind=error_kind,
    )


def requests(count: int, router: str) -> dict[str, str]:
    return series(c.WINDOW_API_REQUESTS.name, f"{count}x40", window="1d", router=router, model="m")


def outcome_1d(count: int, outcome: str) -> dict[str, str]:
    return attempts(count, "1d", "deploy", "v1", "direct", "m", outcome) | {"values": f"{count}x40"}


ALERT_GROUPS = [
    alert_group(
        c.ALERT_ACCURACY_BELOW_SLO,
        [
            series(c.ACCURACY.name, "0.8x40", window="1d"),
            series(c.ACCURACY.name, "0.85x40", window="1d", instance="at-slo"),  # not below
            series(c.ACCURACY.name, "0.5x40", window="7d"),  # the 7-day window is not alerted on
        ],
        "9m",
        "11m",
        (
            {"severity": "critical", "window": "1d"},
            annotations(
                c.ALERT_ACCURACY_BELOW_SLO,
                "Routing accuracy 80% is below the 85% SLO",
                "Over the last day 80% of decided routing attempts picked the expected skill; "
                "the SLO (config `slo`) is 85%. Look at `routelens confusion --window 1d`, "
                "`routelens flaky` and recent SKILL.md changes.",
            ),
        ),
    ),
    alert_group(
        c.ALERT_DAILY_COST_EXCEEDED,
        [
            series(c.DAILY_COST.name, "25.5x40"),
            series(c.DAILY_COST.name, "25x40", instance="at-budget"),
        ],
        "4m",
        "6m",
        (
            {"severity": "critical"},
            annotations(
                c.ALERT_DAILY_COST_EXCEEDED,
                "Routing-test spend today is over the $25.00 daily budget",
                "Spend so far today (UTC) is $25.50, over the $25.00 budget (config "
                "`daily_budget_usd`). See `routelens cost --window 1d` for the runs and models "
                "that spent it.",
            ),
        ),
    ),
    alert_group(
        c.ALERT_HIGH_RETRY_RATE,
        [
            requests(100, "anthropic"),
            retries(8, "anthropic", "rate_limited"),
            retries(3, "anthropic", "timeout"),
            requests(100, "openai"),
            retries(10, "openai", "server_error"),  # exactly 0.1: not above
        ],
        "4m",
        "7m",
        (
            {"severity": "warning", "router": "anthropic", "model": "m", "job": "", "instance": ""},
            annotations(
                c.ALERT_HIGH_RETRY_RATE,
                "High API retry rate on anthropic / m",
                "anthropic / m needed 0.11 retries per API request over the last day "
                "(threshold 0.1, config `alerts.retry_rate`).",
            ),
        ),
    ),
    alert_group(
        c.ALERT_ERROR_RATE_ABOVE_SLO,
        [outcome_1d(85, "pass"), outcome_1d(4, "fail"), outcome_1d(11, "error")],
        "9m",
        "12m",
        (
            {"severity": "warning", "job": "", "instance": ""},
            annotations(
                c.ALERT_ERROR_RATE_ABOVE_SLO,
                "Routing attempts end in errors above the 10% limit",
                "11% of the last day's attempts ended in an error (router failure or timeout, "
                "not a wrong skill); the limit is 10% (config `max_error_rate`).",
            ),
        ),
    ),
    alert_group(
        c.ALERT_ERROR_RATE_ABOVE_SLO,
        [outcome_1d(90, "pass"), outcome_1d(5, "fail"), outcome_1d(5, "error")],  # exactly 5%
        "9m",
        "12m",
    ),
    alert_group(
        c.ALERT_HIGH_RATE_LIMITED_RATE,
        [
            requests(100, "anthropic"),
            retries(6, "anthropic", "rate_limited"),
            requests(100, "openai"),
            retries(5, "openai", "rate_limited"),  # exactly 5%
            retries(30, "openai", "server_error"),  # many retries, but not 429s
        ],
        "4m",
        "7m",
        (
            {"severity": "warning", "router": "anthropic", "model": "m", "job": "", "instance": ""},
            annotations(
                c.ALERT_HIGH_RATE_LIMITED_RATE,
                "API rate limiting (429) on anthropic / m",
                "anthropic / m was rate limited on 6% of its API requests over the last day "
                "(threshold 5%, config `alerts.rate_limited_rate`). Lower `concurrency` or ask "
                "for a higher limit.",
            ),
        ),
    ),
    alert_group(
        c.ALERT_ATTEMPT_COST_SPIKE,
        [
            series(c.ATTEMPT_COST_MEAN.name, "0.5x40", window="1d"),
            series(c.ATTEMPT_COST_MEAN.name, "0.2x40", window="7d"),
            series(c.ATTEMPT_COST_MEAN.name, "0.4x40", window="1d", instance="twice"),
            series(c.ATTEMPT_COST_MEAN.name, "0.2x40", window="7d", instance="twice"),
        ],
        "14m",
        "16m",
        (
            {"severity": "warning"},  # the comparison ignores (drops) the window label
            annotations(
                c.ALERT_ATTEMPT_COST_SPIKE,
                "Routing attempts cost more than usual",
                "One attempt cost $0.5000 on average over the last day, more than 2x the "
                "7-day average (config `alerts.cost_spike_factor`): a longer prompt, more "
                "skills or a pricier model?",
            ),
        ),
    ),
    alert_group(
        c.ALERT_LOW_WORKER_UTILIZATION,
        [
            series(c.LAST_RUN_WORKER_UTILIZATION.name, "0.25x40"),
            series(c.LAST_RUN_WORKER_UTILIZATION.name, "0.5x40", instance="half-busy"),
        ],
        "29m",
        "31m",
        (
            {"severity": "info"},
            annotations(
                c.ALERT_LOW_WORKER_UTILIZATION,
                "The last run kept its workers busy only 25% of the time",
                "Workers of the most recent run were idle most of the time (threshold 50%, "
                "config `alerts.min_worker_utilization`): rate limiting or too many workers "
                "for the suite.",
            ),
        ),
    ),
    alert_group(
        c.ALERT_COLLECTOR_EXPORT_FAILURES,
        [
            series(c.OTELCOL_EXPORTER_SEND_FAILED_SPANS_TOTAL, "0+1x40", exporter="otlp/tempo"),
            series(
                c.OTELCOL_EXPORTER_SEND_FAILED_METRIC_POINTS_TOTAL,
                "0+2x40",
                exporter="prometheusremotewrite",
            ),
            series(c.OTELCOL_EXPORTER_SEND_FAILED_SPANS_TOTAL, "7x40", exporter="otlp/healthy"),
        ],
        "4m",
        "30m",
        (
            {"severity": "warning", "exporter": "otlp/tempo", "job": ""},
            annotations(
                c.ALERT_COLLECTOR_EXPORT_FAILURES,
                "OpenTelemetry collector exporter otlp/tempo is failing to send",
                "Collector exporter:9464 failed to send 15 spans or metric points through "
                "exporter otlp/tempo in the last 15 minutes: routing telemetry is being lost.",
            ),
        ),
        (
            {"severity": "warning", "exporter": "prometheusremotewrite", "job": ""},
            annotations(
                c.ALERT_COLLECTOR_EXPORT_FAILURES,
                "OpenTelemetry collector exporter prometheusremotewrite is failing to send",
                "Collector exporter:9464 failed to send 30 spans or metric points through "
                "exporter prometheusremotewrite in the last 15 minutes: routing telemetry is "
                "being lost.",
            ),
        ),
    ),
    alert_group(
        c.ALERT_EXPORTER_STORE_DOWN,
        [
            series(c.EXPORTER_STORE_UP.name, "0x40"),
            series(c.EXPORTER_STORE_UP.name, "1x40", instance="healthy"),
        ],
        "4m",
        "6m",
        (
            {"severity": "critical"},
            annotations(
                c.ALERT_EXPORTER_STORE_DOWN,
                "The routelens exporter cannot read its store",
                "exporter:9464 reports the store unreadable (value 0): every routelens metric "
                "is missing, so the other routing alerts cannot fire.",
            ),
        ),
    ),
]


@requires_promtool
@pytest.mark.parametrize(
    "group",
    ALERT_GROUPS,
    ids=[f"{g['alert_rule_test'][0]['alertname']}-{i}" for i, g in enumerate(ALERT_GROUPS)],
)
def test_each_alert_fires_after_its_for_duration_above_threshold_only(
    tmp_path: Path, group: dict[str, Any]
) -> None:
    promtool_test_rules(tmp_path, RoutelensConfig(), [group])


def test_every_alert_of_the_catalogue_is_unit_tested() -> None:
    tested = {group["alert_rule_test"][0]["alertname"] for group in ALERT_GROUPS}
    alert_names = {e.name for e in rule_expressions(RoutelensConfig()) if e.group == ALERTING_GROUP}
    catalogue_alerts = {value for key, value in vars(c).items() if key.startswith("ALERT_")}
    assert tested == alert_names == catalogue_alerts


CUSTOM = RoutelensConfig(
    slo=0.9,
    daily_budget_usd=10.0,
    max_error_rate=0.2,
    alerts=AlertSettings(
        retry_rate=0.2,
        rate_limited_rate=0.02,
        cost_spike_factor=3.0,
        min_worker_utilization=0.3,
        store_unreadable_for="45m",
    ),
)
BETWEEN_THRESHOLDS = [
    series(c.ACCURACY.name, "0.87x50", window="1d"),
    series(c.DAILY_COST.name, "20x50"),
    requests(100, "anthropic") | {"values": "100x50"},
    retries(15, "anthropic", "timeout") | {"values": "15x50"},
    requests(100, "openai") | {"values": "100x50"},
    retries(3, "openai", "rate_limited") | {"values": "3x50"},
    outcome_1d(85, "pass") | {"values": "85x50"},
    outcome_1d(15, "error") | {"values": "15x50"},
    series(c.ATTEMPT_COST_MEAN.name, "0.5x50", window="1d"),
    series(c.ATTEMPT_COST_MEAN.name, "0.2x50", window="7d"),
    series(c.LAST_RUN_WORKER_UTILIZATION.name, "0.4x50"),
    series(c.EXPORTER_STORE_UP.name, "0x50"),
]
"""Each value lies between the default threshold and CUSTOM's, so every alert flips."""


@requires_promtool
@pytest.mark.parametrize(
    ("config", "firing"),
    [
        (
            RoutelensConfig(),
            [
                c.ALERT_HIGH_RETRY_RATE,
                c.ALERT_ERROR_RATE_ABOVE_SLO,
                c.ALERT_ATTEMPT_COST_SPIKE,
                c.ALERT_LOW_WORKER_UTILIZATION,
                c.ALERT_EXPORTER_STORE_DOWN,
            ],
        ),
        (
            CUSTOM,
            [
                c.ALERT_ACCURACY_BELOW_SLO,
                c.ALERT_DAILY_COST_EXCEEDED,
                c.ALERT_HIGH_RATE_LIMITED_RATE,
            ],
        ),
    ],
    ids=["defaults", "custom"],
)
def test_config_thresholds_and_durations_decide_which_alerts_fire(
    tmp_path: Path, config: RoutelensConfig, firing: list[str]
) -> None:
    firing_test = {
        "expr": 'count by (alertname) (ALERTS{alertstate="firing"})',
        "eval_time": "40m",
        "exp_samples": [{"labels": f'{{alertname="{name}"}}', "value": 1} for name in firing],
    }
    group = {
        "interval": "1m",
        "input_series": BETWEEN_THRESHOLDS,
        "promql_expr_test": [firing_test],
    }
    promtool_test_rules(tmp_path, config, [group])


def test_thresholds_from_the_config_appear_in_the_expressions() -> None:
    expressions = {e.name: e.expr for e in rule_expressions(CUSTOM)}
    assert expressions[c.ALERT_ACCURACY_BELOW_SLO].endswith("< 0.9")
    assert expressions[c.ALERT_DAILY_COST_EXCEEDED].endswith("> 10.0")
    assert expressions[c.ALERT_HIGH_RETRY_RATE].endswith("> 0.2")
    assert "3.0 * " in expressions[c.ALERT_ATTEMPT_COST_SPIKE]
    alerts = yaml.safe_load(render_rule_files(CUSTOM)[ALERTING_RULES_FILE])["groups"][0]["rules"]
    store_alert = next(rule for rule in alerts if rule["alert"] == c.ALERT_EXPORTER_STORE_DOWN)
    assert store_alert["for"] == "45m"
    assert (
        "90% SLO"
        in next(r for r in alerts if r["alert"] == c.ALERT_ACCURACY_BELOW_SLO)["annotations"][
            "summary"
        ]
    )
