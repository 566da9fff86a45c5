"""`routing-executive`: is routing good enough, is it getting better, what does it cost."""

from __future__ import annotations

from typing import Final

from routelens.config import RoutelensConfig
from routelens.publish import catalogue as c
from routelens.publish.grafana import panels as p
from routelens.publish.grafana.queries import (
    ALERT_STATE_FIRING,
    ALERTS_LABEL_NAME,
    ALERTS_LABEL_STATE,
    PROMETHEUS_ALERTS,
)

UID: Final = c.DASHBOARD_EXECUTIVE
TITLE: Final = "Routing — Executive Summary"
DAYS_PER_MONTH: Final = 30
# A week-over-week change smaller than this reads as flat (one percentage point).
FLAT_DELTA: Final = 0.01
ROUTELENS_ALERTS: Final = (
    c.ALERT_ACCURACY_BELOW_SLO,
    c.ALERT_DAILY_COST_EXCEEDED,
    c.ALERT_HIGH_RETRY_RATE,
    c.ALERT_ERROR_RATE_ABOVE_SLO,
    c.ALERT_HIGH_RATE_LIMITED_RATE,
    c.ALERT_ATTEMPT_COST_SPIKE,
    c.ALERT_LOW_WORKER_UTILIZATION,
    c.ALERT_COLLECTOR_EXPORT_FAILURES,
    c.ALERT_EXPORTER_STORE_DOWN,
)


def monthly_budget(config: RoutelensConfig) -> float:
    """The monthly budget the projection is measured against: daily budget x 30."""
    return round(config.daily_budget_usd * DAYS_PER_MONTH, 2)


def _accuracy(window: str) -> str:
    return p.series(c.ACCURACY, {c.LABEL_WINDOW: window})


def _accuracy_panels(config: RoutelensConfig) -> list[p.PanelBuilder]:
    week = _accuracy(c.WINDOW_WEEK)
    delta = c.ACCURACY_WEEK_OVER_WEEK_DELTA.name
    accuracy = p.stat_panel("Routing Accuracy (7d)", [p.target(week)], p.UNIT_RATIO, width=6)
    accuracy = accuracy.thresholds(p.slo_thresholds(config.slo)).min(0).max(1)
    status = (
        p.stat_panel(
            "SLO Status", [p.target(f"{week} >= bool {config.slo}")], p.UNIT_COUNT, width=6
        )
        .description(f"Meeting the {config.slo:.0%} accuracy SLO over the last 7 days?")
        .mappings(
            [
                p.value_text("1", f"Meeting SLO ({config.slo:.0%})", p.GREEN),
                p.value_text("0", f"Below SLO ({config.slo:.0%})", p.RED),
            ]
        )
        .thresholds(p.thresholds(p.RED, [(1, p.GREEN)]))
    )
    trend = f"({delta} > bool {FLAT_DELTA}) - ({delta} < bool -{FLAT_DELTA})"
    wow = (
        p.stat_panel(
            "WoW Accuracy Delta",
            [p.target(delta, "delta"), p.target(trend, "trend", ref_id="B")],
            p.UNIT_RATIO,
            width=6,
        )
        .description("Accuracy of the last 7 days minus the 7 days before, with a trend arrow.")
        .thresholds(p.thresholds(p.RED, [(-FLAT_DELTA, p.YELLOW), (FLAT_DELTA, p.GREEN)]))
        .override_by_query(
            "B",
            [
                p.override("unit", "none"),
                p.override(
                    "mappings",
                    [
                        p.value_text("1", "▲", p.GREEN),
                        p.value_text("0", "▶", p.YELLOW),
                        p.value_text("-1", "▼", p.RED),
                    ],
                ),
                p.override(
                    "thresholds",
                    p.thresholds(p.RED, [(0, p.YELLOW), (1, p.GREEN)]).build(),
                ),
            ],
        )
    )
    error_rate = p.stat_panel(
        "Error Rate (1d)",
        [p.target(p.series(c.ERROR_RATE, {c.LABEL_WINDOW: c.WINDOW_DAY}))],
        p.UNIT_RATIO,
        width=6,
    ).thresholds(p.ceiling_thresholds(config.max_error_rate))
    over_time = (
        p.timeseries_panel(
            "Accuracy Over Time",
            [
                p.target(_accuracy(c.WINDOW_DAY), "1 day"),
                p.target(week, "7 days", ref_id="B"),
            ],
            p.UNIT_RATIO,
            width=24,
        )
        .thresholds(p.slo_thresholds(config.slo))
        .min(0)
        .max(1)
    )
    return [accuracy, status, wow, error_rate, over_time]


