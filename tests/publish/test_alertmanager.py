"""Generated alertmanager.yml: `amtool check-config`, severity routing by `amtool config routes
test`, secrets only as file references, and a golden file (`ROUTELENS_UPDATE_GOLDEN=1`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from routelens.config import AlertmanagerSettings, RoutelensConfig, load_config
from routelens.errors import InputError
from routelens.publish.alertmanager import (
    RECEIVER_EMAIL,
    RECEIVER_PAGERDUTY,
    RECEIVER_QUIET,
    RECEIVER_SLACK,
    render_alertmanager,
    write_alertmanager,
)

AMTOOL = shutil.which("amtool")
requires_amtool = pytest.mark.skipif(
    AMTOOL is None, reason="amtool not installed (Debian package `prometheus-alertmanager`)"
)
GOLDEN = Path(__file__).parent / "golden" / "alertmanager.yml"
UPDATE_GOLDEN = os.environ.get("ROUTELENS_UPDATE_GOLDEN") == "1"

EMAIL = AlertmanagerSettings(
    email_to="routing-team@example.com",
    email_from="alertmanager@example.com",
    email_smarthost="smtp.example.com:587",
    email_auth_username="alertmanager",
    email_auth_password_file="/etc/alertmanager/secrets/smtp-password",
)
PAGERDUTY_KEY = "/etc/alertmanager/secrets/pagerduty-routing-key"
CONFIGS = {
    "slack": RoutelensConfig(),
    "slack+pagerduty": RoutelensConfig(
        alertmanager=AlertmanagerSettings(pagerduty_routing_key_file=PAGERDUTY_KEY)
    ),
    "pagerduty": RoutelensConfig(
        alert_channel="pagerduty",
        alertmanager=AlertmanagerSettings(pagerduty_routing_key_file=PAGERDUTY_KEY),
    ),
    "email": RoutelensConfig(alert_channel="email", alertmanager=EMAIL),
}
# receiver per severity: critical pages when PagerDuty is configured; info never pages
ROUTES = {
    "slack": (RECEIVER_SLACK, RECEIVER_SLACK, RECEIVER_SLACK),
    "slack+pagerduty": (RECEIVER_PAGERDUTY, RECEIVER_SLACK, RECEIVER_SLACK),
    "pagerduty": (RECEIVER_PAGERDUTY, RECEIVER_PAGERDUTY, RECEIVER_QUIET),
    "email": (RECEIVER_EMAIL, RECEIVER_EMAIL, RECEIVER_EMAIL),
}


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert AMTOOL is not None
    return subprocess.run([AMTOOL, *args], capture_output=True, text=True, check=False)


@requires_amtool
@pytest.mark.parametrize("channel", CONFIGS)
def test_amtool_accepts_the_generated_config(tmp_path: Path, channel: str) -> None:
    path = write_alertmanager(tmp_path / "alertmanager.yml", CONFIGS[channel])
    result = amtool("check-config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 inhibit rules" in result.stdout


@requires_amtool
def test_amtool_check_config_can_fail(tmp_path: Path) -> None:
    broken = tmp_path / "alertmanager.yml"
    broken.write_text("route:\n  receiver: nobody\nreceivers: []\n", encoding="utf-8")
    assert amtool("check-config", str(broken)).returncode != 0


@requires_amtool
@pytest.mark.parametrize("channel", CONFIGS)
def test_alerts_are_routed_by_severity(tmp_path: Path, channel: str) -> None:
    path = write_alertmanager(tmp_path / "alertmanager.yml", CONFIGS[channel])
    routed = []
    for severity in ("critical", "warning", "info"):
        result = amtool(
            "config",
            "routes",
            "test",
            f"--config.file={path}",
            "alertname=RoutingAccuracyBelowSLO",
            f"severity={severity}",
        )
        assert result.returncode == 0, result.stdout + result.stderr
        routed.append(result.stdout.strip())
    assert tuple(routed) == ROUTES[channel]


def test_grouping_timing_and_inhibition() -> None:
    document = yaml.safe_load(render_alertmanager(RoutelensConfig()))
    route = document["route"]
    assert route["group_by"] == ["alertname", "skill"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == (
        "30s",
        "5m",
        "4h",
    )
    repeat = {r["matchers"][0]: r.get("repeat_interval") for r in route["routes"]}
    assert repeat == {
        'severity="critical"': "1h",
        'severity="warning"': None,
        'severity="info"': "24h",
    }
    assert document["inhibit_rules"] == [
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["alertname"],
        }
    ]
    slack = document["receivers"][0]["slack_configs"][0]
    assert slack["channel"] == "#routing-alerts"
    assert slack["api_url_file"] == "/etc/alertmanager/secrets/slack-api-url"


def test_settings_come_from_the_config_file(tmp_path: Path) -> None:
    config_file = tmp_path / "routelens.toml"
    config_file.write_text(
        'alert_channel = "email"\n\n[alertmanager]\nemail_to = "qa@example.com"\n'
        'email_from = "am@example.com"\nemail_smarthost = "mail:25"\nrepeat_interval = "12h"\n',
        encoding="utf-8",
    )
    document = yaml.safe_load(render_alertmanager(load_config(config_file)))
    assert document["route"]["repeat_interval"] == "12h"
    assert document["receivers"] == [
        {
            "name": RECEIVER_EMAIL,
            "email_configs": [
                {
                    "to": "qa@example.com",
                    "from": "am@example.com",
                    "smarthost": "mail:25",
                    "send_resolved": True,
                }
            ],
        }
    ]


def test_secrets_are_only_referenced_by_file(tmp_path: Path) -> None:
    for config in CONFIGS.values():
        text = render_alertmanager(config)
        for inline_secret in ("api_url:", "routing_key:", "service_key:", "auth_password:"):
            assert inline_secret not in text
    pagerduty = yaml.safe_load(render_alertmanager(CONFIGS["pagerduty"]))
    assert pagerduty["receivers"][0]["pagerduty_configs"][0]["routing_key_file"] == PAGERDUTY_KEY


@pytest.mark.parametrize(
    ("config", "field"),
    [
        (RoutelensConfig(alert_channel="pagerduty"), "alertmanager.pagerduty_routing_key_file"),
        (RoutelensConfig(alert_channel="email"), "alertmanager.email_to"),
        (
            RoutelensConfig(
                alert_channel="email",
                alertmanager=EMAIL.model_copy(update={"email_auth_username": None}),
            ),
            "alertmanager.email_auth_username",
        ),
    ],
)
def test_a_channel_without_its_settings_is_an_input_error(
    config: RoutelensConfig, field: str
) -> None:
    with pytest.raises(InputError) as caught:
        render_alertmanager(config, "routelens.toml")
    assert caught.value.one_line().startswith(f"routelens.toml: {field}: required when")


def test_writing_onto_a_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="out: is a folder"):
        write_alertmanager(tmp_path, RoutelensConfig())


def test_default_alertmanager_matches_the_golden_file() -> None:
    generated = render_alertmanager(RoutelensConfig())
    assert generated == render_alertmanager(RoutelensConfig())
    if UPDATE_GOLDEN:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(generated, encoding="utf-8")
    assert GOLDEN.read_text(encoding="utf-8") == generated, (
        f"{GOLDEN} is stale; rerun with ROUTELENS_UPDATE_GOLDEN=1 if the change is intended"
    )
