"""Every dashboard query: catalogue names only, a known source, and PromQL that promtool parses."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from routelens.config import RoutelensConfig
from routelens.publish import catalogue as c
from routelens.publish.grafana import panel_queries
from routelens.publish.grafana.queries import (
    SERIES_BY_SOURCE,
    evaluable,
    metric_names,
    source_of,
)
from tests.publish.grafana.helpers import all_panels

PROMTOOL = shutil.which("promtool")


@pytest.fixture(scope="module")
def queries() -> list[Any]:
    return panel_queries(RoutelensConfig())


def test_every_panel_target_is_listed(
    queries: list[Any], documents: dict[str, dict[str, Any]]
) -> None:
    for uid, document in documents.items():
        targets = [t["expr"] for p in all_panels(document) for t in p.get("targets", [])]
        listed = [
            q.expr
            for q in queries
            if q.dashboard_uid == uid and not q.panel_title.startswith(("annotation:", "variable:"))
        ]
        assert listed == targets, uid


def test_annotations_and_variables_are_listed(queries: list[Any]) -> None:
    titles = {(q.dashboard_uid, q.panel_title) for q in queries}
    assert ("routing-skills-ab", "annotation: SKILL.md changes") in titles
    for uid, name in [
        ("routing-skills-ab", "skill"),
        ("routing-qa-engineer", "category"),
        ("routing-sre-ops", "model"),
        ("routing-experiments", "experiment"),
    ]:
        assert (uid, f"variable: {name}") in titles


def test_every_query_uses_catalogue_names_only(queries: list[Any]) -> None:
    known = frozenset().union(*SERIES_BY_SOURCE.values())
    for query in queries:
        used = metric_names(query.expr)
        assert used, query
        assert used <= known, (query, used - known)


def test_sources_are_derived_from_the_names(queries: list[Any]) -> None:
    by_source: dict[str, set[str]] = {}
    for query in queries:
        by_source.setdefault(query.source, set()).add(query.panel_title)
    assert set(by_source) == {"exporter", "spanmetrics", "collector", "live-run"}
    assert "Collector Span Export" in by_source["collector"]
    assert "Live API Latency p95" in by_source["live-run"]
    assert "API Retry Rate" in by_source["exporter"]
    exporter_series = SERIES_BY_SOURCE["exporter"]
    for query in queries:
        if query.source == "exporter":
            assert metric_names(query.expr) <= exporter_series, query


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (
            'sum by (skill) (rate(routelens_attempts_total{model=~"$model"}[5m]))',
            {c.ATTEMPTS_TOTAL.name},
        ),
        (f"{c.RULE_ERROR_RATE_1D} > bool 0.05", {c.RULE_ERROR_RATE_1D}),
        (
            'a_metric / ignoring (window) b_metric{window="1d"} offset 1d',
            {"a_metric", "b_metric"},
        ),
        ('label_replace(x_metric, "dst", "$1", "src", "(.*)")', {"x_metric"}),
        ("histogram_quantile(0.95, sum by (le) (rate(h_bucket[$__rate_interval])))", {"h_bucket"}),
        ("count(up == 0) or vector(0)", {"up"}),
        ("1e3 * ratio_metric", {"ratio_metric"}),
    ],
)
def test_metric_names_finds_the_selected_series(expr: str, expected: set[str]) -> None:
    assert metric_names(expr) == expected


def test_an_unknown_metric_is_an_error() -> None:
    with pytest.raises(ValueError, match="routelens_made_up_ratio"):
        source_of("routelens_made_up_ratio > 0")
    with pytest.raises(ValueError, match="mixes sources"):
        source_of(f"{c.ACCURACY.name} + {c.OTELCOL_PROCESS_MEMORY_RSS_BYTES}")


def test_evaluable_fills_grafana_variables_but_keeps_regex_groups() -> None:
    expr = 'label_replace(rate(m{skill=~"$skill"}[$__rate_interval]), "a", "$1", "b", "(.*)")'
    assert evaluable(expr) == 'label_replace(rate(m{skill=~".*"}[5m]), "a", "$1", "b", "(.*)")'
    assert evaluable('m{model=~"${model}"}') == 'm{model=~".*"}'


@pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian prometheus) not installed")
def test_promtool_parses_every_query(queries: list[Any], tmp_path: Path) -> None:
    """Each query, variables filled in, as a recording rule: `promtool check rules` parses it."""
    rules = [
        {"record": f"routelens_dashboard_check:query_{number}", "expr": query.promql}
        for number, query in enumerate(queries)
    ]
    rule_file = tmp_path / "dashboard-queries.yaml"
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    assert PROMTOOL is not None
    result = subprocess.run(
        [PROMTOOL, "check", "rules", str(rule_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(rules)} rules found" in result.stdout


@pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian prometheus) not installed")
def test_promtool_rejects_a_broken_query(tmp_path: Path) -> None:
    """The parse check can fail: a query with an unbalanced bracket is reported."""
    rule_file = tmp_path / "broken.yaml"
    rule = {"record": "routelens_dashboard_check:broken", "expr": f"sum({c.ACCURACY.name}"}
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": "broken", "rules": [rule]}]}))
    assert PROMTOOL is not None
    result = subprocess.run(
        [PROMTOOL, "check", "rules", str(rule_file)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
