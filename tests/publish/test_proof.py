"""Proof against a real Prometheus: every generated rule and panel query parses and has data.

A store is filled by real runs (tests/publish/history.py), the exporter serves it, Debian's
Prometheus scrapes it every second with the generated recording and alerting rules loaded
(their groups' intervals shortened to one second), and each expression is evaluated over the
HTTP API. Expressions over exporter series must return at least one sample that is a number;
those over series only a collector or a live run provides (span metrics, `otelcol_*`,
`routing_test_*`) must parse and are listed in the test ids as such.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from routelens.config import RoutelensConfig
from routelens.publish.exporter import RunningExporter, StoreCollector, start_exporter
from routelens.publish.grafana import PanelQuery, panel_queries
from routelens.publish.rules import RuleExpression, rule_expressions, write_rule_files
from tests.conftest import SMALL_CASES, SMALL_SKILLS, write_skill
from tests.fakes.api_server import FakeApiServer
from tests.publish.history import build_history
from tests.publish.prometheus_server import PROMETHEUS_BINARY, PrometheusServer

pytestmark = pytest.mark.skipif(
    PROMETHEUS_BINARY is None, reason="needs Debian's prometheus (installed by .ci/run)"
)

COMPARISON = re.compile(r" (==|!=|<=|>=|<|>) ")
CONFIG = RoutelensConfig()
RULES = rule_expressions(CONFIG)
PANELS = panel_queries(CONFIG)


def _rule_id(rule: RuleExpression) -> str:
    return f"{rule.name}{' [collector: parse only]' if rule.needs_collector else ''}"


def _panel_id(query: PanelQuery) -> str:
    suffix = "" if query.source == "exporter" else f" [{query.source}: parse only]"
    return f"{query.dashboard_uid}/{query.panel_title}{suffix}"


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """Prometheus scraping an exporter over a store with a real history, rules loaded."""
    workdir = tmp_path_factory.mktemp("proof")
    skills = workdir / "small-skills"
    for folder, (name, description) in SMALL_SKILLS.items():
        write_skill(skills, folder, name, description)
    cases = workdir / "small-cases.yaml"
    cases.write_text(SMALL_CASES, encoding="utf-8")
    with FakeApiServer() as api:
        store = build_history(workdir, api, skills, cases)
    rule_files = [_every_second(path) for path in write_rule_files(workdir / "rules", CONFIG)]
    exporter: RunningExporter = start_exporter(
        StoreCollector(store, CONFIG, cache_seconds=0), host="127.0.0.1", port=0
    )
    try:
        target = f"127.0.0.1:{exporter.port}"
        with PrometheusServer(workdir, targets=[target], rule_files=rule_files) as server:
            server.wait_for_scrapes(3)
            server.wait_for_rules()
            yield server
    finally:
        exporter.stop()


def _every_second(path: Path) -> Path:
    document = yaml.safe_load(path.read_text())
    for group in document["groups"]:
        group["interval"] = "1s"
    fast = path.with_name(f"fast-{path.name}")
    fast.write_text(yaml.safe_dump(document))
    return fast


def _as_bool_comparison(expr: str) -> str:
    flattened = " ".join(expr.split())
    compared, count = COMPARISON.subn(r" \1 bool ", flattened, count=1)
    assert count == 1, f"no comparison in alert expression {expr}"
    return compared


def _assert_has_numbers(prometheus: PrometheusServer, expr: str) -> None:
    samples = prometheus.query(expr)
    assert samples, f"no data for {expr}"
    assert any(not math.isnan(sample.value) for sample in samples), f"only NaN for {expr}"


def test_there_is_something_to_prove() -> None:
    assert len([rule for rule in RULES if not rule.needs_collector]) >= 20
    assert len([query for query in PANELS if query.source == "exporter"]) >= 40
    assert {query.dashboard_uid for query in PANELS} == {
        "routing-executive",
        "routing-qa-engineer",
        "routing-skills-ab",
        "routing-sre-ops",
        "routing-experiments",
    }


@pytest.mark.parametrize("rule", RULES, ids=_rule_id)
def test_every_rule_expression_evaluates(
    prometheus: PrometheusServer, rule: RuleExpression
) -> None:
    if rule.needs_collector:
        prometheus.query(rule.expr)  # raises PromQLError unless it parses
        return
    if rule.group.endswith("alerts"):
        # An alert's expression is empty while its condition is false; with `bool` its
        # comparison yields 0 or 1 for every series compared, so those must have data.
        _assert_has_numbers(prometheus, _as_bool_comparison(rule.expr))
        return
    _assert_has_numbers(prometheus, rule.expr)


@pytest.mark.parametrize("query", PANELS, ids=_panel_id)
def test_every_dashboard_query_evaluates(prometheus: PrometheusServer, query: PanelQuery) -> None:
    if query.source != "exporter":
        prometheus.query(query.promql)  # raises PromQLError unless it parses
        return
    _assert_has_numbers(prometheus, query.promql)


def test_recorded_series_exist_for_every_recording_rule(prometheus: PrometheusServer) -> None:
    recorded = [rule.name for rule in RULES if rule.group.endswith("recording")]
    assert recorded
    for name in recorded:
        _assert_has_numbers(prometheus, name)


def test_the_accuracy_alert_is_pending_on_a_history_below_the_slo(
    prometheus: PrometheusServer,
) -> None:
    accuracy = prometheus.query('routelens_accuracy_ratio{window="1d"}')
    assert accuracy
    assert accuracy[0].value < CONFIG.slo
    alerts = prometheus.query('ALERTS{alertname="RoutingAccuracyBelowSLO"}')
    assert {sample.labels["alertstate"] for sample in alerts} <= {"pending", "firing"}
    assert alerts
