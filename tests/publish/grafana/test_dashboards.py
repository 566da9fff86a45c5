"""Each dashboard: its uid, the panels issue 7 asks for, annotations, and config thresholds."""

from __future__ import annotations

from typing import Any

import pytest

from routelens.config import RoutelensConfig
from routelens.publish import catalogue as c
from routelens.publish.grafana import build_dashboards
from routelens.publish.grafana.skills import CHANGE_ANNOTATION
from tests.publish.grafana.helpers import (
    all_panels,
    exprs,
    panel,
    panels_in_row,
    threshold_values,
)

REQUIRED_PANELS = {
    "routing-executive": [
        "Routing Accuracy (7d)",
        "SLO Status",
        "WoW Accuracy Delta",
        "Monthly Projected Cost",
        "Release Comparison",
        "Skill Coverage",
        "Worst Skills (7d)",
        "Flaky Cases",
        "Firing Alerts",
    ],
    "routing-qa-engineer": [
        "Attempts (7d)",
        "Outcomes (7d)",
        "Flaky Tests",
        "Stability by Case",
        "Clarification Rate (7d)",
        "Disambiguation Attempts by Outcome (7d)",
        "Options Named in Clarifications (7d)",
        "Clarifications Missing Options",
        "Failures by Category (7d)",
        "Confusion Pairs (7d)",
        "Slowest Cases (p95)",
    ],
    "routing-skills-ab": [
        "Change Impact",
        "Before/After Comparison",
        "Accuracy by Skill (7d)",
        "Accuracy by Skills Version (7d)",
        "Confusion Matrix (7d)",
    ],
    "routing-sre-ops": [
        "API Retry Rate",
        "API Latency Percentiles",
        "429 Error Rate",
        "5xx Error Rate",
        "Worker Utilization",
        "Tokens by Type (1d)",
        "Cost Rate (USD/h)",
        "Cost Anomaly Score",
        "Collector Span Export",
    ],
    "routing-experiments": [
        "Arms",
        "Difference with Interval",
        "p-value",
        "Decision",
    ],
}
Documents = dict[str, dict[str, Any]]


def test_the_plan_uids_are_kept(documents: Documents) -> None:
    assert list(documents) == list(REQUIRED_PANELS)
    assert all(document["uid"] == uid for uid, document in documents.items())


@pytest.mark.parametrize("uid", list(REQUIRED_PANELS))
def test_each_dashboard_has_its_required_panels(documents: Documents, uid: str) -> None:
    for title in REQUIRED_PANELS[uid]:
        assert panel(documents[uid], title)["targets"], f"{uid}: {title} has no query"


def test_sre_api_health_row_groups_the_plan_panels(documents: Documents) -> None:
    in_row = panels_in_row(documents["routing-sre-ops"], "API Health")
    assert {"API Retry Rate", "API Latency Percentiles", "429 Error Rate"} <= set(in_row)
    latency = exprs(panel(documents["routing-sre-ops"], "API Latency Percentiles"))
    assert latency == [c.RULE_API_LATENCY_P50, c.RULE_API_LATENCY_P95, c.RULE_API_LATENCY_P99]


def test_qa_disambiguation_row_shows_clarification_and_outcomes(documents: Documents) -> None:
    in_row = panels_in_row(documents["routing-qa-engineer"], "Disambiguation")
    assert "Clarification Rate (7d)" in in_row
    assert "Disambiguation Attempts by Outcome (7d)" in in_row


def test_qa_disambiguation_row_shows_the_options_clarifications_name(
    documents: Documents,
) -> None:
    qa = documents["routing-qa-engineer"]
    in_row = panels_in_row(qa, "Disambiguation")
    assert in_row[-2:] == ["Options Named in Clarifications (7d)", "Clarifications Missing Options"]
    named = panel(qa, "Options Named in Clarifications (7d)")
    assert exprs(named) == [f'{c.CLARIFICATION_OPTIONS_NAMED.name}{{window="7d"}}']
    assert named["fieldConfig"]["defaults"]["unit"] == "percentunit"
    missing = panel(qa, "Clarifications Missing Options")
    (query,) = exprs(missing)
    assert query == f"bottomk(10, {c.CASE_CLARIFICATION_OPTIONS_NAMED.name} < 1)"
    assert missing["targets"][0]["instant"] is True
    # lowest share first, in the column the value is renamed to
    rename = missing["transformations"][0]["options"]["renameByName"]
    assert missing["options"]["sortBy"] == [{"displayName": rename["Value"], "desc": False}]


def test_flaky_tests_table_uses_the_rule_and_stability(documents: Documents) -> None:
    queries = exprs(panel(documents["routing-qa-engineer"], "Flaky Tests"))
    assert queries[0] == c.RULE_FLAKY_CASES
    assert queries[1].startswith(c.CASE_STABILITY.name)


def test_confusion_pairs_drop_the_diagonal(documents: Documents) -> None:
    (query,) = exprs(panel(documents["routing-qa-engineer"], "Confusion Pairs (7d)"))
    assert c.CONFUSION.name in query
    assert f"unless on (window, {c.LABEL_EXPECTED_SKILL}, {c.LABEL_ACTUAL_SKILL})" in query
    assert f'"{c.LABEL_ACTUAL_SKILL}", "$1", "{c.LABEL_EXPECTED_SKILL}"' in query


