"""`[publish] serve_url`: dashboard stats and tables link to the matching `routelens serve` page."""

from __future__ import annotations

from typing import Any

from routelens.config import PublishSettings, RoutelensConfig
from routelens.publish import catalogue as c
from routelens.publish.grafana import build_dashboards
from routelens.publish.grafana.links import (
    CASE_PAGE,
    DASHBOARD_PAGES,
    LINKED_PANEL_TYPES,
    ROW_PAGES,
)

SERVE = "https://routelens.example/"


def _panels(documents: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(uid, p["title"]): p for uid, doc in documents.items() for p in doc["panels"]}


def _links(panel: dict[str, Any]) -> list[dict[str, str]]:
    return list(panel.get("fieldConfig", {}).get("defaults", {}).get("links", []))


def test_without_serve_url_no_panel_links_to_routelens() -> None:
    for panel in _panels(build_dashboards(RoutelensConfig())).values():
        assert all("routelens" not in link.get("url", "") for link in _links(panel))


def test_rows_link_to_their_case_skill_change_or_experiment() -> None:
    config = RoutelensConfig(publish=PublishSettings(serve_url=SERVE))
    panels = _panels(build_dashboards(config))
    for uid, titles in ROW_PAGES.items():
        for title, path in titles.items():
            assert (uid, title) in panels, f"{uid} has no panel {title!r}"
            assert _links(panels[(uid, title)]) == [
                {"title": "Open in routelens", "url": "https://routelens.example" + path}
            ]
    flaky = _links(panels[(c.DASHBOARD_QA, "Flaky Tests")])[0]["url"]
    assert flaky == "https://routelens.example/cases/${__data.fields.case_id:percentencode}"
    assert CASE_PAGE.startswith("/cases/")


def test_every_stat_gauge_and_table_links_somewhere_else_nothing_does() -> None:
    config = RoutelensConfig(publish=PublishSettings(serve_url=SERVE))
    for (uid, title), panel in _panels(build_dashboards(config)).items():
        links = _links(panel)
        if panel["type"] in LINKED_PANEL_TYPES:
            expected = ROW_PAGES.get(uid, {}).get(title, DASHBOARD_PAGES[uid])
            assert [link["url"] for link in links] == ["https://routelens.example" + expected]
        else:
            assert links == [], (uid, title)
