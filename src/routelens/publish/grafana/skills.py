"""`routing-skills-ab`: what each SKILL.md change did to routing, skill by skill.

Every time-series panel shows the SKILL.md changes as annotations. The annotation query
returns `routelens_skill_last_change_timestamp_seconds` in milliseconds and uses Grafana's
Prometheus annotation option "series value as timestamp" (`useValueForTime`): a mark then
sits at the commit time of each change, not at the scrape in which the exporter first saw
it. `changes(...)` would place it at the scan, hours after the commit when `routelens changes
scan` runs on a schedule; and because the gauge keeps its old values in Prometheus' history,
earlier changes stay visible in past time ranges too.
"""

from __future__ import annotations

from typing import Any, Final

from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as dashboard_models

from routelens.config import RoutelensConfig
from routelens.publish import catalogue as c
from routelens.publish.grafana import panels as p

UID: Final = c.DASHBOARD_SKILLS
TITLE: Final = "Routing — Skills Engineer (A/B)"
SKILL_VARIABLE: Final = "skill"
CHANGE_ANNOTATION: Final = "SKILL.md changes"
MILLISECONDS_PER_SECOND: Final = 1000


def _skill_filter() -> dict[str, str]:
    return {c.LABEL_SKILL: p.variable(SKILL_VARIABLE)}


def change_annotation_options() -> dict[str, Any]:
    """Prometheus annotation options the SDK model lacks, added as Grafana saves them."""
    return {
        "titleFormat": f"{p.legend(c.LABEL_SKILL)} SKILL.md changed",
        "tagKeys": c.LABEL_SKILL,
        "textFormat": "",
        "step": "1m",
        "useValueForTime": True,
    }


def _change_annotation() -> dashboard_builders.AnnotationQuery:
    last_change = p.series(c.SKILL_LAST_CHANGE_TIMESTAMP, regex=_skill_filter())
    return (
        dashboard_builders.AnnotationQuery()
        .name(CHANGE_ANNOTATION)
        .datasource(p.DATASOURCE)
        .enable(True)
        .hide(False)
        .icon_color("purple")
        .expr(f"{last_change} * {MILLISECONDS_PER_SECOND}")
    )


def _change_accuracy(side: str) -> str:
    return p.series(c.SKILL_CHANGE_ACCURACY, {c.LABEL_SIDE: side}, _skill_filter())


def _impact_panels() -> list[p.PanelBuilder]:
    before, after = _change_accuracy(c.SIDE_BEFORE), _change_accuracy(c.SIDE_AFTER)
    impact = (
        p.table_panel(
            "Change Impact",
            [
                p.target(before, ref_id="A", instant=True, table_format=True),
                p.target(after, ref_id="B", instant=True, table_format=True),
                p.target(
                    f"{after} - ignoring ({c.LABEL_SIDE}) {before}",
                    ref_id="C",
                    instant=True,
                    table_format=True,
                ),
                p.target(
                    p.series(c.SKILL_INFO, regex=_skill_filter()),
                    ref_id="D",
                    instant=True,
                    table_format=True,
                ),
            ],
            width=14,
        )
        .description(
            "Accuracy of each skill's cases on the SKILL.md before and after its latest change."
        )
        .transformations(
            [
                p.transformation("merge"),
                p.transformation(
                    "organize",
                    {
                        "excludeByName": {"Time": True, c.LABEL_SIDE: True, "Value #D": True},
                        "renameByName": {
                            "Value #A": "Before",
                            "Value #B": "After",
                            "Value #C": "Change",
                            c.LABEL_HASH: "SKILL.md hash",
                        },
                    },
                ),
            ]
        )
        .unit(p.UNIT_RATIO)
        .override_by_name(
            "Change",
            [p.override("thresholds", p.thresholds(p.RED, [(0, p.GREEN)]).build())],
        )
    )
    comparison = (
        p.barchart_panel(
            "Before/After Comparison",
            p.target(
                p.series(c.SKILL_CHANGE_ACCURACY, regex=_skill_filter()),
                instant=True,
                table_format=True,
            ),
            # groupingToMatrix names its first column "<row field>\\<column field>"
            f"{c.LABEL_SKILL}\\{c.LABEL_SIDE}",
            p.UNIT_RATIO,
            width=10,
        )
        .min(0)
        .max(1)
        .transformations(
            [
                p.transformation(
                    "groupingToMatrix",
                    {"columnField": c.LABEL_SIDE, "rowField": c.LABEL_SKILL, "valueField": "Value"},
                )
            ]
        )
    )
    return [impact, comparison]


