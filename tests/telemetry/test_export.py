"""The resource, and real exports through the pipeline: OTLP/HTTP, OTLP/gRPC, Prometheus."""

from __future__ import annotations

import logging
import re
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from opentelemetry.trace import StatusCode

from routelens import __version__
from routelens.errors import InputError
from routelens.telemetry import names
from routelens.telemetry.export import TelemetryPipeline, build_resource, start_telemetry
from routelens.telemetry.settings import TelemetrySettings
from tests.factories import make_run
from tests.telemetry.env import SERVICE, SUITE, on
from tests.telemetry.grpc_receiver import GrpcOtlpReceiver, HangingCollector
from tests.telemetry.otlp_receiver import OtlpReceiver, attributes_of

FAILURE_LINE = re.compile(
    r"^routelens: telemetry: could not export to (?P<endpoint>\S+): (?P<reason>.+); "
    r"the run itself is unaffected$"
)


# --- the resource ---------------------------------------------------------------------------


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

    pipeline.close()

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


def test_a_collector_that_accepts_and_hangs_is_given_up_on_and_reported_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with HangingCollector() as collector:
        settings = TelemetrySettings(
            endpoint=collector.endpoint, service_name=SERVICE, flush_timeout_s=1.0
        )
        pipeline = start_telemetry(settings, build_resource(settings, run=make_run()))
        record_a_little(pipeline)
        pipeline.close()
        # close came back while the collector still held every request unanswered: it
        # waited for the exports' own give-up, not for the collector
        assert collector.hanging
        assert collector.accepted >= 1
        assert collector.received_bytes > 0
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    match = FAILURE_LINE.match(lines[0])
    assert match, lines[0]
    assert match["endpoint"].startswith(f"{collector.endpoint}/v1/")
    assert "time" in match["reason"].lower()  # "timed out" or "due to timeout"


def test_spans_and_metrics_reach_a_real_otlp_grpc_receiver(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    with GrpcOtlpReceiver() as receiver:
        env = {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_INSECURE": "true"}
        settings = on(env, otlp_endpoint=receiver.endpoint)
        with start_telemetry(settings, build_resource(settings, run=make_run())) as pipeline:
            assert isinstance(pipeline.span_exporter, OTLPSpanExporter)
            assert isinstance(pipeline.metric_exporter, OTLPMetricExporter)
            record_a_little(pipeline)
    spans = [
        (span.name, attributes_of(resource_spans.resource.attributes)[names.SERVICE_NAME])
        for request in receiver.trace_requests
        for resource_spans in request.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]
    assert sorted(spans) == [("routing_test_TC001", SERVICE), (names.SUITE_SPAN, SERVICE)]
    metric_names = {
        metric.name
        for request in receiver.metric_requests
        for resource_metrics in request.resource_metrics
        for scope_metrics in resource_metrics.scope_metrics
        for metric in scope_metrics.metrics
    }
    assert {names.METRIC_TESTS, names.METRIC_DURATION} <= metric_names
    assert pipeline.export_failure is None
    assert capsys.readouterr().err == ""


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


def test_metrics_exporter_none_sends_no_metrics_and_reports_nothing(
    receiver: OtlpReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = on({"OTEL_METRICS_EXPORTER": "none"}, otlp_endpoint=receiver.endpoint)
    with start_telemetry(settings, build_resource(settings, run=make_run())) as pipeline:
        record_a_little(pipeline)
        assert pipeline.metric_exporter is None
    assert {span.name for span in receiver.spans()} == {names.SUITE_SPAN, "routing_test_TC001"}
    assert receiver.metric_requests == []
    assert capsys.readouterr().err == ""


def test_console_exporters_write_to_stderr_and_leave_stdout_to_the_report(
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {"OTEL_TRACES_EXPORTER": "console", "OTEL_METRICS_EXPORTER": "console"}
    settings = on(env)
    with start_telemetry(settings, build_resource(settings, run=make_run())) as pipeline:
        record_a_little(pipeline)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert '"name": "routing_test_TC001"' in captured.err
    assert f'"name": "{names.METRIC_TESTS}"' in captured.err


def test_the_openinference_project_is_the_service_unless_the_environment_names_one() -> None:
    resource = build_resource(on({}, otlp_endpoint="http://c"), run=make_run(suite_name=SUITE))
    assert resource.attributes[names.OPENINFERENCE_PROJECT_NAME] == SERVICE
    env = {"OTEL_RESOURCE_ATTRIBUTES": "openinference.project.name=nightly"}
    named = build_resource(on(env, otlp_endpoint="http://c"), run=make_run())
    assert named.attributes[names.OPENINFERENCE_PROJECT_NAME] == "nightly"
