"""`routelens publish rules | alertmanager | grafana` through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from routelens.cli import app
from routelens.publish.rules import ALERTING_RULES_FILE, RECORDING_RULES_FILE

runner = CliRunner()


def test_publish_rules_writes_both_files_and_prints_them(tmp_path: Path) -> None:
    out = tmp_path / "rules"
    result = runner.invoke(app, ["publish", "rules", "--out", str(out)])
    assert result.exit_code == 0, result.output
    paths = [out / RECORDING_RULES_FILE, out / ALERTING_RULES_FILE]
    assert result.stdout.splitlines() == [f"wrote {path}" for path in paths]
    assert all(path.is_file() for path in paths)


def test_publish_rules_json_and_config_thresholds(tmp_path: Path) -> None:
    config = tmp_path / "ci.toml"
    config.write_text('slo = 0.9\n\n[alerts]\naccuracy_for = "30m"\n', encoding="utf-8")
    out = tmp_path / "rules"
    result = runner.invoke(
        app, ["publish", "rules", "--out", str(out), "--json", "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)["files"]
    assert files == [str(out / RECORDING_RULES_FILE), str(out / ALERTING_RULES_FILE)]
    accuracy = yaml.safe_load(Path(files[1]).read_text())["groups"][0]["rules"][0]
    assert (accuracy["expr"], accuracy["for"]) == (
        'routelens_accuracy_ratio{window="1d"} < 0.9',
        "30m",
    )


def test_publish_alertmanager_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "am" / "alertmanager.yml"
    result = runner.invoke(app, ["publish", "alertmanager", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"files": [str(out)]}
    assert yaml.safe_load(out.read_text())["route"]["receiver"] == "routelens-slack"


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            'alert_channel = "pagerduty"\n',
            "ci.toml: alertmanager.pagerduty_routing_key_file: required when alerts go to "
            'pagerduty (alert_channel = "pagerduty")',
        ),
        ('[alerts]\nretry_rate_for = "soon"\n', "ci.toml:2: alerts.retry_rate_for: Value error"),
        (
            '[alertmanager]\nslack_api_url = "https://hooks"\n',
            "ci.toml:2: alertmanager.slack_api_url: unknown setting",
        ),
    ],
)
def test_bad_settings_exit_2_with_one_line(tmp_path: Path, toml: str, expected: str) -> None:
    config = tmp_path / "ci.toml"
    config.write_text(toml, encoding="utf-8")
    out = tmp_path / "alertmanager.yml"
    result = runner.invoke(
        app, ["publish", "alertmanager", "--out", str(out), "--config", str(config)]
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"routelens: error: {tmp_path / expected}")
    assert "Traceback" not in result.output
    assert not out.exists()


def test_publish_rules_into_a_file_exits_2(tmp_path: Path) -> None:
    occupied = tmp_path / "rules"
    occupied.write_text("")
    result = runner.invoke(app, ["publish", "rules", "--out", str(occupied)])
    assert result.exit_code == 2
    assert result.stderr == f"routelens: error: {occupied}: out: not a folder\n"


def test_publish_grafana_prints_the_files_the_builder_wrote(tmp_path: Path) -> None:
    out = tmp_path / "grafana"
    result = runner.invoke(
        app,
        [
            "publish",
            "grafana",
            "--out",
            str(out),
            "--json",
            "--datasource-url",
            "http://prometheus:9090",
            "--dashboards-path",
            "/var/lib/dash",
        ],
    )
    assert result.exit_code == 0, result.output
    files = [Path(name) for name in json.loads(result.stdout)["files"]]
    assert len(files) == 7
    assert all(path.is_file() and out in path.parents for path in files)
    datasource = yaml.safe_load((out / "provisioning/datasources/routelens.yaml").read_text())
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((out / "provisioning/dashboards/routelens.yaml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/dash"


def test_publish_grafana_without_the_extra_says_how_to_get_it(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "sys.modules['grafana_foundation_sdk'] = None  # as if the extra were not installed\n"
        "from routelens.cli import main\n"
        f"sys.argv = ['routelens', 'publish', 'grafana', '--out', {str(tmp_path)!r}]\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("routelens: error: routelens publish grafana: needs ")
    assert "pip install -e '.[publish]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_publish_rules_refuses_a_file_name_for_its_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["publish", "rules", "--out", str(tmp_path / "rules.yml")])
    assert result.exit_code == 2
    assert "--out is a folder for the two rule files" in result.stderr
    assert not (tmp_path / "rules.yml").exists()


def test_an_implicit_routelens_toml_is_named_in_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "routelens.toml").write_text('alert_channel = "email"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["publish", "alertmanager", "--out", "alertmanager.yml"])
    assert result.exit_code == 2
    assert result.stderr.startswith("routelens: error: routelens.toml: alertmanager.email_to:")
