"""A JSON Schema for the parts of Grafana's dashboard model (schemaVersion 41) that Grafana
needs to load a provisioned dashboard, written from Grafana's dashboard kind: what each
dashboard, row, panel, Prometheus target, annotation and template variable must carry and
which types those fields take. Grafana's own schema is CUE inside Grafana and is not shipped
on PyPI; the typed round trip through grafana-foundation-sdk (generated from that CUE)
covers field names and nesting, this schema covers required fields, types and ranges.
"""

from __future__ import annotations

from typing import Any

PANEL_TYPES = [
    "barchart",
    "bargauge",
    "gauge",
    "heatmap",
    "piechart",
    "stat",
    "table",
    "text",
    "timeseries",
]
VARIABLE_TYPES = ["adhoc", "constant", "custom", "datasource", "interval", "query", "textbox"]

_DATASOURCE: dict[str, Any] = {
    "type": "object",
    "required": ["type", "uid"],
    "properties": {"type": {"type": "string"}, "uid": {"type": "string", "minLength": 1}},
}
_GRID_POS: dict[str, Any] = {
    "type": "object",
    "required": ["h", "w", "x", "y"],
    "properties": {
        "h": {"type": "integer", "minimum": 1},
        "w": {"type": "integer", "minimum": 1, "maximum": 24},
        "x": {"type": "integer", "minimum": 0, "maximum": 23},
        "y": {"type": "integer", "minimum": 0},
    },
}
_THRESHOLDS: dict[str, Any] = {
    "type": "object",
    "required": ["mode", "steps"],
    "properties": {
        "mode": {"enum": ["absolute", "percentage"]},
        "steps": {
            "type": "array",
            "minItems": 1,
            "prefixItems": [{"properties": {"value": {"type": "null"}}}],
            "items": {
                "type": "object",
                "required": ["color", "value"],
                "properties": {
                    "color": {"type": "string"},
                    "value": {"type": ["number", "null"]},
                },
            },
        },
    },
}
_TARGET: dict[str, Any] = {
    "type": "object",
    "required": ["refId", "expr"],
    "properties": {
        "refId": {"type": "string", "pattern": "^[A-Z]$"},
        "expr": {"type": "string", "minLength": 1},
        "legendFormat": {"type": "string"},
        "instant": {"type": "boolean"},
        "range": {"type": "boolean"},
        "format": {"enum": ["time_series", "table", "heatmap"]},
    },
}
_PANEL: dict[str, Any] = {
    "type": "object",
    "required": ["id", "type", "title", "gridPos", "datasource", "targets"],
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "type": {"enum": PANEL_TYPES},
        "title": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "gridPos": _GRID_POS,
        "datasource": _DATASOURCE,
        "targets": {"type": "array", "minItems": 1, "items": _TARGET},
        "options": {"type": "object"},
        "transformations": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "options"],
                "properties": {"id": {"type": "string"}, "options": {"type": "object"}},
            },
        },
        "fieldConfig": {
            "type": "object",
            "required": ["defaults", "overrides"],
            "properties": {
                "defaults": {
                    "type": "object",
                    "properties": {
                        "unit": {"type": "string"},
                        "min": {"type": "number"},
                        "max": {"type": "number"},
                        "decimals": {"type": "number"},
                        "thresholds": _THRESHOLDS,
                        "mappings": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["type", "options"],
                                "properties": {
                                    "type": {"enum": ["value", "range", "regex", "special"]}
                                },
                            },
                        },
                    },
                },
                "overrides": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["matcher", "properties"],
                        "properties": {
                            "matcher": {"type": "object", "required": ["id"]},
                            "properties": {
                                "type": "array",
                                "items": {"type": "object", "required": ["id", "value"]},
                            },
                        },
                    },
                },
            },
        },
    },
}
_ROW: dict[str, Any] = {
    "type": "object",
    "required": ["id", "type", "title", "gridPos", "collapsed", "panels"],
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "type": {"const": "row"},
        "title": {"type": "string", "minLength": 1},
        "collapsed": {"type": "boolean"},
        "gridPos": _GRID_POS,
        "panels": {"type": "array", "items": _PANEL},
    },
}
_ANNOTATION: dict[str, Any] = {
    "type": "object",
    "required": ["name", "datasource", "enable", "iconColor"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "datasource": _DATASOURCE,
        "enable": {"type": "boolean"},
        "hide": {"type": "boolean"},
        "iconColor": {"type": "string"},
        "expr": {"type": "string"},
        "step": {"type": "string"},
        "titleFormat": {"type": "string"},
        "textFormat": {"type": "string"},
        "tagKeys": {"type": "string"},
        "useValueForTime": {"type": "boolean"},
    },
}
_VARIABLE: dict[str, Any] = {
    "type": "object",
    "required": ["name", "type"],
    "properties": {
        "name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        "type": {"enum": VARIABLE_TYPES},
        "query": {"type": ["string", "object"]},
        "multi": {"type": "boolean"},
        "includeAll": {"type": "boolean"},
        "refresh": {"enum": [0, 1, 2]},
        "sort": {"type": "integer", "minimum": 0, "maximum": 8},
    },
}
DASHBOARD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": [
        "uid",
        "title",
        "schemaVersion",
        "panels",
        "time",
        "templating",
        "annotations",
        "tags",
        "editable",
    ],
    "properties": {
        "uid": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"},
        "title": {"type": "string", "minLength": 1},
        "schemaVersion": {"type": "integer", "minimum": 36},
        "editable": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "timezone": {"type": "string"},
        "refresh": {"type": "string"},
        "graphTooltip": {"enum": [0, 1, 2]},
        "time": {
            "type": "object",
            "required": ["from", "to"],
            "properties": {"from": {"type": "string"}, "to": {"type": "string"}},
        },
        "panels": {"type": "array", "minItems": 1, "items": {"oneOf": [_ROW, _PANEL]}},
        "templating": {
            "type": "object",
            "required": ["list"],
            "properties": {"list": {"type": "array", "items": _VARIABLE}},
        },
        "annotations": {
            "type": "object",
            "required": ["list"],
            "properties": {"list": {"type": "array", "items": _ANNOTATION}},
        },
    },
}
