"""User text in generated templates renders as written: checked by promtool and amtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from routelens.config import AlertmanagerSettings, AlertSettings, RoutelensConfig
from routelens.publish import catalogue as c
from routelens.publish.alertmanager import write_alertmanager
from routelens.publish.go_templates import go_template_literal
from routelens.publish.rules import write_rule_files
from tests.publish.promtool_harness import PROMTOOL, promtool_test_rules, requires_promtool
from tests.publish.test_alertmanager import AMTOOL, amtool, requires_amtool

TRICKY = [
    "https://wiki.example.com/{{ $labels.skill }}/runbook",
    "#alerts-{{env}}",
    "{{{ nested }}}",
    '{{ "quoted" }} and }} alone',
    "plain #routing-alerts",
]


@pytest.mark.parametrize("text", TRICKY)
def test_escaping_is_the_identity_on_text_without_actions(text: str) -> None:
    escaped = go_template_literal(text)
    assert escaped == text if "{{" not in text else escaped != text


@requires_promtool
@pytest.mark.parametrize("runbook", TRICKY[:3])
def test_a_runbook_url_with_braces_passes_promtool_and_renders_literally(
    tmp_path: Path, runbook: str
) -> None:
    config = RoutelensConfig(alerts=AlertSettings(runbook_url=runbook))
    rules = write_rule_files(tmp_path / "rules", config)
    assert PROMTOOL is not None
    checked = subprocess.run(
        [PROMTOOL, "check", "rules", *map(str, rules)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # the store-down alert has no labels to template: its annotation must be the literal URL
    test = {
        "interval": "1m",
        "input_series": [
            {
                "series": f'{c.EXPORTER_STORE_UP.name}{{job="routelens",instance="x"}}',
                "values": "0x30",
            }
        ],
        "alert_rule_test": [
            {
                "eval_time": "20m",
                "alertname": c.ALERT_EXPORTER_STORE_DOWN,
                "exp_alerts": [
                    {
                        "exp_labels": {"severity": "critical", "job": "routelens", "instance": "x"},
                        "exp_annotations": _annotations_of(
                            rules, c.ALERT_EXPORTER_STORE_DOWN, runbook
                        ),
                    }
                ],
            }
        ],
    }
    promtool_test_rules(tmp_path / "run", config, [test])


def _annotations_of(rules: list[Path], alert: str, runbook: str) -> dict[str, str]:
    for path in rules:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if rule.get("alert") == alert:
                    # the rule's own actions render; the configured URL stays as written
                    notes = {
                        key: value.replace("{{ $labels.instance }}", "x").replace(
                            "{{ $value }}", "0"
                        )
                        for key, value in rule["annotations"].items()
                    }
                    notes["runbook_url"] = f"{runbook}#{alert.lower()}"
                    return notes
    raise AssertionError(f"no alert {alert}")


@requires_amtool
@pytest.mark.parametrize("channel", TRICKY[1:4])
def test_a_slack_channel_with_braces_passes_amtool_and_renders_literally(
    tmp_path: Path, channel: str
) -> None:
    config = RoutelensConfig(alertmanager=AlertmanagerSettings(slack_channel=channel))
    path = write_alertmanager(tmp_path / "alertmanager.yml", config)
    checked = amtool("check-config", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    written = yaml.safe_load(path.read_text())
    field = written["receivers"][0]["slack_configs"][0]["channel"]
    template = tmp_path / "empty.tmpl"
    template.write_text("")
    assert AMTOOL is not None
    rendered = amtool(
        "template", "render", f"--template.glob={template}", f"--template.text={field}"
    )
    assert rendered.returncode == 0, rendered.stderr
    assert rendered.stdout.rstrip("\n") == channel
