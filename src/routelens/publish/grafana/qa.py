"""`routing-qa-engineer`: which cases fail, which flip, which get confused and which are slow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from grafana_foundation_sdk.builders import common

from routelens.config import RoutelensConfig
from routelens.publish import catalogue as c
from routelens.publish.grafana import panels as p

UID: Final = c.DASHBOARD_QA
TITLE: Final = "Routing — QA Engineer"
CATEGORY_VARIABLE: Final = "category"
TOP_CASES: Final = 10
# A stability score (0-100) under 50 means a coin flip is not ruled out; 80+ is predictable.
STABILITY_STEPS: Final = ((50.0, p.YELLOW), (80.0, p.GREEN))
# Share of a case's options its clarifying questions name: under half leaves the user guessing.
OPTIONS_NAMED_STEPS: Final = ((0.5, p.YELLOW), (1.0, p.GREEN))
OPTIONS_NAMED_COLUMN: Final = "Options named (7d)"


def _attempts(window: str, labels: Mapping[str, str] | None = None) -> str:
    return p.series(
        c.WINDOW_ATTEMPTS,
        {c.LABEL_WINDOW: window, **(labels or {})},
        {c.LABEL_CATEGORY: p.variable(CATEGORY_VARIABLE)},
    )


def _summary_panels(config: RoutelensConfig) -> list[p.PanelBuilder]:
    week = c.WINDOW_WEEK
    attempts = p.stat_panel("Attempts (7d)", [p.target(f"sum({_attempts(week)})")], p.UNIT_COUNT)
    outcomes = p.stat_panel(
        "Outcomes (7d)",
        [p.target(f"sum {p.by(c.LABEL_OUTCOME)} ({_attempts(week)})", p.legend(c.LABEL_OUTCOME))],
        p.UNIT_COUNT,
        width=6,
    )
    accuracy = p.stat_panel(
        "Accuracy (7d)",
        [p.target(p.series(c.ACCURACY, {c.LABEL_WINDOW: week}))],
        p.UNIT_RATIO,
    ).thresholds(p.slo_thresholds(config.slo))
    errors = p.stat_panel(
        "Error Rate (1d)", [p.target(c.RULE_ERROR_RATE_1D)], p.UNIT_RATIO
    ).thresholds(p.ceiling_thresholds(config.max_error_rate))
    classes = p.stat_panel(
        "Cases by Class",
        [p.target(c.CASES_BY_CLASS.name, p.legend(c.LABEL_CLASS))],
        p.UNIT_COUNT,
        width=6,
    )
    return [attempts, outcomes, accuracy, errors, classes]


def _flaky_panels() -> list[p.PanelBuilder]:
    flaky = (
        p.table_panel(
            "Flaky Tests",
            [
                p.target(c.RULE_FLAKY_CASES, instant=True, table_format=True),
                p.target(
                    p.series(c.CASE_STABILITY, {c.LABEL_CLASS: p.case_class("flaky")}),
                    ref_id="B",
                    instant=True,
                    table_format=True,
                ),
            ],
        )
        .description("Cases `routelens flaky` classifies as flaky (Wilson interval), last 7 days.")
        .transformations(
            [
                p.transformation("merge"),
                p.hide_time_and_rename({"Value #A": "Pass rate (7d)", "Value #B": "Stability"}),
            ]
        )
        .override_by_name("Pass rate (7d)", [p.override("unit", p.UNIT_RATIO)])
    )
    stability = (
        p.table_panel(
            "Stability by Case",
            [p.target(f"bottomk(20, {c.CASE_STABILITY.name})", instant=True, table_format=True)],
        )
        .description("The 20 least predictable cases (0 = coin flip, 100 = always the same).")
        .transformations([p.hide_time_and_rename({"Value": "Stability"})])
        .thresholds(p.thresholds(p.RED, STABILITY_STEPS))
        .min(0)
        .max(100)
    )
    return [flaky, stability]


def _disambiguation_panels() -> list[p.PanelBuilder]:
    rate = p.stat_panel(
        "Clarification Rate (7d)",
        [p.target(p.series(c.CLARIFICATION_RATE, {c.LABEL_WINDOW: c.WINDOW_WEEK}))],
        p.UNIT_RATIO,
        width=6,
        height=8,
    )
    outcomes = p.barchart_panel(
        "Disambiguation Attempts by Outcome (7d)",
        p.target(
            p.series(c.DISAMBIGUATION_ATTEMPTS, {c.LABEL_WINDOW: c.WINDOW_WEEK}),
            instant=True,
            table_format=True,
        ),
        c.LABEL_OUTCOME,
        p.UNIT_COUNT,
        width=6,
    )
    over_time = p.timeseries_panel(
        "Clarification Rate Over Time",
        [p.target(c.CLARIFICATION_RATE.name, p.legend(c.LABEL_WINDOW))],
        p.UNIT_RATIO,
    )
    return [rate, outcomes, over_time, *_options_named_panels()]


def _options_named_panels() -> list[p.PanelBuilder]:
    """Whether clarifying questions name the skills the case lists as its options."""
    named = (
        p.stat_panel(
            "Options Named in Clarifications (7d)",
            [p.target(p.series(c.CLARIFICATION_OPTIONS_NAMED, {c.LABEL_WINDOW: c.WINDOW_WEEK}))],
            p.UNIT_RATIO,
            width=6,
            height=8,
        )
        .description(
            "Mean share of a disambiguation case's `disambiguation_options` that the "
            "router's clarifying questions named."
        )
        .thresholds(p.thresholds(p.RED, OPTIONS_NAMED_STEPS))
    )
    per_case = c.CASE_CLARIFICATION_OPTIONS_NAMED.name
    missing = (
        p.table_panel(
            "Clarifications Missing Options",
            [
                p.target(
                    f"bottomk({TOP_CASES}, {per_case} < 1)",
                    instant=True,
                    table_format=True,
                )
            ],
            width=18,
        )
        .description(
            "Disambiguation cases whose clarifying questions left out some of their options, "
            "lowest share first (empty when every question named them all)."
        )
        .unit(p.UNIT_RATIO)
        .transformations([p.hide_time_and_rename({"Value": OPTIONS_NAMED_COLUMN})])
        .sort_by([common.TableSortByFieldState().display_name(OPTIONS_NAMED_COLUMN).desc(False)])
        .thresholds(p.thresholds(p.RED, OPTIONS_NAMED_STEPS))
        .min(0)
        .max(1)
    )
    return [named, missing]


def _confusion_pairs() -> str:
    """Expected/actual pairs that differ: drop each series whose actual equals its expected."""
    confusion = p.series(c.CONFUSION, {c.LABEL_WINDOW: c.WINDOW_WEEK})
    keys = (c.LABEL_WINDOW, c.LABEL_EXPECTED_SKILL, c.LABEL_ACTUAL_SKILL)
    diagonal = (
        f"label_replace(max {p.by(c.LABEL_WINDOW, c.LABEL_EXPECTED_SKILL)} ({confusion}), "
        f'"{c.LABEL_ACTUAL_SKILL}", "$1", "{c.LABEL_EXPECTED_SKILL}", "(.*)")'
    )
    return f"topk(20, ({confusion} > 0) unless on ({', '.join(keys)}) {diagonal})"


def _failure_panels() -> list[p.PanelBuilder]:
    failed = _attempts(c.WINDOW_WEEK, {c.LABEL_OUTCOME: c.OUTCOME_FAIL})
    failures = p.barchart_panel(
        "Failures by Category (7d)",
        p.target(
            f"sum {p.by(c.LABEL_CATEGORY)} ({failed})",
            instant=True,
            table_format=True,
        ),
        c.LABEL_CATEGORY,
        p.UNIT_COUNT,
    )
    by_category = (
        p.table_panel(
            "Accuracy by Category (7d)",
            [p.target(c.RULE_ACCURACY_BY_CATEGORY_7D, instant=True, table_format=True)],
        )
        .unit(p.UNIT_RATIO)
        .transformations([p.hide_time_and_rename({"Value": "Accuracy (7d)"})])
    )
    pairs = (
        p.table_panel(
            "Confusion Pairs (7d)",
            [p.target(_confusion_pairs(), instant=True, table_format=True)],
        )
        .description("Attempts routed to another skill than expected (`clarified`: it asked).")
        .transformations([p.hide_time_and_rename({"Value": "Attempts"})])
    )
    slowest = (
        p.table_panel(
            "Slowest Cases (p95)",
            [
                p.target(
                    f"topk({TOP_CASES}, {c.CASE_LATENCY_P95.name})",
                    instant=True,
                    table_format=True,
                )
            ],
        )
        .unit(p.UNIT_SECONDS)
        .transformations([p.hide_time_and_rename({"Value": "p95 latency"})])
    )
    return [failures, by_category, pairs, slowest]


def build(config: RoutelensConfig) -> p.Document:
    """The QA engineer's dashboard as Grafana JSON."""
    dashboard = p.new_dashboard(
        UID, TITLE, "Suite results, flaky and unstable cases, disambiguation, confusions."
    ).with_variable(p.label_variable(CATEGORY_VARIABLE, c.LABEL_CATEGORY, c.WINDOW_ATTEMPTS))
    sections = [
        ("Suite Summary", _summary_panels(config)),
        ("Flaky Tests", _flaky_panels()),
        ("Disambiguation", _disambiguation_panels()),
        ("Failures", _failure_panels()),
    ]
    for heading, section in sections:
        dashboard = dashboard.with_row(p.row(heading))
        for panel in section:
            dashboard = dashboard.with_panel(panel)
    return p.to_document(dashboard)
