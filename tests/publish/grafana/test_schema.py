"""Validation against Grafana's dashboard model.

Two checks, because Grafana's dashboard schema itself (CUE, compiled into Grafana) is not
available offline:

1. A typed round trip through grafana-foundation-sdk's models, which are generated from that
   CUE schema, with every panel plugin and the Prometheus query type registered: decoding
   drops any field the schema does not define, so the re-encoded dashboard must still contain
   every field we wrote, with the same value. (The decoder may add defaults; that is fine.)
2. A JSON Schema (`dashboard_schema.py`) for required fields, types and ranges.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
from grafana_foundation_sdk.cog import plugins
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard

from routelens.publish.grafana.skills import change_annotation_options
from tests.publish.grafana.dashboard_schema import DASHBOARD_SCHEMA

UIDS = [
    "routing-executive",
    "routing-qa-engineer",
    "routing-skills-ab",
    "routing-sre-ops",
    "routing-experiments",
]
# Grafana's Prometheus annotation options: the plugin's own fields, which the 11.6 SDK's
# generic AnnotationQuery model does not list (newer SDK releases do).
PROMETHEUS_ANNOTATION_FIELDS = frozenset(change_annotation_options())


def _lost_fields(written: Any, decoded: Any, path: str = "") -> list[str]:
    """Paths present in `written` that the typed model dropped or changed."""
    if isinstance(written, dict) and isinstance(decoded, dict):
        lost = []
        for key, value in written.items():
            where = f"{path}/{key}"
            if key not in decoded:
                lost.append(f"dropped {where}")
            else:
                lost.extend(_lost_fields(value, decoded[key], where))
        return lost
    if isinstance(written, list) and isinstance(decoded, list):
        if len(written) != len(decoded):
            return [f"length of {path}"]
        return [
            lost
            for index, (a, b) in enumerate(zip(written, decoded, strict=True))
            for lost in _lost_fields(a, b, f"{path}[{index}]")
        ]
    return [] if written == decoded else [f"changed {path}: {written!r} -> {decoded!r}"]


def _round_trip(document: dict[str, Any]) -> dict[str, Any]:
    plugins.register_default_plugins()
    decoded: dict[str, Any] = json.loads(
        json.dumps(Dashboard.from_json(copy.deepcopy(document)), cls=JSONEncoder)
    )
    return decoded


def _without_annotation_options(document: dict[str, Any]) -> dict[str, Any]:
    trimmed = copy.deepcopy(document)
    for annotation in trimmed["annotations"]["list"]:
        for field in PROMETHEUS_ANNOTATION_FIELDS:
            annotation.pop(field, None)
    return trimmed


@pytest.mark.parametrize("uid", UIDS)
def test_typed_round_trip_keeps_every_field(documents: dict[str, Any], uid: str) -> None:
    document = documents[uid]
    lost = _lost_fields(_without_annotation_options(document), _round_trip(document))
    assert lost == []


def test_round_trip_catches_a_field_outside_the_schema(documents: dict[str, Any]) -> None:
    document = copy.deepcopy(documents["routing-executive"])
    document["panels"][1]["gridPosition"] = {"x": 0}
    document["panels"][1]["fieldConfig"]["defaults"]["thresholdz"] = {}
    lost = _lost_fields(document, _round_trip(document))
    assert lost == [
        "dropped /panels[1]/fieldConfig/defaults/thresholdz",
        "dropped /panels[1]/gridPosition",
    ]


def test_only_the_change_annotation_carries_prometheus_options(documents: dict[str, Any]) -> None:
    for uid, document in documents.items():
        for annotation in document["annotations"]["list"]:
            extra = PROMETHEUS_ANNOTATION_FIELDS & set(annotation)
            assert not extra or uid == "routing-skills-ab", (uid, extra)


@pytest.mark.parametrize("uid", UIDS)
def test_matches_the_dashboard_json_schema(documents: dict[str, Any], uid: str) -> None:
    jsonschema.validate(documents[uid], DASHBOARD_SCHEMA)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("panels", 1, "gridPos", "w"), 30),
        (("panels", 1, "targets", 0, "refId"), ""),
        (("schemaVersion",), "41"),
        (("panels", 1, "type"), "graph-old"),
    ],
)
def test_the_json_schema_rejects_broken_dashboards(
    documents: dict[str, Any], path: tuple[Any, ...], value: Any
) -> None:
    document = copy.deepcopy(documents["routing-executive"])
    holder = document
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, DASHBOARD_SCHEMA)
