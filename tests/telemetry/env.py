"""Telemetry settings built from a given environment, as the tests need them."""

from __future__ import annotations

from routelens.telemetry.settings import TelemetrySettings, telemetry_settings

SUITE = "jira-assistant"
SERVICE = "jira-assistant-routing-tests"  # the name the plan's queries select


def settings_from(env: dict[str, str], **overrides: object) -> TelemetrySettings | None:
    """`telemetry_settings` for the example suite with `env` as the environment."""
    arguments: dict[str, object] = {
        "otlp_endpoint": None,
        "capture_content": None,
        "suite_name": SUITE,
        "environment": None,
        "env": env,
    }
    arguments.update(overrides)
    return telemetry_settings(**arguments)  # type: ignore[arg-type]


def on(env: dict[str, str], **overrides: object) -> TelemetrySettings:
    """The settings, which must turn telemetry on."""
    settings = settings_from(env, **overrides)
    assert settings is not None
    return settings
