"""Metric names, units, labels and bucket boundaries, read back from an in-memory reader."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader

from routelens.routers.base import RetryEvent
from routelens.store.records import Verdict
from routelens.telemetry import names
from routelens.telemetry.metrics import RoutingMetrics
from tests.factories import make_attempt, make_run


def _collect(router: str, attempts: list[Any]) -> dict[str, Any]:
    reader = InMemoryMetricReader()
    metrics = RoutingMetrics(
        MeterProvider(metric_readers=[reader]), make_run(router=router, model="claude-sonnet-4-6")
    )
    for attempt in attempts:
        metrics.record(attempt)
    data = reader.get_metrics_data()
    assert data is not None
    return {
        m.name: m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
    }


ATTEMPTS = [
    make_attempt(
        "a",
        expected="jira-issue",
        input_tokens=100,
        output_tokens=10,
        cache_read_tokens=1000,
        cost_usd=0.002,
        latency_s=0.7,
        retries=2,
        retry_log=(RetryEvent("rate_limit_error", 429, 1.0), RetryEvent("api_error", 500, 0.3)),
        response_model="claude-sonnet-4-6",
    ),
    make_attempt("b", Verdict.FAIL, expected="jira-issue", actual="jira-search", latency_s=0.5),
    make_attempt(
        "c",
        Verdict.ERROR,
        expected=None,
        actual=None,
        error_type="overloaded_error",
        http_status=529,
        latency_s=2.0,
    ),
    make_attempt("d", expected=None, actual=None, asked_clarification=True),
]


def _points(metric: Any) -> list[Any]:
    return list(metric.data.data_points)


def test_names_and_units_are_the_dashboards() -> None:
    metrics = _collect("anthropic", ATTEMPTS)
    assert set(metrics) == {
        "routing_test",
        "routing_test_duration",
        "routing_test_cost_usd",
        "routing_test_retries",
        "routing_test_api_latency",
        "routing_test_api_errors",
        "routing_test_tokens",
        "routing_test_accuracy_ratio",
        "gen_ai.client.token.usage",
        "gen_ai.client.operation.duration",
    }
    units = {name: metric.unit for name, metric in metrics.items()}
    assert units["routing_test_duration"] == "s"
    assert units["routing_test_api_latency"] == "s"
    assert units["gen_ai.client.token.usage"] == "{token}"
    assert units["gen_ai.client.operation.duration"] == "s"


def test_outcome_counter_labels_are_bounded_and_meaningful() -> None:
    metrics = _collect("anthropic", ATTEMPTS)
    by_case = {}
    for point in _points(metrics["routing_test"]):
        labels = dict(point.attributes)
        assert "case_id" not in labels
        assert "input" not in labels
        by_case[(labels["result"], labels["actual_skill"])] = labels
    assert by_case[("pass", "jira-issue")]["routing_correct"] == "true"
    assert by_case[("fail", "jira-search")]["routing_correct"] == "false"
    assert by_case[("error", "none")]["error_type"] == "overloaded_error"
    clarified = by_case[("pass", "clarified")]
    assert clarified["expected_skill"] == "none"
    assert clarified["routing_correct"] == "true"
    assert {labels["model"] for labels in by_case.values()} == {"claude-sonnet-4-6"}


def test_retries_api_errors_tokens_and_accuracy() -> None:
    metrics = _collect("anthropic", ATTEMPTS)
    (retries,) = _points(metrics["routing_test_retries"])
    assert retries.value == 2
    errors = {
        (dict(p.attributes)["error_type"], dict(p.attributes)["status"]): p.value
        for p in _points(metrics["routing_test_api_errors"])
    }
    assert errors == {
        ("rate_limit_error", "429"): 1,
        ("api_error", "500"): 1,
        ("overloaded_error", "529"): 1,
    }
    tokens = {
        dict(p.attributes)["token_type"]: p.value for p in _points(metrics["routing_test_tokens"])
    }
    assert tokens == {"input": 100, "output": 10, "cache_read": 1000}
    (accuracy,) = _points(metrics["routing_test_accuracy_ratio"])
    assert accuracy.value == 2 / 3  # pass, fail, pass; the error is not decided


def test_histograms_use_the_conventions_bucket_boundaries() -> None:
    metrics = _collect("anthropic", ATTEMPTS)
    token_points = _points(metrics["gen_ai.client.token.usage"])
    assert all(isinstance(p, HistogramDataPoint) for p in token_points)
    assert tuple(token_points[0].explicit_bounds) == names.GEN_AI_TOKEN_USAGE_BUCKETS
    by_type: dict[str, float] = {}
    for point in token_points:
        token_type = dict(point.attributes)["gen_ai.token.type"]
        by_type[token_type] = by_type.get(token_type, 0) + point.sum
    assert by_type["input"] == 1100  # attempt a: 100 + 1000 cached; the others used none
    assert by_type["output"] == 10
    duration = _points(metrics["gen_ai.client.operation.duration"])
    assert tuple(duration[0].explicit_bounds) == names.GEN_AI_DURATION_BUCKETS
    assert any(dict(p.attributes).get("error.type") == "overloaded_error" for p in duration)
    cost = _points(metrics["routing_test_cost_usd"])
    assert tuple(cost[0].explicit_bounds) == names.COST_BUCKETS
    assert sum(p.sum for p in cost) == 0.002


def test_the_local_router_emits_no_genai_metrics() -> None:
    metrics = _collect("local", ATTEMPTS[1:2])
    assert "gen_ai.client.token.usage" not in metrics
    assert "gen_ai.client.operation.duration" not in metrics
