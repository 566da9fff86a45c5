"""Fixtures for the Grafana dashboard tests: the generated folder and documents, default config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from routelens.config import RoutelensConfig
from routelens.publish.grafana import build_dashboards, write_dashboards


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    """Every dashboard built with the default config, by uid."""
    return build_dashboards(RoutelensConfig())


@pytest.fixture
def written(tmp_path: Path) -> tuple[Path, list[Path]]:
    """The output folder of one `write_dashboards` call and the paths it returned."""
    out = tmp_path / "grafana"
    return out, write_dashboards(out, RoutelensConfig())
