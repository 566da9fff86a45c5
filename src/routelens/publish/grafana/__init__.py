"""Grafana dashboards for routelens, built in code with grafana-foundation-sdk.

    from pathlib import Path
    from routelens.config import RoutelensConfig
    from routelens.publish.grafana import write_dashboards

    write_dashboards(Path("grafana"), RoutelensConfig(slo=0.9))

One module per dashboard (`executive`, `qa`, `skills`, `sre`, `experiments`), shared panel
helpers in `panels`, query listing in `queries`, provisioning files in `provisioning`.
"""

from __future__ import annotations

from routelens.publish.grafana.queries import PanelQuery, QuerySource
from routelens.publish.grafana.writer import (
    DASHBOARDS,
    build_dashboards,
    dashboard_json,
    panel_queries,
    write_dashboards,
)

__all__ = [
    "DASHBOARDS",
    "PanelQuery",
    "QuerySource",
    "build_dashboards",
    "dashboard_json",
    "panel_queries",
    "write_dashboards",
]
