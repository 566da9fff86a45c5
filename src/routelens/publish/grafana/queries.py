"""Every PromQL expression a dashboard sends, with where its series come from.

`panel_queries` lists the panel targets, the annotation queries and the template-variable
queries of the generated dashboards. Each one's `source` is derived from the metric names it
uses, and a name outside the catalogue is an error, so a renamed metric cannot leave a panel
querying nothing:

- `exporter`: the routelens exporter's families, the recording rules over them, and
  Prometheus' own `ALERTS` series for our alerting rules: these must return data against a
  Prometheus that scrapes the exporter;
- `spanmetrics`, `collector`, `live-run`: series that exist only where an OpenTelemetry
  collector runs or a live run reports; they are parse-checked only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final, Literal

from routelens.publish import catalogue
from routelens.telemetry import names

QuerySource = Literal["exporter", "spanmetrics", "collector", "live-run"]

# Prometheus' built-in series of alert states; our alerting rules fill it (exporter-backed).
PROMETHEUS_ALERTS: Final = "ALERTS"
ALERTS_LABEL_NAME: Final = "alertname"
ALERTS_LABEL_STATE: Final = "alertstate"
ALERT_STATE_FIRING: Final = "firing"


def _exporter_series() -> frozenset[str]:
    series: set[str] = {PROMETHEUS_ALERTS}
    for spec in catalogue.EXPORTED_METRICS:
        if spec.kind == "gaugehistogram":
            series.update(f"{spec.name}{suffix}" for suffix in ("_bucket", "_gcount", "_gsum"))
        else:
            series.add(spec.name)
    series.update(value for key, value in vars(catalogue).items() if key.startswith("RULE_"))
    return frozenset(series)


def live_counter(instrument: str) -> str:
    """The Prometheus name of a live-run OTel counter (`routing_test_retries_total`)."""
    return f"{instrument}_total"


def live_histogram_bucket(instrument: str, unit_suffix: str) -> str:
    """The `_bucket` series of a live-run OTel histogram with a unit suffix (`_seconds`)."""
    return f"{instrument}_{unit_suffix}_bucket"


LIVE_TESTS_TOTAL: Final = live_counter(names.METRIC_TESTS)
LIVE_RETRIES_TOTAL: Final = live_counter(names.METRIC_RETRIES)
LIVE_API_ERRORS_TOTAL: Final = live_counter(names.METRIC_API_ERRORS)
LIVE_API_LATENCY_BUCKET: Final = live_histogram_bucket(names.METRIC_API_LATENCY, "seconds")

SERIES_BY_SOURCE: Final[dict[QuerySource, frozenset[str]]] = {
    "exporter": _exporter_series(),
    "spanmetrics": frozenset(
        {catalogue.SPANMETRICS_CALLS_TOTAL, catalogue.SPANMETRICS_DURATION_BUCKET}
    ),
    "collector": frozenset(
        value for key, value in vars(catalogue).items() if key.startswith("OTELCOL_")
    ),
    "live-run": frozenset(
        {LIVE_TESTS_TOTAL, LIVE_RETRIES_TOTAL, LIVE_API_ERRORS_TOTAL, LIVE_API_LATENCY_BUCKET}
    ),
}

# What Grafana substitutes before sending a query; used to evaluate queries outside Grafana.
GRAFANA_INTERVALS: Final = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1d"}

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_VARIABLES = re.compile(r"\$\{?[A-Za-z_]\w*\}?")
_LABEL_LISTS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w.:])([A-Za-z_:][A-Za-z0-9_:]*)(?![\w:])(?!\s*\()")
_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"}
    | {"group_left", "group_right", "inf", "nan", "atan2"}
)
_LABEL_VALUES = re.compile(r"^\s*label_values\((?P<match>.+),\s*(?P<label>\w+)\s*\)\s*$")


def metric_names(expr: str) -> frozenset[str]:
    """The metric names a PromQL expression selects (a rough lexer, enough for our queries)."""
    text = _STRING.sub("", expr)
    text = _MATCHERS.sub("", text)
    text = _RANGES.sub("", text)
    text = _VARIABLES.sub("", text)
    text = _LABEL_LISTS.sub("", text)
    return frozenset(token for token in _IDENTIFIER.findall(text) if token.lower() not in _KEYWORDS)


def source_of(expr: str) -> QuerySource:
    """Where the series of `expr` come from; ValueError if it uses a name not in the catalogue."""
    found = metric_names(expr)
    if not found:
        raise ValueError(f"query selects no metric: {expr}")
    sources: set[QuerySource] = set()
    for name in sorted(found):
        owners = [source for source, known in SERIES_BY_SOURCE.items() if name in known]
        if not owners:
            raise ValueError(f"metric {name!r} is not in the catalogue: {expr}")
        sources.add(owners[0])
    if len(sources) > 1:
        raise ValueError(f"query mixes sources {sorted(sources)}: {expr}")
    return sources.pop()


def evaluable(expr: str) -> str:
    """`expr` as Prometheus can run it: intervals filled in, every other `$var` as `.*`."""
    for grafana_name, value in GRAFANA_INTERVALS.items():
        expr = expr.replace(grafana_name, value)
    return _VARIABLES.sub(".*", expr)


@dataclass(frozen=True)
class PanelQuery:
    """One query of a dashboard: a panel target, an annotation or a template variable.

    >>> PanelQuery("routing-executive", "Routing Accuracy (7d)", "x", "exporter").promql
    'x'
    """

    dashboard_uid: str
    panel_title: str
    expr: str
    source: QuerySource

    @property
    def promql(self) -> str:
        """The expression with Grafana's variables replaced, ready for Prometheus."""
        return evaluable(self.expr)


def _query(uid: str, title: str, expr: str) -> PanelQuery:
    return PanelQuery(uid, title, expr, source_of(expr))


def _panels(document: dict[str, Any]) -> list[dict[str, Any]]:
    panels: list[dict[str, Any]] = []
    for panel in document.get("panels", []):
        panels.append(panel)
        panels.extend(panel.get("panels", []))
    return panels


def document_queries(document: dict[str, Any]) -> list[PanelQuery]:
    """Every query of one dashboard document, in panel, annotation, variable order.

    A `label_values(match, label)` variable is listed by its series match, which is what
    Grafana sends to Prometheus' label-values API.
    """
    uid = str(document["uid"])
    queries = [
        _query(uid, str(panel.get("title", "")), str(target["expr"]))
        for panel in _panels(document)
        for target in panel.get("targets", [])
        if target.get("expr")
    ]
    for annotation in document.get("annotations", {}).get("list", []):
        if annotation.get("expr"):
            queries.append(_query(uid, f"annotation: {annotation['name']}", annotation["expr"]))
    for variable in document.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        match = _LABEL_VALUES.match(str(variable.get("query", "")))
        expr = match.group("match") if match else str(variable.get("query", ""))
        queries.append(_query(uid, f"variable: {variable['name']}", expr))
    return queries
