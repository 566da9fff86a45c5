"""Shared building blocks for the dashboards: selectors, targets, thresholds and panel factories.

Every dashboard module builds its panels through these helpers so that all panels query the
same datasource variable, number their queries the same way and format thresholds alike.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from grafana_foundation_sdk.builders import barchart, gauge, stat, table, timeseries
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.builders import prometheus as prometheus_builders
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as dashboard_models
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from routelens.publish.catalogue import CASE_CLASSES, TOKEN_TYPES, MetricSpec

DATASOURCE_UID = "routelens-prometheus"
DATASOURCE_NAME = "routelens Prometheus"
DATASOURCE_VARIABLE = "datasource"
DATASOURCE = dashboard_models.DataSourceRef(
    type_val="prometheus", uid=f"${{{DATASOURCE_VARIABLE}}}"
)
DASHBOARD_TAG = "routelens"
GRID_COLUMNS = 24
ALL_VALUES = ".*"

UNIT_RATIO = "percentunit"
UNIT_USD = "currencyUSD"
UNIT_SECONDS = "s"
UNIT_COUNT = "short"
UNIT_BYTES = "bytes"

GREEN = "green"
YELLOW = "yellow"
RED = "red"
BLUE = "blue"
GREY = "text"

Document = dict[str, Any]
PanelBuilder = Builder[dashboard_models.Panel]
Target = prometheus_builders.Dataquery
Steps = Sequence[tuple[float, str]]


def series(
    metric: MetricSpec | str,
    labels: Mapping[str, str] | None = None,
    regex: Mapping[str, str] | None = None,
) -> str:
    """`name{label="value", label=~"regex"}`: a selector from catalogue names only."""
    name = metric.name if isinstance(metric, MetricSpec) else metric
    matchers = [f'{label}="{value}"' for label, value in (labels or {}).items()]
    matchers += [f'{label}=~"{value}"' for label, value in (regex or {}).items()]
    return f"{name}{{{', '.join(matchers)}}}" if matchers else name


def _known(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{value!r} is not in the catalogue; expected one of {allowed}")
    return value


def case_class(name: str) -> str:
    """A stability class label value (`flaky`, `broken`, ...), checked against the catalogue."""
    return _known(name, CASE_CLASSES)


def token_type(name: str) -> str:
    """A token type label value (`input`, `cache_read`, ...), checked against the catalogue."""
    return _known(name, TOKEN_TYPES)


def by(*labels: str) -> str:
    """The grouping clause `by (a, b)` for an aggregation."""
    return f"by ({', '.join(labels)})"


def variable(name: str) -> str:
    """A Grafana template variable reference, `$name`."""
    return f"${name}"


def legend(*labels: str) -> str:
    """A legend format showing the given labels, `{{a}} {{b}}`."""
    return " ".join(f"{{{{{label}}}}}" for label in labels)


def target(
    expr: str,
    legend_format: str | None = None,
    *,
    ref_id: str = "A",
    instant: bool = False,
    table_format: bool = False,
) -> Target:
    """One Prometheus query of a panel."""
    query = prometheus_builders.Dataquery().expr(expr).ref_id(ref_id)
    if legend_format:
        query = query.legend_format(legend_format)
    if instant:
        query = query.instant()
    if table_format:
        query = query.format(PromQueryFormat.TABLE)
    return query


def thresholds(base: str, steps: Steps = ()) -> dashboard_builders.ThresholdsConfig:
    """Absolute thresholds: `base` colour below the first step, then each (value, colour)."""
    levels = [dashboard_models.Threshold(value=None, color=base)]
    levels += [dashboard_models.Threshold(value=value, color=color) for value, color in steps]
    return (
        dashboard_builders.ThresholdsConfig()
        .mode(dashboard_models.ThresholdsMode.ABSOLUTE)
        .steps(levels)
    )


def slo_thresholds(slo: float) -> dashboard_builders.ThresholdsConfig:
    """Red below the accuracy SLO, green at or above it."""
    return thresholds(RED, [(slo, GREEN)])


def ceiling_thresholds(
    limit: float, warning_share: float = 0.8
) -> dashboard_builders.ThresholdsConfig:
    """Green, yellow from `warning_share` of the limit, red from the limit (costs, error rates)."""
    return thresholds(GREEN, [(round(limit * warning_share, 6), YELLOW), (limit, RED)])


def value_text(value: str, text: str, color: str) -> dashboard_models.ValueMap:
    """Show `text` in `color` when the value equals `value`."""
    return dashboard_models.ValueMap(
        options={value: dashboard_models.ValueMappingResult(text=text, color=color)}
    )


def override(property_id: str, value: Any) -> dashboard_models.DynamicConfigValue:
    """One field property (`unit`, `mappings`, `thresholds`, ...) set by a field override."""
    return dashboard_models.DynamicConfigValue(id_val=property_id, value=value)


def last_value() -> common_builders.ReduceDataOptions:
    """Reduce a series to its last non-null value."""
    return common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False)


def stat_panel(
    title: str, targets: Sequence[Target], unit: str, *, width: int = 4, height: int = 4
) -> stat.Panel:
    """A single-value panel showing the last value, coloured by its thresholds."""
    panel = (
        stat.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .unit(unit)
        .reduce_options(last_value())
        .color_mode(common_models.BigValueColorMode.VALUE)
        .graph_mode(common_models.BigValueGraphMode.AREA)
        .span(width)
        .height(height)
    )
    for query in targets:
        panel = panel.with_target(query)
    return panel


def gauge_panel(
    title: str, targets: Sequence[Target], unit: str, *, width: int = 4, height: int = 6
) -> gauge.Panel:
    """A gauge showing the last value against its threshold markers."""
    panel = (
        gauge.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .unit(unit)
        .reduce_options(last_value())
        .show_threshold_markers(True)
        .span(width)
        .height(height)
    )
    for query in targets:
        panel = panel.with_target(query)
    return panel


def timeseries_panel(
    title: str, targets: Sequence[Target], unit: str, *, width: int = 12, height: int = 8
) -> timeseries.Panel:
    """A time-series panel; thresholds, when set, are drawn as dashed lines."""
    panel = (
        timeseries.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .unit(unit)
        .thresholds_style(
            common_builders.GraphThresholdsStyleConfig().mode(
                common_models.GraphThresholdsStyleMode.DASHED
            )
        )
        .span(width)
        .height(height)
    )
    for query in targets:
        panel = panel.with_target(query)
    return panel


def table_panel(
    title: str, targets: Sequence[Target], *, width: int = 12, height: int = 8
) -> table.Panel:
    """A table of instant values; several targets are merged on their common labels."""
    panel = table.Panel().title(title).datasource(DATASOURCE).span(width).height(height)
    for query in targets:
        panel = panel.with_target(query)
    return panel


def barchart_panel(
    title: str, query: Target, x_field: str, unit: str, *, width: int = 12, height: int = 8
) -> barchart.Panel:
    """Bars of an instant table query, one bar per value of `x_field`."""
    return (
        barchart.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .with_target(query)
        .x_field(x_field)
        .unit(unit)
        .span(width)
        .height(height)
    )


def transformation(
    kind: str, options: Mapping[str, Any] | None = None
) -> dashboard_models.DataTransformerConfig:
    """A Grafana data transformation (`merge`, `organize`, `groupingToMatrix`, ...)."""
    return dashboard_models.DataTransformerConfig(id_val=kind, options=dict(options or {}))


def hide_time_and_rename(renames: Mapping[str, str]) -> dashboard_models.DataTransformerConfig:
    """An `organize` step that hides the Time column and renames value columns."""
    return transformation(
        "organize", {"excludeByName": {"Time": True}, "renameByName": dict(renames)}
    )


def row(title: str) -> dashboard_builders.Row:
    """A row heading that groups the panels after it."""
    return dashboard_builders.Row(title)


def datasource_variable() -> dashboard_builders.DatasourceVariable:
    """The `$datasource` variable every panel queries through (defaults to routelens')."""
    return (
        dashboard_builders.DatasourceVariable(DATASOURCE_VARIABLE)
        .label("Datasource")
        .type("prometheus")
        .current(dashboard_models.VariableOption(text=DATASOURCE_NAME, value=DATASOURCE_UID))
    )


def label_variable(name: str, label: str, metric: MetricSpec) -> dashboard_builders.QueryVariable:
    """A multi-value variable listing the values `label` takes on `metric` (All = `.*`)."""
    return (
        dashboard_builders.QueryVariable(name)
        .label(label.replace("_", " ").capitalize())
        .datasource(DATASOURCE)
        .query(f"label_values({metric.name}, {label})")
        .refresh(dashboard_models.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dashboard_models.VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(ALL_VALUES)
        .current(dashboard_models.VariableOption(text="All", value="$__all"))
    )


def builtin_annotation() -> dashboard_builders.AnnotationQuery:
    """Grafana's own "Annotations & Alerts" (alert state changes, hand-made annotations)."""
    return (
        dashboard_builders.AnnotationQuery()
        .name("Annotations & Alerts")
        .datasource(dashboard_models.DataSourceRef(type_val="grafana", uid="-- Grafana --"))
        .enable(True)
        .hide(True)
        .icon_color("rgba(0, 211, 255, 1)")
        .type("dashboard")
        .built_in(1)
    )


def new_dashboard(uid: str, title: str, description: str) -> dashboard_builders.Dashboard:
    """A dashboard with the shared settings: tags, last 7 days, 1-minute refresh, UTC."""
    return (
        dashboard_builders.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags([DASHBOARD_TAG])
        .time("now-7d", "now")
        .refresh("1m")
        .timezone("utc")
        .tooltip(dashboard_models.DashboardCursorSync.CROSSHAIR)
        .with_variable(datasource_variable())
        .annotation(builtin_annotation())
    )


def to_document(builder: dashboard_builders.Dashboard) -> Document:
    """Build the dashboard, number its panels 1..n in order, and return it as plain JSON data."""
    model = builder.build()
    for number, panel in enumerate(model.panels or [], start=1):
        panel.id_val = number
        grid = panel.grid_pos
        if grid is not None and grid.x + grid.w > GRID_COLUMNS:
            # the SDK wraps only after a row overflows: widths in a row must add up to 24
            raise ValueError(f"{model.uid}: panel {panel.title!r} overflows the grid")
    document: Document = json.loads(json.dumps(model, cls=JSONEncoder))
    return document
