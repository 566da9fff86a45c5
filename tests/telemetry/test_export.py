"""Telemetry settings from flags and OTEL_* variables, and real exports through the pipeline."""

from __future__ import annotations

import importlib.util
import logging
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from opentelemetry.trace import StatusCode

from routelens import __version__
from routelens.errors import InputError
from routelens.telemetry import names
from routelens.telemetry.export import (
    TelemetryPipeline,
    TelemetrySettings,
    build_resource,
    start_telemetry,
    telemetry_settings,
)
from tests.factories import make_run
from tests.telemetry.otlp_receiver import OtlpReceiver, attributes_of

SUITE = "jira-assistant"
SERVICE = "jira-assistant-routing-tests"  # the name the plan's queries select
FAILURE_LINE = re.compile(
    r"^routelens: telemetry: could not export to (?P<endpoint>\S+): (?P<reason>.+); "
    r"the run itself is unaffected$"
)


@pytest.fixture(autouse=True)
def no_otel_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK also reads os.environ: a developer's OTEL_* settings must not leak in."""
    import os

    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)


def settings_from(env: dict[str, str], **overrides: object) -> TelemetrySettings | None:
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
    settings = settings_from(env, **overrides)
    assert settings is not None
    return settings


# --- settings -------------------------------------------------------------------------------


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
        ("opentelemetry.sdk", "http/protobuf", "routelens[otel]"),
        ("opentelemetry.exporter.otlp.proto.http", "http/protobuf", "routelens[otel]"),
        ("opentelemetry.exporter.otlp.proto.grpc", "grpc", "routelens[otel-grpc]"),
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


def test_resource_carries_the_run_and_merges_otel_resource_attributes() -> None:
    env = {"OTEL_RESOURCE_ATTRIBUTES": "team=qa,host.name=ci-7,service.version=overridden"}
    settings = on(env, otlp_endpoint="http://c", environment="ci")
    run = make_run(suite_name=SUITE, suite_version="1.0", git_commit="abc123", git_branch="main")
    attributes = dict(build_resource(settings, run=run).attributes)
    assert attributes[names.SERVICE_NAME] == SERVICE
    assert attributes[names.SERVICE_VERSION] == __version__  # a fact of the run wins
    assert attributes[names.DEPLOYMENT_ENVIRONMENT] == "ci"
    assert attributes[names.VCS_REF_HEAD_REVISION] == "abc123"
    assert attributes[names.VCS_REF_HEAD_NAME] == "main"
    assert attributes[names.SUITE_VERSION_RESOURCE] == "1.0"
    assert attributes[names.HOST_NAME] == "ci-7"  # the variable wins over the detected default
    assert attributes["team"] == "qa"
    detected = dict(build_resource(on({}, otlp_endpoint="http://c"), run=make_run()).attributes)
    assert detected[names.HOST_NAME] == socket.gethostname()
    assert names.DEPLOYMENT_ENVIRONMENT not in detected
    assert names.VCS_REF_HEAD_REVISION not in detected


# --- pipelines ------------------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        yield running


def record_a_little(pipeline: TelemetryPipeline) -> None:
    """A suite span with one attempt span under it, a counter and a histogram."""
    tracer = pipeline.tracer_provider.get_tracer("routelens-test")
    attempt_attributes = {names.TEST_CATEGORY: "direct", names.TEST_ROUTING_CORRECT: True}
    with (
        tracer.start_as_current_span(names.SUITE_SPAN, attributes={names.RUN_ID: "run-1"}),
        tracer.start_as_current_span(
            names.attempt_span_name("TC001"), attributes=attempt_attributes
        ) as attempt,
    ):
        attempt.set_status(StatusCode.OK)
    meter = pipeline.meter_provider.get_meter("routelens-test")
    tests = meter.create_counter(names.METRIC_TESTS, unit=names.UNIT_ONE)
    tests.add(2, {names.LABEL_RESULT: "pass"})
    tests.add(1, {names.LABEL_RESULT: "fail"})
    duration = meter.create_histogram(
        names.METRIC_DURATION,
        unit=names.UNIT_SECONDS,
        explicit_bucket_boundaries_advisory=names.DURATION_BUCKETS,
    )
    duration.record(0.2, {names.LABEL_RESULT: "pass"})
    duration.record(0.7, {names.LABEL_RESULT: "pass"})


