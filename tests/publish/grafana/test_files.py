"""The written folder: golden files, byte-for-byte determinism and the provisioning files."""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath

import pytest
import yaml

from routelens.config import RoutelensConfig
from routelens.publish.grafana import DASHBOARDS, write_dashboards
from routelens.publish.grafana.panels import DATASOURCE_UID

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("ROUTELENS_UPDATE_GOLDEN") == "1"
DATASOURCE_FILE = Path("provisioning/datasources/routelens.yaml")
PROVIDER_FILE = Path("provisioning/dashboards/routelens.yaml")


def _golden_name(relative: Path) -> str:
    return (
        "provisioning-" + relative.parent.name + ".yaml"
        if relative.suffix == ".yaml"
        else relative.name
    )


def test_writes_one_json_per_dashboard_and_two_provisioning_files(
    written: tuple[Path, list[Path]],
) -> None:
    out, paths = written
    relative = [path.relative_to(out) for path in paths]
    assert relative == [
        *(Path("dashboards", f"{uid}.json") for uid in DASHBOARDS),
        DATASOURCE_FILE,
        PROVIDER_FILE,
    ]
    assert all(path.is_file() for path in paths)


def test_generated_files_match_the_golden_files(written: tuple[Path, list[Path]]) -> None:
    out, paths = written
    for path in paths:
        golden = GOLDEN / _golden_name(path.relative_to(out))
        if UPDATE_GOLDEN:
            golden.write_bytes(path.read_bytes())
        assert golden.is_file(), f"{golden} missing: run with ROUTELENS_UPDATE_GOLDEN=1"
        assert path.read_bytes() == golden.read_bytes(), (
            f"{path.name} differs from {golden}; if the change is intended, "
            "regenerate with ROUTELENS_UPDATE_GOLDEN=1"
        )


def test_two_writes_give_identical_bytes(tmp_path: Path) -> None:
    first = write_dashboards(tmp_path / "one", RoutelensConfig())
    second = write_dashboards(tmp_path / "two", RoutelensConfig())
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_json_is_sorted_indented_and_ends_with_a_newline(
    written: tuple[Path, list[Path]],
) -> None:
    _, paths = written
    for path in paths[: len(DASHBOARDS)]:
        text = path.read_text(encoding="utf-8")
        assert (
            text
            == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
        )


def test_datasource_provisioning_uses_the_uid_the_dashboards_default_to(
    written: tuple[Path, list[Path]],
) -> None:
    out, _ = written
    datasources = yaml.safe_load((out / DATASOURCE_FILE).read_text())["datasources"]
    assert [(d["uid"], d["type"], d["url"]) for d in datasources] == [
        (DATASOURCE_UID, "prometheus", "http://127.0.0.1:9090")
    ]
    for uid in DASHBOARDS:
        document = json.loads((out / "dashboards" / f"{uid}.json").read_text())
        variable = document["templating"]["list"][0]
        assert (variable["type"], variable["current"]["value"]) == ("datasource", DATASOURCE_UID)


def test_prometheus_url_and_dashboards_path_flow_into_provisioning(tmp_path: Path) -> None:
    write_dashboards(
        tmp_path,
        RoutelensConfig(),
        prometheus_url="http://prometheus:9090",
        grafana_dashboards_path=PurePosixPath("/var/lib/grafana/dashboards"),
    )
    datasource = yaml.safe_load((tmp_path / DATASOURCE_FILE).read_text())["datasources"][0]
    provider = yaml.safe_load((tmp_path / PROVIDER_FILE).read_text())["providers"][0]
    assert datasource["url"] == "http://prometheus:9090"
    assert (provider["type"], provider["options"]["path"]) == (
        "file",
        "/var/lib/grafana/dashboards",
    )


@pytest.mark.parametrize("slo", [0.8, 0.95])
def test_a_different_config_changes_the_output(tmp_path: Path, slo: float) -> None:
    default = write_dashboards(tmp_path / "default", RoutelensConfig())
    changed = write_dashboards(tmp_path / "changed", RoutelensConfig(slo=slo))
    assert default[0].read_bytes() != changed[0].read_bytes()
