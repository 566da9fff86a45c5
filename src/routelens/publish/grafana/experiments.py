"""`routing-experiments`: A/B experiments on skills — arms, difference, p-value, decision."""

from __future__ import annotations

from typing import Final

from grafana_foundation_sdk.models import common as common_models

from routelens.config import RoutelensConfig
from routelens.publish import catalogue as c
from routelens.publish.grafana import panels as p

UID: Final = c.DASHBOARD_EXPERIMENTS
TITLE: Final = "Routing — Experiments"
EXPERIMENT_VARIABLE: Final = "experiment"
# experiments.analysis.ALPHA (a test keeps them equal); not imported, so that building
# dashboards does not load the store and the statistics.
ALPHA: Final = 0.05


def _experiment_filter() -> dict[str, str]:
    return {c.LABEL_EXPERIMENT: p.variable(EXPERIMENT_VARIABLE)}


def _status_panels() -> list[p.PanelBuilder]:
    info = p.series(c.EXPERIMENT_INFO, regex=_experiment_filter())
    experiments = (
        p.table_panel(
            "Experiments", [p.target(info, instant=True, table_format=True)], width=12, height=6
        )
        .description("Each experiment's lifecycle status and its stored decision.")
        .transformations(
            [p.transformation("organize", {"excludeByName": {"Time": True, "Value": True}})]
        )
    )
    decision = (
        p.stat_panel(
            "Decision",
            [p.target(info, f"{p.legend(c.LABEL_EXPERIMENT)}: {p.legend(c.LABEL_DECISION)}")],
            "none",
            width=6,
            height=6,
        )
        .text_mode(common_models.BigValueTextMode.NAME)
        .color_mode(common_models.BigValueColorMode.NONE)
    )
    p_value = (
        p.stat_panel(
            "p-value",
            [
                p.target(
                    p.series(c.EXPERIMENT_P_VALUE, regex=_experiment_filter()),
                    p.legend(c.LABEL_EXPERIMENT),
                )
            ],
            "none",
            width=6,
            height=6,
        )
        .description(f"Paired test on case-level outcomes; below {ALPHA} is significant.")
        .decimals(4)
        .thresholds(p.thresholds(p.GREEN, [(ALPHA, p.GREY)]))
    )
    return [experiments, decision, p_value]


def _arm_panels() -> list[p.PanelBuilder]:
    accuracy = p.series(c.EXPERIMENT_ARM_ACCURACY, regex=_experiment_filter())
    attempts = p.series(c.EXPERIMENT_ARM_ATTEMPTS, regex=_experiment_filter())
    arms = (
        p.table_panel(
            "Arms",
            [
                p.target(accuracy, instant=True, table_format=True),
                p.target(attempts, ref_id="B", instant=True, table_format=True),
            ],
        )
        .transformations(
            [
                p.transformation("merge"),
                p.hide_time_and_rename({"Value #A": "Accuracy", "Value #B": "Decided attempts"}),
            ]
        )
        .override_by_name("Accuracy", [p.override("unit", p.UNIT_RATIO)])
    )
    over_time = (
        p.timeseries_panel(
            "Arm Accuracy Over Time",
            [p.target(accuracy, p.legend(c.LABEL_EXPERIMENT, c.LABEL_ARM))],
            p.UNIT_RATIO,
        )
        .min(0)
        .max(1)
    )
    return [arms, over_time]


def _difference_panels() -> list[p.PanelBuilder]:
    difference = p.series(c.EXPERIMENT_DIFFERENCE, regex=_experiment_filter())
    table = (
        p.table_panel(
            "Difference with Interval",
            [p.target(difference, instant=True, table_format=True)],
        )
        .description("Treatment minus control accuracy and its always-valid confidence interval.")
        .unit(p.UNIT_RATIO)
        .transformations(
            [
                p.transformation(
                    "groupingToMatrix",
                    {
                        "columnField": c.LABEL_BOUND,
                        "rowField": c.LABEL_EXPERIMENT,
                        "valueField": "Value",
                    },
                )
            ]
        )
    )
    over_time = p.timeseries_panel(
        "Difference Over Time",
        [p.target(difference, p.legend(c.LABEL_EXPERIMENT, c.LABEL_BOUND))],
        p.UNIT_RATIO,
    ).thresholds(p.thresholds(p.RED, [(0, p.GREEN)]))
    return [table, over_time]


def build(config: RoutelensConfig) -> p.Document:
    """The experiments dashboard as Grafana JSON (`config` is accepted for a uniform signature)."""
    del config
    dashboard = p.new_dashboard(
        UID, TITLE, "Skills A/B experiments: arms, the difference and its interval, decisions."
    ).with_variable(p.label_variable(EXPERIMENT_VARIABLE, c.LABEL_EXPERIMENT, c.EXPERIMENT_INFO))
    sections = [
        ("Status", _status_panels()),
        ("Arms", _arm_panels()),
        ("Difference", _difference_panels()),
    ]
    for heading, section in sections:
        dashboard = dashboard.with_row(p.row(heading))
        for panel in section:
            dashboard = dashboard.with_panel(panel)
    return p.to_document(dashboard)
