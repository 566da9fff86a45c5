"""The reference configs in deploy/ are valid for the real tools, with the generated files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from routelens.config import RoutelensConfig
from routelens.publish.exporter_defaults import DEFAULT_PORT
from routelens.publish.rules import write_rule_files

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROMTOOL = shutil.which("promtool")


@pytest.mark.skipif(PROMTOOL is None, reason="needs Debian's prometheus (installed by .ci/run)")
def test_prometheus_config_loads_the_generated_rules(tmp_path: Path) -> None:
    config = tmp_path / "prometheus.yml"
    shutil.copy(DEPLOY / "prometheus.yml", config)
    written = write_rule_files(tmp_path / "routelens", RoutelensConfig())
    assert PROMTOOL is not None
    checked = subprocess.run(
        [PROMTOOL, "check", "config", str(config)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # promtool names each rule file it checked: the glob in the config found them all
    for path in written:
        assert str(path) in checked.stdout + checked.stderr


def test_prometheus_config_scrapes_the_exporter_on_its_default_port() -> None:
    document = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    targets = {
        job["job_name"]: target
        for job in document["scrape_configs"]
        for group in job["static_configs"]
        for target in group["targets"]
    }
    assert targets["routelens"] == f"127.0.0.1:{DEFAULT_PORT}"
