"""deploy/otel-collector.yaml: every component wired, and the names the plan's queries need.

No collector binary is installed here, so the file is checked as data: what a collector would
reject at start (an undefined or unused component) and what the dashboards rely on.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from routelens.telemetry import names

CONFIG = Path(__file__).parents[2] / "deploy" / "otel-collector.yaml"
GO_DURATION = re.compile(r"^(?P<value>\d+(?:\.\d+)?)(?P<unit>ms|us|s|m)$")
SECONDS_PER = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    loaded = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def component_type(component_id: str) -> str:
    """`otlp/tempo` → `otlp` (the part before the slash names the component type)."""
    return component_id.split("/", 1)[0]


def test_every_referenced_component_is_defined_and_every_defined_one_is_used(
    config: dict[str, Any],
) -> None:
    pipelines = config["service"]["pipelines"]
    connectors = set(config.get("connectors", {}))
    defined = {kind: set(config.get(kind, {})) for kind in ("receivers", "processors", "exporters")}
    used: dict[str, set[str]] = {kind: set() for kind in defined}
    connectors_as_exporter: set[str] = set()
    connectors_as_receiver: set[str] = set()
    for pipeline_id, pipeline in pipelines.items():
        assert component_type(pipeline_id) in {"traces", "metrics", "logs"}, pipeline_id
        assert pipeline.get("receivers"), pipeline_id
        assert pipeline.get("exporters"), pipeline_id
        for kind in ("receivers", "processors", "exporters"):
            for component in pipeline.get(kind, []):
                if kind != "processors" and component in connectors:
                    target = (
                        connectors_as_receiver if kind == "receivers" else connectors_as_exporter
                    )
                    target.add(component)
                    continue
                assert component in defined[kind], f"{pipeline_id}: undefined {component}"
                used[kind].add(component)
    assert used == defined
    # a connector joins two pipelines: it must end one and start another
    assert connectors == connectors_as_exporter == connectors_as_receiver


def test_spanmetrics_feeds_prometheus_and_traces_go_to_tempo(config: dict[str, Any]) -> None:
    pipelines = config["service"]["pipelines"]
    assert pipelines["traces"]["receivers"] == ["otlp"]
    assert set(pipelines["traces"]["exporters"]) == {"spanmetrics", "otlp/tempo"}
    assert set(pipelines["metrics"]["receivers"]) == {"otlp", "spanmetrics"}
    assert pipelines["metrics"]["exporters"] == ["prometheus"]
    protocols = config["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"].endswith(":4317")
    assert protocols["http"]["endpoint"].endswith(":4318")
    assert config["exporters"]["otlp/tempo"]["endpoint"] == "tempo:4317"
    assert config["exporters"]["otlp/tempo"]["tls"]["insecure"] is True
    prometheus = config["exporters"]["prometheus"]
    assert prometheus["endpoint"] == "0.0.0.0:8889"
    assert not prometheus.get("namespace")


def test_span_metric_names_match_the_plans_queries(config: dict[str, Any]) -> None:
    spanmetrics = config["connectors"]["spanmetrics"]
    # `<namespace>.calls` → `traces_spanmetrics_calls_total` once dots become underscores
    prometheus_prefix = spanmetrics["namespace"].replace(".", "_")
    assert f"{prometheus_prefix}_calls_total" == "traces_spanmetrics_calls_total"
    assert spanmetrics["histogram"]["unit"] == "s"
    statements = config["processors"]["transform/service_label"]["metric_statements"]
    assert any(
        'set(attributes["service"], resource.attributes["service.name"])' in statement
        for block in statements
        for statement in block["statements"]
    )


def test_dimensions_are_the_bounded_ones_the_dashboards_use(config: dict[str, Any]) -> None:
    spanmetrics = config["connectors"]["spanmetrics"]
    dimensions = [dimension["name"] for dimension in spanmetrics["dimensions"]]
    assert len(dimensions) == len(set(dimensions))
    assert set(dimensions) >= {
        names.TEST_CATEGORY,
        names.TEST_EXPECTED_SKILL,
        names.TEST_ACTUAL_SKILL,
        names.TEST_RESULT,
        names.TEST_ROUTING_CORRECT,
        names.CLAUDE_MODEL,
        names.ERROR_TYPE,
        names.WORKER_ID,
    }
    unbounded = {
        names.TEST_ID,  # span.name already carries it
        names.RUN_ID,
        names.TEST_INPUT,
        names.TEST_INPUT_HASH,
        names.TEST_DURATION_MS,
        names.TEST_COST_USD,
        names.VCS_COMMIT_SHA,
        names.VCS_REF_HEAD_REVISION,
    }
    assert not unbounded & set(dimensions)
    # the default dimensions may not be repeated (the connector refuses duplicates)
    assert not {"service.name", "span.name", "span.kind", "status.code"} & set(dimensions)
    assert names.SERVICE_NAME in spanmetrics["resource_metrics_key_attributes"]


def test_duration_buckets_are_routelens_attempt_buckets(config: dict[str, Any]) -> None:
    buckets = config["connectors"]["spanmetrics"]["histogram"]["explicit"]["buckets"]
    seconds = []
    for bucket in buckets:
        match = GO_DURATION.match(bucket)
        assert match, bucket
        seconds.append(float(match["value"]) * SECONDS_PER[match["unit"]])
    assert seconds == pytest.approx(list(names.DURATION_BUCKETS))