def _accuracy_panels(config: RoutelensConfig) -> list[p.PanelBuilder]:
    by_skill = (
        p.timeseries_panel(
            "Accuracy by Skill (7d)",
            [
                p.target(
                    p.series(c.RULE_ACCURACY_BY_SKILL_7D, regex=_skill_filter()),
                    p.legend(c.LABEL_SKILL),
                )
            ],
            p.UNIT_RATIO,
        )
        .thresholds(p.slo_thresholds(config.slo))
        .min(0)
        .max(1)
    )
    by_version = (
        p.timeseries_panel(
            "Accuracy by Skill Version (7d)",
            [
                p.target(
                    p.series(c.RULE_ACCURACY_BY_SKILL_VERSION_7D, regex=_skill_filter()),
                    p.legend(c.LABEL_SKILL, c.LABEL_SKILL_VERSION),
                )
            ],
            p.UNIT_RATIO,
        )
        .thresholds(p.slo_thresholds(config.slo))
        .min(0)
        .max(1)
    )
    passed = p.series(
        c.WINDOW_ATTEMPTS,
        {c.LABEL_WINDOW: c.WINDOW_WEEK, c.LABEL_OUTCOME: c.OUTCOME_PASS},
        _skill_filter(),
    )
    decided = p.series(
        c.WINDOW_ATTEMPTS,
        {c.LABEL_WINDOW: c.WINDOW_WEEK},
        {**_skill_filter(), c.LABEL_OUTCOME: f"{c.OUTCOME_PASS}|{c.OUTCOME_FAIL}"},
    )
    group = p.by(c.LABEL_SKILLS_VERSION)
    by_set = (
        p.timeseries_panel(
            "Accuracy by Skills Version (7d)",
            [
                p.target(
                    f"sum {group} ({passed}) / sum {group} ({decided})",
                    p.legend(c.LABEL_SKILLS_VERSION),
                )
            ],
            p.UNIT_RATIO,
        )
        .description("Accuracy of the attempts made with each version of the whole skills set.")
        .thresholds(p.slo_thresholds(config.slo))
        .min(0)
        .max(1)
    )
    changes = p.timeseries_panel(
        "SKILL.md Change Events",
        [
            p.target(
                f"sum {p.by(c.LABEL_SKILL, c.LABEL_KIND)} "
                f"({p.series(c.SKILL_CHANGE_EVENTS_TOTAL, regex=_skill_filter())})",
                p.legend(c.LABEL_SKILL, c.LABEL_KIND),
            )
        ],
        p.UNIT_COUNT,
    )
    return [by_skill, by_version, by_set, changes]


def _confusion_matrix() -> p.PanelBuilder:
    confusion = p.series(
        c.CONFUSION,
        {c.LABEL_WINDOW: c.WINDOW_WEEK},
        {c.LABEL_EXPECTED_SKILL: p.variable(SKILL_VARIABLE)},
    )
    return (
        p.table_panel(
            "Confusion Matrix (7d)",
            [p.target(confusion, instant=True, table_format=True)],
            width=24,
            height=10,
        )
        .description("Rows: expected skill; columns: the skill the router chose (7 days).")
        .transformations(
            [
                p.transformation(
                    "groupingToMatrix",
                    {
                        "columnField": c.LABEL_ACTUAL_SKILL,
                        "rowField": c.LABEL_EXPECTED_SKILL,
                        "valueField": "Value",
                        "emptyValue": "zero",
                    },
                )
            ]
        )
        .cell_options(
            common_models.TableColoredBackgroundCellOptions(
                mode=common_models.TableCellBackgroundDisplayMode.GRADIENT
            )
        )
        .color_scheme(
            dashboard_builders.FieldColor().mode(dashboard_models.FieldColorModeId.CONTINUOUS_BLUES)
        )
    )


def build(config: RoutelensConfig) -> p.Document:
    """The skills engineer's dashboard as Grafana JSON, change annotations included."""
    dashboard = (
        p.new_dashboard(
            UID, TITLE, "SKILL.md changes and their effect: impact, accuracy by skill and version."
        )
        .with_variable(p.label_variable(SKILL_VARIABLE, c.LABEL_SKILL, c.SKILL_CASES))
        .annotation(_change_annotation())
    )
    sections = [
        ("Change Impact", _impact_panels()),
        ("Accuracy", _accuracy_panels(config)),
        ("Confusion", [_confusion_matrix()]),
    ]
    for heading, section in sections:
        dashboard = dashboard.with_row(p.row(heading))
        for panel in section:
            dashboard = dashboard.with_panel(panel)
    document = p.to_document(dashboard)
    for annotation in document["annotations"]["list"]:
        if annotation["name"] == CHANGE_ANNOTATION:
            annotation.update(change_annotation_options())
    return document
