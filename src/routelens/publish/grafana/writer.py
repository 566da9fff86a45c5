"""Build all dashboards and write them, with Grafana's provisioning files, to one folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Final

from routelens.config import RoutelensConfig
from routelens.publish.grafana import executive, experiments, qa, skills, sre
from routelens.publish.grafana.links import add_serve_links
from routelens.publish.grafana.panels import Document
from routelens.publish.grafana.provisioning import (
    DEFAULT_DASHBOARDS_PATH,
    DEFAULT_PROMETHEUS_URL,
    dashboards_config,
    datasource_config,
    to_yaml,
)
from routelens.publish.grafana.queries import PanelQuery, document_queries

DashboardBuilder = Callable[[RoutelensConfig], Document]

# uid -> builder; the uids are the plan's and must not change (links and bookmarks use them).
DASHBOARDS: Final[dict[str, DashboardBuilder]] = {
    executive.UID: executive.build,
    qa.UID: qa.build,
    skills.UID: skills.build,
    sre.UID: sre.build,
    experiments.UID: experiments.build,
}
DASHBOARDS_DIR: Final = "dashboards"
DATASOURCE_FILE: Final = Path("provisioning", "datasources", "routelens.yaml")
PROVIDER_FILE: Final = Path("provisioning", "dashboards", "routelens.yaml")


def build_dashboards(config: RoutelensConfig) -> dict[str, Document]:
    """Every dashboard as Grafana JSON data, by uid; with `[publish] serve_url`, their
    stats and tables link to the matching `routelens serve` pages."""
    documents = {uid: build(config) for uid, build in DASHBOARDS.items()}
    serve_url = config.publish.serve_url
    if serve_url is not None:
        documents = {uid: add_serve_links(doc, uid, serve_url) for uid, doc in documents.items()}
    return documents


def dashboard_json(document: Document) -> str:
    """The file text of one dashboard: sorted keys, two-space indent, trailing newline."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def panel_queries(config: RoutelensConfig) -> list[PanelQuery]:
    """Every query of every dashboard (panels, annotations, variables) with its source."""
    return [
        query
        for document in build_dashboards(config).values()
        for query in document_queries(document)
    ]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_dashboards(
    out_dir: Path,
    config: RoutelensConfig,
    prometheus_url: str = DEFAULT_PROMETHEUS_URL,
    grafana_dashboards_path: PurePosixPath = DEFAULT_DASHBOARDS_PATH,
) -> list[Path]:
    """Write `dashboards/<uid>.json` and the two provisioning files under `out_dir`.

    `grafana_dashboards_path` is where Grafana will see the `dashboards` folder (the
    provider's path inside the Grafana host or container). Returns the written paths,
    dashboards first. The output depends only on the arguments: writing twice gives
    identical bytes.
    """
    written = [
        _write(out_dir / DASHBOARDS_DIR / f"{uid}.json", dashboard_json(document))
        for uid, document in build_dashboards(config).items()
    ]
    written.append(_write(out_dir / DATASOURCE_FILE, to_yaml(datasource_config(prometheus_url))))
    written.append(
        _write(out_dir / PROVIDER_FILE, to_yaml(dashboards_config(grafana_dashboards_path)))
    )
    return written
