"""`alertmanager.yml` for the routelens alerts: Slack (default), PagerDuty or email, by severity.

The default receiver is `alert_channel` (the plan's Q3: Slack). Critical alerts page through
PagerDuty whenever `[alertmanager].pagerduty_routing_key_file` is set, else go to the default
receiver more often; warnings go to the default receiver; info alerts repeat once a day, and
never page (with PagerDuty as the default they go to a receiver that sends nothing). Secrets
appear only as `*_file` paths that Alertmanager reads itself. docs/alerting.md has the details.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from routelens.config import AlertmanagerSettings, RoutelensConfig
from routelens.errors import InputError
from routelens.publish import catalogue as c
from routelens.publish.go_templates import go_template_literal
from routelens.publish.rules import dump_generated_yaml, write_generated_file

RECEIVER_SLACK = "routelens-slack"
RECEIVER_PAGERDUTY = "routelens-pagerduty"
RECEIVER_EMAIL = "routelens-email"
RECEIVER_QUIET = "routelens-quiet"
"""Has no notifier: info alerts stay visible in Alertmanager's UI without paging anyone."""
GROUP_BY = ("alertname", c.LABEL_SKILL)

SLACK_TITLE = (
    '[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}]'
    " {{ .CommonLabels.alertname }}"
)
SLACK_TEXT = (
    "{{ range .Alerts }}*{{ .Annotations.summary }}* ({{ .Labels.severity }})\n"
    "{{ .Annotations.description }}\n"
    "Runbook: {{ .Annotations.runbook_url }}\n"
    "{{ end }}"
)
PAGERDUTY_SEVERITY = (
    "{{ if .CommonLabels.severity }}{{ .CommonLabels.severity }}{{ else }}critical{{ end }}"
)


def _require(value: str | None, field: str, channel: str, source: str | Path) -> str:
    if value is None:
        raise InputError(
            source,
            f'required when alerts go to {channel} (alert_channel = "{channel}")',
            field=f"alertmanager.{field}",
        )
    return value


def _slack_receiver(settings: AlertmanagerSettings) -> dict[str, Any]:
    slack = {
        "api_url_file": settings.slack_api_url_file,
        "channel": go_template_literal(settings.slack_channel),
        "send_resolved": True,
        "title": SLACK_TITLE,
        "text": SLACK_TEXT,
    }
    return {"name": RECEIVER_SLACK, "slack_configs": [slack]}


def _pagerduty_receiver(routing_key_file: str) -> dict[str, Any]:
    pagerduty = {
        "routing_key_file": routing_key_file,
        "severity": PAGERDUTY_SEVERITY,
        "send_resolved": True,
    }
    return {"name": RECEIVER_PAGERDUTY, "pagerduty_configs": [pagerduty]}


def _email_receiver(settings: AlertmanagerSettings, source: str | Path) -> dict[str, Any]:
    email: dict[str, Any] = {
        "to": go_template_literal(_require(settings.email_to, "email_to", "email", source)),
        "from": go_template_literal(_require(settings.email_from, "email_from", "email", source)),
        "smarthost": _require(settings.email_smarthost, "email_smarthost", "email", source),
    }
    if settings.email_auth_password_file is not None:
        email["auth_username"] = _require(
            settings.email_auth_username,
            "email_auth_username",
            "email with email_auth_password_file set",
            source,
        )
        email["auth_password_file"] = settings.email_auth_password_file
    email["send_resolved"] = True
    return {"name": RECEIVER_EMAIL, "email_configs": [email]}


def _receivers(config: RoutelensConfig, source: str | Path) -> tuple[str, list[dict[str, Any]]]:
    """The default receiver's name and every receiver the routes use, default first."""
    settings = config.alertmanager
    pagerduty_key = settings.pagerduty_routing_key_file
    if config.alert_channel == "pagerduty":
        key = _require(pagerduty_key, "pagerduty_routing_key_file", "pagerduty", source)
        return RECEIVER_PAGERDUTY, [_pagerduty_receiver(key), {"name": RECEIVER_QUIET}]
    if config.alert_channel == "email":
        default = _email_receiver(settings, source)
    else:
        default = _slack_receiver(settings)
    receivers = [default]
    if pagerduty_key is not None:
        receivers.append(_pagerduty_receiver(pagerduty_key))
    return str(default["name"]), receivers


def alertmanager_document(config: RoutelensConfig, source: str | Path = "config") -> dict[str, Any]:
    """`alertmanager.yml` as a YAML-ready dictionary; `source` names the config in errors."""
    settings = config.alertmanager
    default, receivers = _receivers(config, source)
    names = [str(receiver["name"]) for receiver in receivers]
    critical = RECEIVER_PAGERDUTY if RECEIVER_PAGERDUTY in names else default
    info = RECEIVER_QUIET if RECEIVER_QUIET in names else default
    return {
        "route": {
            "receiver": default,
            "group_by": list(GROUP_BY),
            "group_wait": settings.group_wait,
            "group_interval": settings.group_interval,
            "repeat_interval": settings.repeat_interval,
            "routes": [
                {
                    "receiver": critical,
                    "matchers": ['severity="critical"'],
                    "repeat_interval": settings.critical_repeat_interval,
                },
                {"receiver": default, "matchers": ['severity="warning"']},
                {
                    "receiver": info,
                    "matchers": ['severity="info"'],
                    "repeat_interval": settings.info_repeat_interval,
                },
            ],
        },
        "inhibit_rules": [
            {
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity="warning"'],
                "equal": ["alertname"],
            }
        ],
        "receivers": receivers,
    }


def render_alertmanager(config: RoutelensConfig, source: str | Path = "config") -> str:
    """The text of `alertmanager.yml`."""
    return dump_generated_yaml(alertmanager_document(config, source), "alertmanager")


def write_alertmanager(
    out_file: Path, config: RoutelensConfig, source: str | Path = "config"
) -> Path:
    """Write `alertmanager.yml` to `out_file`; returns it."""
    if out_file.is_dir():
        raise InputError(out_file, "is a folder, not a file", field="out")
    return write_generated_file(out_file, render_alertmanager(config, source))
