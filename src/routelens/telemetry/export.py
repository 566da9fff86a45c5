"""Where telemetry goes: settings from flags and `OTEL_*` variables, the resource, the pipeline.

Telemetry is off unless an OTLP endpoint is given. When it is on, `start_telemetry` builds a
tracer provider and a meter provider that export over OTLP (HTTP/protobuf or gRPC) and, if
asked, serve the metrics for Prometheus on 127.0.0.1. The providers are handed to the code
that records spans and metrics; nothing is installed globally.

A collector that cannot be reached never fails or slows the run: each export gives up within
80 % of `flush_timeout_s`, closing the pipeline waits no longer than `flush_timeout_s`, and
the first failure is said once on stderr. The OpenTelemetry SDK is imported only when
telemetry is on, so the `otel` extra stays optional.

>>> settings = telemetry_settings(otlp_endpoint="http://localhost:4318", capture_content=None,
...                               suite_name="jira-assistant", environment="ci", env={})
>>> settings.service_name
'jira-assistant-routing-tests'
>>> with start_telemetry(settings, build_resource(settings, run=run)) as pipeline:  # doctest: +SKIP
...     RunTelemetry(run, skills, tracer_provider=pipeline.tracer_provider,
...                  meter_provider=pipeline.meter_provider,
...                  capture_content=pipeline.capture_content)
"""

from __future__ import annotations

import importlib.util
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Final, Literal
from urllib.parse import unquote

from routelens import __version__
from routelens.errors import InputError
from routelens.store.records import RunRecord
from routelens.telemetry import names

if TYPE_CHECKING:
    from http.server import HTTPServer

    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import MetricExporter, MetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

    from routelens.telemetry.exporters import ExportFailureReporter

OtlpProtocol = Literal["http/protobuf", "grpc"]
HTTP_PROTOBUF: Final = "http/protobuf"
GRPC: Final = "grpc"

# the standard OpenTelemetry environment variables this module reads
ENV_ENDPOINT: Final = "OTEL_EXPORTER_OTLP_ENDPOINT"
ENV_TRACES_ENDPOINT: Final = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
ENV_METRICS_ENDPOINT: Final = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
ENV_PROTOCOL: Final = "OTEL_EXPORTER_OTLP_PROTOCOL"
ENV_SERVICE_NAME: Final = "OTEL_SERVICE_NAME"
ENV_SDK_DISABLED: Final = "OTEL_SDK_DISABLED"
ENV_RESOURCE_ATTRIBUTES: Final = "OTEL_RESOURCE_ATTRIBUTES"
ENV_CAPTURE_CONTENT: Final = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

DEFAULT_HTTP_ENDPOINT: Final = "http://localhost:4318"
DEFAULT_GRPC_ENDPOINT: Final = "http://localhost:4317"

OTEL_EXTRA_HINT: Final = "telemetry needs the otel extra: pip install 'routelens[otel]'"
GRPC_EXTRA_HINT: Final = (
    "OTLP over gRPC needs the otel-grpc extra: pip install 'routelens[otel-grpc]'"
)


@dataclass(frozen=True, kw_only=True)
class TelemetrySettings:
    """Whether, where and how a run exports spans and metrics (see `telemetry_settings`).

    `endpoint` is the base URL (`--otlp-endpoint` or `OTEL_EXPORTER_OTLP_ENDPOINT`); over HTTP
    the signal paths `/v1/traces` and `/v1/metrics` are added to it. `traces_endpoint` and
    `metrics_endpoint` are full per-signal URLs from the `OTEL_EXPORTER_OTLP_*_ENDPOINT`
    variables, used when no `--otlp-endpoint` is given.
    """

    endpoint: str | None
    protocol: OtlpProtocol = HTTP_PROTOBUF
    service_name: str
    environment: str | None = None
    capture_content: bool = False
    flush_timeout_s: float = 5.0
    prometheus_port: int | None = None
    resource_attributes: dict[str, str] = field(default_factory=dict)
    traces_endpoint: str | None = None
    metrics_endpoint: str | None = None

    def signal_endpoint(self, signal: Literal["traces", "metrics"]) -> str:
        """The URL (HTTP) or address (gRPC) one signal is exported to."""
        explicit = self.traces_endpoint if signal == "traces" else self.metrics_endpoint
        if explicit:
            return explicit
        if self.protocol == GRPC:
            return self.endpoint or DEFAULT_GRPC_ENDPOINT
        return f"{(self.endpoint or DEFAULT_HTTP_ENDPOINT).rstrip('/')}/v1/{signal}"


