"""Telemetry settings from flags and the OTEL_* variables of the OpenTelemetry specification."""

from __future__ import annotations

import importlib.util
import re

import pytest

from routelens.errors import InputError
from tests.telemetry.env import SERVICE, on, settings_from


def test_telemetry_is_off_without_an_endpoint() -> None:
    assert settings_from({}) is None
    assert settings_from({"OTEL_SERVICE_NAME": "x", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}) is None


@pytest.mark.parametrize(
    ("env", "flag", "traces_url", "metrics_url"),
    [
        ({}, "http://collector:4318", "http://collector:4318/v1/traces", None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"}, None, "http://c:4318/v1/traces", None),
        (
            {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:4318/custom"},
            None,
            "http://t:4318/custom",
            "http://localhost:4318/v1/metrics",
        ),
        (  # the flag names the collector: per-signal variables no longer apply
            {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:4318/custom"},
            "http://flag:4318",
            "http://flag:4318/v1/traces",
            "http://flag:4318/v1/metrics",
        ),
    ],
)
def test_an_endpoint_turns_telemetry_on(
    env: dict[str, str], flag: str | None, traces_url: str, metrics_url: str | None
) -> None:
    settings = on(env, otlp_endpoint=flag)
    assert settings.protocol == "http/protobuf"
    assert settings.signal_endpoint("traces") == traces_url
    if metrics_url:
        assert settings.signal_endpoint("metrics") == metrics_url
    assert settings.flush_timeout_s == 5.0
    assert settings.prometheus_port is None


def test_the_flag_wins_over_the_variable() -> None:
    settings = on({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://env:4318"}, otlp_endpoint="http://f:1")
    assert settings.endpoint == "http://f:1"


@pytest.mark.parametrize(
    ("raw", "protocol", "traces"),
    [
        ("http/protobuf", "http/protobuf", "http://c:4318/v1/traces"),
        ("grpc", "grpc", "http://c:4318"),
        ("  grpc ", "grpc", "http://c:4318"),
    ],
)
def test_protocol_from_the_environment(raw: str, protocol: str, traces: str) -> None:
    settings = on({"OTEL_EXPORTER_OTLP_PROTOCOL": raw}, otlp_endpoint="http://c:4318")
    assert settings.protocol == protocol
    assert settings.signal_endpoint("traces") == traces


@pytest.mark.parametrize("raw", ["http/json", "HTTP", "udp"])
def test_an_unknown_protocol_is_an_input_error(raw: str) -> None:
    with pytest.raises(InputError) as caught:
        settings_from({"OTEL_EXPORTER_OTLP_PROTOCOL": raw}, otlp_endpoint="http://c:4318")
    assert caught.value.source == "OTEL_EXPORTER_OTLP_PROTOCOL"
    assert caught.value.field == "protocol"
    assert repr(raw) in caught.value.one_line()


def test_service_name_defaults_to_the_plans_name_and_the_environment_overrides_it() -> None:
    assert on({}, otlp_endpoint="http://c").service_name == SERVICE
    attrs = {"OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attributes"}
    assert on(attrs, otlp_endpoint="http://c").service_name == "from-attributes"
    both = {**attrs, "OTEL_SERVICE_NAME": "from-variable"}
    assert on(both, otlp_endpoint="http://c").service_name == "from-variable"


@pytest.mark.parametrize(
    ("flag", "variable", "expected"),
    [
        (None, None, False),
        (None, "true", True),
        (None, "TRUE", True),
        (None, "yes", False),
        (False, "true", False),
        (True, "false", True),
        (True, None, True),
    ],
)
def test_capture_content_flag_wins_over_the_variable(
    flag: bool | None, variable: str | None, expected: bool
) -> None:
    env = (
        {} if variable is None else {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": variable}
    )
    assert on(env, otlp_endpoint="http://c", capture_content=flag).capture_content is expected


@pytest.mark.parametrize("value", ["true", "TRUE", " true "])
def test_otel_sdk_disabled_turns_telemetry_off(value: str) -> None:
    env = {"OTEL_SDK_DISABLED": value, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}
    assert settings_from(env, otlp_endpoint="http://flag:4318") is None
    assert settings_from({**env, "OTEL_SDK_DISABLED": "false"}) is not None


@pytest.mark.parametrize(
    ("missing", "protocol", "extra"),
    [
        ("opentelemetry.sdk", "http/protobuf", ".[otel]"),
        ("opentelemetry.exporter.otlp.proto.http", "http/protobuf", ".[otel]"),
        ("opentelemetry.exporter.otlp.proto.grpc", "grpc", ".[otel-grpc]"),
    ],
)
def test_a_missing_extra_is_named_when_telemetry_is_asked_for(
    monkeypatch: pytest.MonkeyPatch, missing: str, protocol: str, extra: str
) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> object:
        return None if name.startswith(missing) else real_find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    env = {"OTEL_EXPORTER_OTLP_PROTOCOL": protocol}
    assert settings_from(env) is None  # off: nothing to install
    with pytest.raises(InputError, match=re.escape(extra)):
        settings_from(env, otlp_endpoint="http://c:4318")


def test_resource_attributes_are_parsed_and_a_bad_pair_is_an_input_error() -> None:
    env = {"OTEL_RESOURCE_ATTRIBUTES": "team=qa, region=eu%2Dwest ,"}
    assert on(env, otlp_endpoint="http://c").resource_attributes == {
        "team": "qa",
        "region": "eu-west",
    }
    with pytest.raises(InputError) as caught:
        settings_from({"OTEL_RESOURCE_ATTRIBUTES": "team=qa,oops"}, otlp_endpoint="http://c")
    assert caught.value.source == "OTEL_RESOURCE_ATTRIBUTES"
    assert caught.value.field == "resource_attributes[2]"


@pytest.mark.parametrize(
    ("env", "traces", "metrics", "prometheus_port"),
    [
        ({}, ("otlp",), ("otlp",), None),
        ({"OTEL_METRICS_EXPORTER": "none"}, ("otlp",), (), None),
        ({"OTEL_TRACES_EXPORTER": "none"}, (), ("otlp",), None),
        ({"OTEL_TRACES_EXPORTER": "console,otlp"}, ("console", "otlp"), ("otlp",), None),
        ({"OTEL_METRICS_EXPORTER": " Prometheus "}, ("otlp",), (), 9464),
        (
            {"OTEL_METRICS_EXPORTER": "prometheus,otlp", "OTEL_EXPORTER_PROMETHEUS_PORT": "9999"},
            ("otlp",),
            ("otlp",),
            9999,
        ),
    ],
)
def test_exporters_per_signal_follow_the_specification_variables(
    env: dict[str, str],
    traces: tuple[str, ...],
    metrics: tuple[str, ...],
    prometheus_port: int | None,
) -> None:
    settings = on(env, otlp_endpoint="http://c:4318")
    assert settings.traces_exporters == traces
    assert settings.metrics_exporters == metrics
    assert settings.prometheus_port == prometheus_port


def test_console_or_prometheus_turn_telemetry_on_without_a_collector() -> None:
    assert settings_from({"OTEL_TRACES_EXPORTER": "otlp"}) is None  # otlp needs an endpoint
    console = on({"OTEL_TRACES_EXPORTER": "console", "OTEL_METRICS_EXPORTER": "none"})
    assert (console.traces_exporters, console.metrics_exporters) == (("console",), ())
    prometheus = on({"OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "prometheus"})
    assert prometheus.prometheus_port == 9464
    assert prometheus.prometheus_host == "127.0.0.1"
    assert not prometheus.uses_otlp


def test_both_exporters_none_turns_telemetry_off() -> None:
    env = {"OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none"}
    assert settings_from(env, otlp_endpoint="http://c:4318") is None


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("OTEL_TRACES_EXPORTER", "zipkin", "unsupported exporter 'zipkin'"),
        ("OTEL_TRACES_EXPORTER", "prometheus", "unsupported exporter 'prometheus'"),
        ("OTEL_METRICS_EXPORTER", "none,otlp", "'none' cannot be combined"),
        ("OTEL_EXPORTER_PROMETHEUS_PORT", "http", "expected a port number"),
    ],
)
def test_bad_exporter_variables_are_input_errors(variable: str, value: str, message: str) -> None:
    env = {"OTEL_METRICS_EXPORTER": "prometheus", variable: value}
    with pytest.raises(InputError, match=re.escape(message)) as raised:
        settings_from(env, otlp_endpoint="http://c:4318")
    assert raised.value.source == variable
