"""Links from the dashboards to `routelens serve` (`[publish] serve_url`).

Tables whose rows name a case, a skill, a change or an experiment link each row to that
page (Grafana fills `${__data.fields.<label>}` from the clicked row); every other table,
stat and gauge links to the page showing the same subject. Without `serve_url` the
dashboards carry no links.
"""

from __future__ import annotations

from typing import Any, Final

from routelens.publish import catalogue as c
from routelens.publish.grafana.panels import Document

LINK_TITLE: Final = "Open in routelens"
LINKED_PANEL_TYPES: Final = ("stat", "gauge", "table", "bargauge")


def _field(label: str) -> str:
    return f"${{__data.fields.{label}:percentencode}}"


CASE_PAGE: Final = f"/cases/{_field(c.LABEL_CASE_ID)}"
SKILL_PAGE: Final = f"/skills/{_field(c.LABEL_SKILL)}"
EXPECTED_SKILL_PAGE: Final = f"/skills/{_field(c.LABEL_EXPECTED_SKILL)}"
CHANGE_PAGE: Final = f"/changes?skill={_field(c.LABEL_SKILL)}&hash={_field(c.LABEL_HASH)}"
EXPERIMENT_PAGE: Final = f"/experiments/{_field(c.LABEL_EXPERIMENT)}"

DASHBOARD_PAGES: Final[dict[str, str]] = {
    c.DASHBOARD_EXECUTIVE: "/",
    c.DASHBOARD_QA: "/runs",
    c.DASHBOARD_SKILLS: "/changes",
    c.DASHBOARD_SRE: "/sre",
    c.DASHBOARD_EXPERIMENTS: "/experiments",
}
"""The page each dashboard's stats and plain tables link to."""

ROW_PAGES: Final[dict[str, dict[str, str]]] = {
    c.DASHBOARD_EXECUTIVE: {"Worst Skills (7d)": SKILL_PAGE},
    c.DASHBOARD_QA: {
        "Flaky Tests": CASE_PAGE,
        "Stability by Case": CASE_PAGE,
        "Clarifications Missing Options": CASE_PAGE,
        "Slowest Cases (p95)": CASE_PAGE,
        "Confusion Pairs (7d)": EXPECTED_SKILL_PAGE,
    },
    c.DASHBOARD_SKILLS: {"Change Impact": CHANGE_PAGE},
    c.DASHBOARD_EXPERIMENTS: {
        "Experiments": EXPERIMENT_PAGE,
        "Arms": EXPERIMENT_PAGE,
        "Difference with Interval": EXPERIMENT_PAGE,
    },
}
"""Per dashboard, the tables whose rows link to their own page (by panel title)."""


def add_serve_links(document: Document, uid: str, serve_url: str) -> Document:
    """`document` with data links to `serve_url` on its stats, gauges and tables."""
    base = serve_url.rstrip("/")
    rows = ROW_PAGES.get(uid, {})
    for panel in document.get("panels", []):
        if panel.get("type") not in LINKED_PANEL_TYPES:
            continue
        path = rows.get(panel.get("title", ""), DASHBOARD_PAGES[uid])
        defaults: dict[str, Any] = panel.setdefault("fieldConfig", {}).setdefault("defaults", {})
        defaults["links"] = [{"title": LINK_TITLE, "url": base + path}]
    return document
