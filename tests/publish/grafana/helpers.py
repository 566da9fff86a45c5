"""Walking generated dashboards: panels in order, the rows they sit under, their queries."""

from __future__ import annotations

from typing import Any

Panel = dict[str, Any]


def all_panels(document: dict[str, Any]) -> list[Panel]:
    """Rows and panels in order, including panels inside collapsed rows."""
    panels: list[Panel] = []
    for panel in document["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))
    return panels


def panel(document: dict[str, Any], title: str) -> Panel:
    """The one non-row panel titled `title`."""
    matches = [p for p in all_panels(document) if p["title"] == title and p["type"] != "row"]
    assert len(matches) == 1, f"{document['uid']}: {len(matches)} panels titled {title!r}"
    return matches[0]


def panels_in_row(document: dict[str, Any], row_title: str) -> list[str]:
    """Titles of the panels between the row `row_title` and the next row."""
    titles: list[str] = []
    inside = False
    for item in document["panels"]:
        if item["type"] == "row":
            inside = item["title"] == row_title
        elif inside:
            titles.append(item["title"])
    return titles


def exprs(panel: Panel) -> list[str]:
    """The PromQL of each target of a panel."""
    return [target["expr"] for target in panel.get("targets", [])]


def threshold_values(panel: Panel) -> list[float | None]:
    """The threshold step values of a panel's field defaults."""
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    return [step["value"] for step in steps]
