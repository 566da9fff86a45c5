"""Grafana provisioning files: the Prometheus datasource and the dashboards folder provider.

Grafana reads `provisioning/datasources/*.yaml` and `provisioning/dashboards/*.yaml` at start
(`GF_PATHS_PROVISIONING`); the dashboards provider then loads every JSON file under `path`.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any, Final

import yaml

from routelens.publish.grafana.panels import DATASOURCE_NAME, DATASOURCE_UID

DEFAULT_PROMETHEUS_URL: Final = "http://127.0.0.1:9090"
PROVIDER_NAME: Final = "routelens"
FOLDER_NAME: Final = "routelens"
# Where the provider looks for the JSON files when Grafana runs with the generated folder
# mounted at /etc/grafana (the docs show the `--out` folder mounted there).
DEFAULT_DASHBOARDS_PATH: Final = PurePosixPath("/etc/grafana/dashboards")


def datasource_config(prometheus_url: str = DEFAULT_PROMETHEUS_URL) -> dict[str, Any]:
    """The datasource provisioning document: one Prometheus with the uid every panel uses."""
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": DATASOURCE_NAME,
                "uid": DATASOURCE_UID,
                "type": "prometheus",
                "access": "proxy",
                "url": prometheus_url,
                "isDefault": True,
                "editable": False,
                "jsonData": {"httpMethod": "POST", "timeInterval": "15s"},
            }
        ],
    }


def dashboards_config(dashboards_path: PurePosixPath = DEFAULT_DASHBOARDS_PATH) -> dict[str, Any]:
    """The dashboard provider document: load every JSON under `dashboards_path` into a folder."""
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": PROVIDER_NAME,
                "orgId": 1,
                "folder": FOLDER_NAME,
                "type": "file",
                "disableDeletion": False,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 30,
                "options": {"path": str(dashboards_path), "foldersFromFilesStructure": False},
            }
        ],
    }


def to_yaml(document: dict[str, Any]) -> str:
    """YAML with keys in a fixed order, so the files are byte-for-byte reproducible."""
    return yaml.safe_dump(document, sort_keys=True, default_flow_style=False)
