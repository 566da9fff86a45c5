"""Each web page's way back to Grafana: its dashboard, and the panel showing the same thing.

Panel ids are read from the dashboards `routelens publish grafana` builds for the same
config, by panel title, so a link never points at a panel that moved. Without the `publish`
extra (grafana-foundation-sdk) the link opens the dashboard.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from routelens.config import RoutelensConfig
from routelens.publish import catalogue

PAGE_PANELS: Mapping[str, tuple[str, str]] = {
    "overview": (catalogue.DASHBOARD_EXECUTIVE, "Accuracy Over Time"),
    "runs": (catalogue.DASHBOARD_QA, "Outcomes (7d)"),
    "run": (catalogue.DASHBOARD_QA, "Failures by Category (7d)"),
    "case": (catalogue.DASHBOARD_QA, "Stability by Case"),
    "flaky": (catalogue.DASHBOARD_QA, "Flaky Tests"),
    "confusion": (catalogue.DASHBOARD_QA, "Confusion Pairs (7d)"),
    "coverage": (catalogue.DASHBOARD_EXECUTIVE, "Skill Coverage"),
    "patterns": (catalogue.DASHBOARD_QA, "Failures by Category (7d)"),
    "skill": (catalogue.DASHBOARD_SKILLS, "Accuracy by Skill (7d)"),
    "changes": (catalogue.DASHBOARD_SKILLS, "Change Impact"),
    "change": (catalogue.DASHBOARD_SKILLS, "Change Impact"),
    "experiments": (catalogue.DASHBOARD_EXPERIMENTS, "Experiments"),
    "experiment": (catalogue.DASHBOARD_EXPERIMENTS, "Difference Over Time"),
    "sre": (catalogue.DASHBOARD_SRE, "API Latency Percentiles"),
}
"""Page name → (dashboard uid, title of the panel showing the same data)."""


def grafana_url_for(config: RoutelensConfig, page: str) -> str | None:
    """`<grafana_url>/d/<uid>?viewPanel=<id>` for `page`, when `[serve] grafana_url` is set."""
    base = config.serve.grafana_url
    if base is None or page not in PAGE_PANELS:
        return None
    uid, title = PAGE_PANELS[page]
    url = f"{base.rstrip('/')}/d/{uid}"
    panel = _panel_ids(config.model_dump_json()).get((uid, title))
    return url if panel is None else f"{url}?viewPanel={panel}"


@lru_cache(maxsize=4)
def _panel_ids(config_json: str) -> dict[tuple[str, str], int]:
    """(dashboard uid, panel title) → panel id, rows left out; empty without the SDK."""
    try:
        from routelens.publish.grafana import build_dashboards
    except ImportError:
        return {}
    config = RoutelensConfig.model_validate_json(config_json)
    ids: dict[tuple[str, str], int] = {}
    for uid, document in build_dashboards(config).items():
        for panel in _panels(document.get("panels", [])):
            if panel.get("type") != "row" and "id" in panel:
                ids.setdefault((uid, str(panel.get("title"))), int(panel["id"]))
    return ids


def _panels(panels: list[Any]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))