def test_wow_delta_has_trend_arrows(documents: Documents) -> None:
    wow = panel(documents["routing-executive"], "WoW Accuracy Delta")
    assert [t["refId"] for t in wow["targets"]] == ["A", "B"]
    (override,) = wow["fieldConfig"]["overrides"]
    assert override["matcher"] == {"id": "byFrameRefID", "options": "B"}
    mappings = next(p["value"] for p in override["properties"] if p["id"] == "mappings")
    texts = {v: r["text"] for m in mappings for v, r in m["options"].items()}
    assert texts == {"1": "▲", "0": "▶", "-1": "▼"}


def test_every_skills_time_series_panel_shows_the_change_annotation(
    documents: Documents,
) -> None:
    document = documents["routing-skills-ab"]
    (annotation,) = [a for a in document["annotations"]["list"] if a["name"] == CHANGE_ANNOTATION]
    assert annotation["enable"] is True
    assert annotation["hide"] is False
    assert annotation["useValueForTime"] is True
    assert annotation["expr"].startswith(c.SKILL_LAST_CHANGE_TIMESTAMP.name)
    assert annotation["expr"].endswith("* 1000")  # Grafana reads the value as milliseconds
    series = [p for p in all_panels(document) if p["type"] == "timeseries"]
    assert len(series) >= 3
    panel_filter = annotation.get("filter")
    for time_series in series:
        # no filter shows the annotation on every panel; a filter must not leave one out
        if panel_filter:
            included = time_series["id"] in panel_filter["ids"]
            assert included != panel_filter.get("exclude", False), time_series["title"]


def test_change_impact_shows_before_after_and_hash(documents: Documents) -> None:
    impact = panel(documents["routing-skills-ab"], "Change Impact")
    queries = exprs(impact)
    assert any(f'{c.LABEL_SIDE}="{c.SIDE_BEFORE}"' in q for q in queries)
    assert any(f'{c.LABEL_SIDE}="{c.SIDE_AFTER}"' in q for q in queries)
    assert any(q.startswith(c.SKILL_INFO.name) for q in queries)
    renames = impact["transformations"][1]["options"]["renameByName"]
    assert {"Before", "After", "Change", "SKILL.md hash"} <= set(renames.values())


def test_panel_ids_are_unique_and_grid_fits(documents: Documents) -> None:
    for uid, document in documents.items():
        panels = all_panels(document)
        ids = [p["id"] for p in panels]
        assert len(ids) == len(set(ids)), uid
        for item in panels:
            grid = item["gridPos"]
            assert grid["x"] >= 0, (uid, item["title"])
            assert grid["x"] + grid["w"] <= 24, (uid, item["title"])


def _cells(document: dict[str, Any]) -> set[tuple[int, int]]:
    cells: set[tuple[int, int]] = set()
    for item in all_panels(document):
        grid = item["gridPos"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{document['uid']}: {item['title']} overlaps"
                cells.add((x, y))
    return cells


def test_panels_do_not_overlap(documents: Documents) -> None:
    for document in documents.values():
        assert _cells(document)


@pytest.mark.parametrize("slo", [0.8, 0.9, 0.95])
def test_slo_flows_into_thresholds_and_the_status_query(slo: float) -> None:
    documents = build_dashboards(RoutelensConfig(slo=slo))
    executive = documents["routing-executive"]
    assert threshold_values(panel(executive, "Routing Accuracy (7d)")) == [None, slo]
    assert threshold_values(panel(executive, "Accuracy Over Time")) == [None, slo]
    assert exprs(panel(executive, "SLO Status"))[0].endswith(f">= bool {slo}")
    qa = documents["routing-qa-engineer"]
    assert threshold_values(panel(qa, "Accuracy (7d)")) == [None, slo]
    skills = documents["routing-skills-ab"]
    assert threshold_values(panel(skills, "Accuracy by Skill (7d)")) == [None, slo]


@pytest.mark.parametrize("daily_budget", [10.0, 25.0, 100.0])
def test_daily_budget_flows_into_cost_thresholds(daily_budget: float) -> None:
    documents = build_dashboards(RoutelensConfig(daily_budget_usd=daily_budget))
    projected = panel(documents["routing-executive"], "Monthly Projected Cost")
    assert threshold_values(projected)[-1] == daily_budget * 30
    assert projected["fieldConfig"]["defaults"]["max"] == daily_budget * 30 * 1.5
    daily = panel(documents["routing-sre-ops"], "Daily Cost vs Budget")
    assert threshold_values(daily)[-1] == daily_budget


def test_error_rate_slo_flows_into_thresholds() -> None:
    documents = build_dashboards(RoutelensConfig(max_error_rate=0.02))
    error_rate = panel(documents["routing-executive"], "Error Rate (1d)")
    assert threshold_values(error_rate)[-1] == 0.02


def test_p_value_threshold_is_the_experiments_alpha(documents: Documents) -> None:
    from routelens.experiments.analysis import ALPHA

    p_value = panel(documents["routing-experiments"], "p-value")
    assert threshold_values(p_value) == [None, ALPHA]
