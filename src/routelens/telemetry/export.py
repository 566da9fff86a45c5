"""Where telemetry goes: the resource and the pipeline, from the settings of `settings.py`.

Telemetry is off unless configured (see `telemetry_settings`). When it is on,
`start_telemetry` builds a tracer provider and a meter provider with the exporters the
settings name: OTLP (HTTP/protobuf or gRPC), the console (stderr), and for metrics a
Prometheus endpoint. The providers are handed to the code that records spans and metrics;
nothing is installed globally.

A collector that cannot be reached never fails or slows the run: each export gives up within
80 % of `flush_timeout_s`, closing the pipeline waits no longer than `flush_timeout_s`, and
the first failure is said once on stderr. The OpenTelemetry SDK is imported only when
telemetry is on, so the `otel` extra stays optional.

>>> from routelens.telemetry.settings import telemetry_settings
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

import socket
import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from routelens import __version__
from routelens.store.records import RunRecord
from routelens.telemetry import names
from routelens.telemetry.settings import TelemetrySettings

if TYPE_CHECKING:
    from http.server import HTTPServer

    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import MetricExporter, MetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

    from routelens.telemetry.exporters import ExportFailureReporter


def build_resource(settings: TelemetrySettings, *, run: RunRecord) -> Resource:
    """The resource every span and metric of the run carries.

    Precedence: the run's facts (service name and version, environment, commit, branch,
    suite version) win over `OTEL_RESOURCE_ATTRIBUTES`, which wins over detected defaults
    (host name). `service.name` is the plan's `<suite>-routing-tests` unless
    `OTEL_SERVICE_NAME` (or `service.name` in `OTEL_RESOURCE_ATTRIBUTES`) says otherwise.
    `openinference.project.name` is the service name too (each suite its own project in
    Arize Phoenix), unless `OTEL_RESOURCE_ATTRIBUTES` names another.
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
    defaults = {
        names.HOST_NAME: socket.gethostname(),
        names.OPENINFERENCE_PROJECT_NAME: settings.service_name,
    }
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
        span_exporter: SpanExporter | None,
        metric_exporter: MetricExporter | None,
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


def build_providers(
    resource: Resource,
    span_exporters: Sequence[SpanExporter],
    metric_readers: Sequence[MetricReader],
    *,
    export_timeout_ms: int,
) -> tuple[TracerProvider, MeterProvider]:
    """The providers a run records into: a batch span processor per exporter, the readers.

    Exemplars are off: attempts are recorded after they end, outside any span, so the
    default filter would only spend time finding that there is no span to link.
    """
    from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter, MeterProvider
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    for span_exporter in span_exporters:
        tracer_provider.add_span_processor(
            BatchSpanProcessor(span_exporter, export_timeout_millis=export_timeout_ms)
        )
    meter_provider = MeterProvider(
        metric_readers=list(metric_readers),
        resource=resource,
        shutdown_on_exit=False,
        exemplar_filter=AlwaysOffExemplarFilter(),
    )
    return tracer_provider, meter_provider


def start_telemetry(settings: TelemetrySettings, resource: Resource) -> TelemetryPipeline:
    """Build the providers and exporters for one run (the OTel SDK must be installed)."""
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    from routelens.telemetry.exporters import (
        ExportFailureReporter,
        ReportingMetricExporter,
        ReportingSpanExporter,
        chosen_exporters,
        exporter_logger_names,
        prometheus_reader,
    )

    chosen = chosen_exporters(settings)
    prometheus_readers, prometheus_server = prometheus_reader(settings)
    reporter = ExportFailureReporter(
        name
        for exporter, _ in (*chosen.spans, *chosen.metrics)
        for name in exporter_logger_names(exporter)
    )
    timeout_ms = int(settings.flush_timeout_s * 1000)
    readers: list[MetricReader] = [
        PeriodicExportingMetricReader(
            ReportingMetricExporter(metric_exporter, reporter, destination),
            export_timeout_millis=timeout_ms,
        )
        for metric_exporter, destination in chosen.metrics
    ]
    tracer_provider, meter_provider = build_providers(
        resource,
        [
            ReportingSpanExporter(span_exporter, reporter, destination)
            for span_exporter, destination in chosen.spans
        ],
        [*readers, *prometheus_readers],
        export_timeout_ms=timeout_ms,
    )
    return TelemetryPipeline(
        settings,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        span_exporter=chosen.otlp_spans,
        metric_exporter=chosen.otlp_metrics,
        reporter=reporter,
        prometheus_server=prometheus_server,
    )