def telemetry_settings(
    *,
    otlp_endpoint: str | None,
    capture_content: bool | None,
    suite_name: str,
    environment: str | None,
    env: Mapping[str, str] = os.environ,
) -> TelemetrySettings | None:
    """Telemetry settings from the flags and the `OTEL_*` variables; None when it is off.

    It is on when `--otlp-endpoint`, `OTEL_EXPORTER_OTLP_ENDPOINT` or
    `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, and `OTEL_SDK_DISABLED` is not `true`.
    A flag wins over a variable.
    """
    if _value(env, ENV_SDK_DISABLED).lower() == "true":
        return None
    flag_endpoint = (otlp_endpoint or "").strip() or None
    endpoint = flag_endpoint or _value(env, ENV_ENDPOINT) or None
    # per-signal variables apply only when the flag does not name the collector
    traces_endpoint = None if flag_endpoint else _value(env, ENV_TRACES_ENDPOINT) or None
    metrics_endpoint = None if flag_endpoint else _value(env, ENV_METRICS_ENDPOINT) or None
    if endpoint is None and traces_endpoint is None:
        return None
    protocol = _protocol(env)
    source = (
        "--otlp-endpoint" if flag_endpoint else (ENV_ENDPOINT if endpoint else ENV_TRACES_ENDPOINT)
    )
    _require_sdk(protocol, source)
    resource_attributes = _resource_attributes(env)
    service_name = (
        _value(env, ENV_SERVICE_NAME)
        or resource_attributes.get(names.SERVICE_NAME)
        or f"{suite_name}{names.SERVICE_NAME_SUFFIX}"
    )
    if capture_content is None:
        capture_content = _value(env, ENV_CAPTURE_CONTENT).lower() == "true"
    return TelemetrySettings(
        endpoint=endpoint,
        protocol=protocol,
        service_name=service_name,
        environment=environment,
        capture_content=capture_content,
        resource_attributes=resource_attributes,
        traces_endpoint=traces_endpoint,
        metrics_endpoint=metrics_endpoint,
    )