@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_spans_and_metrics_reach_a_real_otlp_http_receiver(
    receiver: OtlpReceiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    compression: str,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", compression)
    env = {"OTEL_RESOURCE_ATTRIBUTES": "team=qa,deployment.environment.name=staging"}
    settings = on(env, otlp_endpoint=receiver.endpoint)
    run = make_run(suite_name=SUITE, git_commit="abc123")
    with start_telemetry(settings, build_resource(settings, run=run)) as pipeline:
        record_a_little(pipeline)

    assert set(receiver.content_encodings) == {"" if compression == "none" else "gzip"}
    spans = {span.name: span for span in receiver.spans()}
    assert set(spans) == {names.SUITE_SPAN, "routing_test_TC001"}
    suite, attempt = spans[names.SUITE_SPAN], spans["routing_test_TC001"]
    assert attempt.span.trace_id == suite.span.trace_id
    assert attempt.span.parent_span_id == suite.span.span_id
    assert not suite.span.parent_span_id
    assert attempt.attributes == {names.TEST_CATEGORY: "direct", names.TEST_ROUTING_CORRECT: True}
    assert suite.attributes == {names.RUN_ID: "run-1"}
    resource = attempt.resource
    assert resource[names.SERVICE_NAME] == SERVICE
    assert resource["team"] == "qa"
    assert resource[names.DEPLOYMENT_ENVIRONMENT] == "staging"
    assert resource[names.VCS_REF_HEAD_REVISION] == "abc123"

    metrics = receiver.latest_metrics()
    tests, duration = metrics[names.METRIC_TESTS], metrics[names.METRIC_DURATION]
    assert tests.resource[names.SERVICE_NAME] == SERVICE
    assert tests.metric.unit == names.UNIT_ONE
    assert tests.metric.sum.is_monotonic
    counts = {
        attributes_of(point.attributes)[names.LABEL_RESULT]: point.as_int
        for point in tests.metric.sum.data_points
    }
    assert counts == {"pass": 2, "fail": 1}
    assert duration.metric.unit == names.UNIT_SECONDS
    (point,) = duration.metric.histogram.data_points
    assert (point.count, point.sum) == (2, pytest.approx(0.9))
    assert tuple(point.explicit_bounds) == names.DURATION_BUCKETS
    assert pipeline.export_failure is None
    assert capsys.readouterr().err == ""


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_collector_is_reported_once_and_does_not_hold_the_run(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    endpoint = f"http://127.0.0.1:{closed_port()}"
    settings = on({}, otlp_endpoint=endpoint)
    settings = TelemetrySettings(**{**vars(settings), "flush_timeout_s": 2.0})
    pipeline = start_telemetry(settings, build_resource(settings, run=make_run()))
    record_a_little(pipeline)

    started = time.monotonic()
    pipeline.close()
    elapsed = time.monotonic() - started

    assert elapsed < settings.flush_timeout_s + 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    match = FAILURE_LINE.match(lines[0])
    assert match, lines[0]
    assert match["endpoint"].startswith(f"{endpoint}/v1/")
    assert "refused" in match["reason"].lower()
    assert pipeline.export_failure == lines[0]
    exporter_records = [r for r in caplog.records if r.name.startswith("opentelemetry.exporter")]
    assert exporter_records == []
    pipeline.close()  # a second close is a no-op
    # the filters are gone: the exporters' loggers are the user's again
    assert not logging.getLogger("opentelemetry.exporter.otlp.proto.http.trace_exporter").filters


def test_credentials_in_the_endpoint_are_not_printed(capsys: pytest.CaptureFixture[str]) -> None:
    endpoint = f"http://user:s3cret@127.0.0.1:{closed_port()}"
    settings = TelemetrySettings(endpoint=endpoint, service_name=SERVICE, flush_timeout_s=1.0)
    with start_telemetry(settings, build_resource(settings, run=make_run())) as pipeline:
        record_a_little(pipeline)
    err = capsys.readouterr().err
    assert "s3cret" not in err
    assert "could not export to http://127.0.0.1:" in err


def test_a_grpc_pipeline_uses_the_grpc_exporters() -> None:
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    env = {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
    settings = on(env, otlp_endpoint=f"http://127.0.0.1:{closed_port()}")
    settings = TelemetrySettings(**{**vars(settings), "flush_timeout_s": 1.0})
    with start_telemetry(settings, build_resource(settings, run=make_run())) as pipeline:
        assert isinstance(pipeline.span_exporter, OTLPSpanExporter)
        assert isinstance(pipeline.metric_exporter, OTLPMetricExporter)


def test_the_prometheus_port_serves_the_recorded_metrics(receiver: OtlpReceiver) -> None:
    settings = TelemetrySettings(
        endpoint=receiver.endpoint, service_name=SERVICE, prometheus_port=0, flush_timeout_s=2.0
    )
    with start_telemetry(settings, build_resource(settings, run=make_run())) as pipeline:
        record_a_little(pipeline)
        port = pipeline.prometheus_port
        assert port
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    assert re.search(r'^routing_test_total\{.*result="pass".*\} 2\.0$', text, re.MULTILINE), text
    assert "routing_test_duration_seconds_bucket" in text
    with pytest.raises(urllib.error.URLError):  # the server is gone with the pipeline
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)


def test_a_busy_prometheus_port_is_an_input_error(receiver: OtlpReceiver) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings = TelemetrySettings(
            endpoint=receiver.endpoint,
            service_name=SERVICE,
            prometheus_port=int(taken.getsockname()[1]),
        )
        with pytest.raises(InputError, match=r"cannot serve metrics on 127\.0\.0\.1"):
            start_telemetry(settings, build_resource(settings, run=make_run()))