def _cost_panels(config: RoutelensConfig) -> list[p.PanelBuilder]:
    budget = monthly_budget(config)
    projected = (
        p.gauge_panel(
            "Monthly Projected Cost",
            [p.target(c.MONTHLY_PROJECTED_COST.name)],
            p.UNIT_USD,
            width=8,
        )
        .description(f"This month's spend plus the recent daily average; budget ${budget:,.2f}.")
        .min(0)
        .max(round(budget * 1.5, 2))
        .thresholds(p.ceiling_thresholds(budget))
    )
    burn = p.stat_panel(
        "Budget Burn Today", [p.target(c.BUDGET_BURN.name)], p.UNIT_RATIO, width=8, height=6
    ).thresholds(p.ceiling_thresholds(1.0))
    today = p.stat_panel(
        "Spend Today", [p.target(c.DAILY_COST.name)], p.UNIT_USD, width=8, height=6
    ).thresholds(p.ceiling_thresholds(config.daily_budget_usd))
    return [projected, burn, today]


def _coverage_panels(config: RoutelensConfig) -> list[p.PanelBuilder]:
    releases = (
        p.barchart_panel(
            "Release Comparison",
            p.target(
                c.RELEASE_ACCURACY.name, p.legend(c.LABEL_RELEASE), instant=True, table_format=True
            ),
            c.LABEL_RELEASE,
            p.UNIT_RATIO,
        )
        .thresholds(p.slo_thresholds(config.slo))
        .min(0)
        .max(1)
    )
    coverage = (
        p.gauge_panel(
            "Skill Coverage", [p.target(c.SKILL_COVERAGE.name)], p.UNIT_RATIO, width=6, height=8
        )
        .thresholds(p.thresholds(p.RED, [(0.8, p.YELLOW), (1.0, p.GREEN)]))
        .min(0)
        .max(1)
    )
    uncovered = p.stat_panel(
        "Skills Without Cases",
        [p.target(f"count({c.SKILL_CASES.name} == 0) or vector(0)")],
        p.UNIT_COUNT,
        width=3,
        height=8,
    ).thresholds(p.thresholds(p.GREEN, [(1, p.YELLOW)]))
    skills = p.stat_panel("Skills", [p.target(c.SKILLS.name)], p.UNIT_COUNT, width=3, height=8)
    return [releases, coverage, uncovered, skills]


def _top_issue_panels() -> list[p.PanelBuilder]:
    worst = (
        p.table_panel(
            "Worst Skills (7d)",
            [
                p.target(
                    f"bottomk(5, {c.RULE_ACCURACY_BY_SKILL_7D})", instant=True, table_format=True
                )
            ],
            width=10,
        )
        .unit(p.UNIT_RATIO)
        .transformations([p.hide_time_and_rename({"Value": "Accuracy (7d)"})])
    )
    flaky = p.stat_panel(
        "Flaky Cases",
        [p.target(p.series(c.CASES_BY_CLASS, {c.LABEL_CLASS: p.case_class("flaky")}))],
        p.UNIT_COUNT,
        width=4,
    ).thresholds(p.thresholds(p.GREEN, [(1, p.YELLOW)]))
    broken = p.stat_panel(
        "Broken Cases",
        [p.target(p.series(c.CASES_BY_CLASS, {c.LABEL_CLASS: p.case_class("broken")}))],
        p.UNIT_COUNT,
        width=4,
    ).thresholds(p.thresholds(p.GREEN, [(1, p.RED)]))
    alerts_selector = p.series(
        PROMETHEUS_ALERTS,
        {ALERTS_LABEL_STATE: ALERT_STATE_FIRING},
        {ALERTS_LABEL_NAME: "|".join(ROUTELENS_ALERTS)},
    )
    firing = p.stat_panel(
        "Firing Alerts",
        [p.target(f"count({alerts_selector}) or vector(0)")],
        p.UNIT_COUNT,
        width=6,
    ).thresholds(p.thresholds(p.GREEN, [(1, p.RED)]))
    return [worst, flaky, broken, firing]


def build(config: RoutelensConfig) -> p.Document:
    """The executive dashboard as Grafana JSON."""
    dashboard = p.new_dashboard(
        UID, TITLE, "Routing accuracy against the SLO, its trend, cost against budget, releases."
    )
    dashboard = dashboard.with_row(p.row("Accuracy"))
    for panel in _accuracy_panels(config):
        dashboard = dashboard.with_panel(panel)
    dashboard = dashboard.with_row(p.row("Cost"))
    for cost_panel in _cost_panels(config):
        dashboard = dashboard.with_panel(cost_panel)
    dashboard = dashboard.with_row(p.row("Releases and Coverage"))
    for coverage_panel in _coverage_panels(config):
        dashboard = dashboard.with_panel(coverage_panel)
    dashboard = dashboard.with_row(p.row("Top Issues"))
    for issue_panel in _top_issue_panels():
        dashboard = dashboard.with_panel(issue_panel)
    return p.to_document(dashboard)