def _value(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def _protocol(env: Mapping[str, str]) -> OtlpProtocol:
    raw = _value(env, ENV_PROTOCOL) or HTTP_PROTOBUF
    if raw == HTTP_PROTOBUF:
        return HTTP_PROTOBUF
    if raw == GRPC:
        return GRPC
    raise InputError(
        ENV_PROTOCOL, f"expected '{HTTP_PROTOBUF}' or '{GRPC}', got {raw!r}", field="protocol"
    )


def _require_sdk(protocol: OtlpProtocol, source: str) -> None:
    if not _importable("opentelemetry.sdk"):
        raise InputError(source, OTEL_EXTRA_HINT)
    if protocol == GRPC and not _importable("opentelemetry.exporter.otlp.proto.grpc"):
        raise InputError(ENV_PROTOCOL, GRPC_EXTRA_HINT, field="protocol")
    if protocol == HTTP_PROTOBUF and not _importable("opentelemetry.exporter.otlp.proto.http"):
        raise InputError(source, OTEL_EXTRA_HINT)


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _resource_attributes(env: Mapping[str, str]) -> dict[str, str]:
    """`OTEL_RESOURCE_ATTRIBUTES`: `key=value` pairs, comma-separated, values percent-encoded."""
    attributes: dict[str, str] = {}
    for position, item in enumerate(_value(env, ENV_RESOURCE_ATTRIBUTES).split(","), start=1):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(
                ENV_RESOURCE_ATTRIBUTES,
                f"expected key=value pairs separated by commas, got {item.strip()!r}",
                field=f"resource_attributes[{position}]",
            )
        attributes[key.strip()] = unquote(value.strip())
    return attributes


def build_resource(settings: TelemetrySettings, *, run: RunRecord) -> Resource:
    """The resource every span and metric of the run carries.

    Precedence: the run's facts (service name and version, environment, commit, branch,
    suite version) win over `OTEL_RESOURCE_ATTRIBUTES`, which wins over detected defaults
    (host name). `service.name` is the plan's `<suite>-routing-tests` unless
    `OTEL_SERVICE_NAME` (or `service.name` in `OTEL_RESOURCE_ATTRIBUTES`) says otherwise.
    """
    from opentelemetry.sdk.resources import Resource

    facts: dict[str, str] = {
        names.SERVICE_NAME: settings.service_name,
        names.SERVICE_VERSION: __version__,
    }
    optional_facts = {
        names.DEPLOYMENT_ENVIRONMENT: settings.environment or run.environment,
        names.VCS_REF_HEAD_REVISION: run.git_commit,
        names.VCS_REF_HEAD_NAME: run.git_branch,
        names.SUITE_VERSION_RESOURCE: run.suite_version,
    }
    facts.update({key: value for key, value in optional_facts.items() if value})
    defaults = {names.HOST_NAME: socket.gethostname()}
    return Resource.create({**defaults, **settings.resource_attributes, **facts})


class TelemetryPipeline:
    """A run's tracer and meter providers and their exporters; close it when the run ends.

    Closing flushes what is buffered and shuts everything down within `flush_timeout_s`,
    whatever the collector does, and never raises.
    """

    def __init__(
        self,
        settings: TelemetrySettings,
        *,
        tracer_provider: TracerProvider,
        meter_provider: MeterProvider,
        span_exporter: SpanExporter,
        metric_exporter: MetricExporter,
        reporter: ExportFailureReporter,
        prometheus_server: HTTPServer | None = None,
    ) -> None:
        self.settings = settings
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.span_exporter = span_exporter
        self.metric_exporter = metric_exporter
        self._reporter = reporter
        self._prometheus_server = prometheus_server
        self._closed = False

    @property
    def capture_content(self) -> bool:
        """Whether spans may carry the case input and the model's answer."""
        return self.settings.capture_content

    @property
    def prometheus_port(self) -> int | None:
        """The port `/metrics` is served on at 127.0.0.1 (the bound one when 0 was asked)."""
        if self._prometheus_server is None:
            return None
        return int(self._prometheus_server.server_address[1])

    @property
    def export_failure(self) -> str | None:
        """The line printed about a failed export, if one failed."""
        return self._reporter.reported

    def __enter__(self) -> TelemetryPipeline:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Flush and shut down, spans and metrics side by side, within `flush_timeout_s`."""
        if self._closed:
            return
        self._closed = True
        budget_s = self.settings.flush_timeout_s
        deadline = time.monotonic() + budget_s
        # shutting down exports what is still buffered; spans and metrics go side by side,
        # and a worker still waiting on the network at the deadline is left behind (a daemon
        # whose export gives up on its own, within EXPORT_SHARE_OF_FLUSH of the bound)
        workers = [
            _start_quietly("routelens-telemetry-traces", self.tracer_provider.shutdown),
            _start_quietly(
                "routelens-telemetry-metrics",
                lambda: self.meter_provider.shutdown(timeout_millis=budget_s * 1000),
            ),
        ]
        if self._prometheus_server is not None:
            workers.append(
                _start_quietly("routelens-telemetry-prometheus", self._stop_prometheus_server)
            )
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        self._reporter.close()

    def _stop_prometheus_server(self) -> None:
        if self._prometheus_server is not None:
            self._prometheus_server.shutdown()
            self._prometheus_server.server_close()


def _start_quietly(name: str, target: Callable[[], object]) -> threading.Thread:
    worker = threading.Thread(target=_call_quietly, args=(target,), name=name, daemon=True)
    worker.start()
    return worker


def _call_quietly(target: Callable[[], object]) -> None:
    try:
        target()
    except Exception:
        # telemetry must never fail the run; a failed export has already been reported
        return


def start_telemetry(settings: TelemetrySettings, resource: Resource) -> TelemetryPipeline:
    """Build the providers and exporters for one run (the OTel SDK must be installed)."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from routelens.telemetry.exporters import (
        ExportFailureReporter,
        ReportingMetricExporter,
        ReportingSpanExporter,
        exporter_logger_names,
        otlp_exporters,
        prometheus_reader,
    )

    span_exporter, metric_exporter = otlp_exporters(settings)
    prometheus_readers, prometheus_server = prometheus_reader(settings)
    reporter = ExportFailureReporter(
        exporter_logger_names(span_exporter) + exporter_logger_names(metric_exporter)
    )
    timeout_ms = int(settings.flush_timeout_s * 1000)
    tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    tracer_provider.add_span_processor(
        BatchSpanProcessor(
            ReportingSpanExporter(span_exporter, reporter, settings.signal_endpoint("traces")),
            export_timeout_millis=timeout_ms,
        )
    )
    readers: list[MetricReader] = [
        PeriodicExportingMetricReader(
            ReportingMetricExporter(metric_exporter, reporter, settings.signal_endpoint("metrics")),
            export_timeout_millis=timeout_ms,
        ),
        *prometheus_readers,
    ]
    meter_provider = MeterProvider(
        metric_readers=readers, resource=resource, shutdown_on_exit=False
    )
    return TelemetryPipeline(
        settings,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        span_exporter=span_exporter,
        metric_exporter=metric_exporter,
        reporter=reporter,
        prometheus_server=prometheus_server,
    )
