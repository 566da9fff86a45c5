"""The SDK side of telemetry: OTLP and Prometheus exporters, and failures said once.

The OTLP exporters log every failed attempt (a warning per retry, an error per batch) through
the standard `logging` module. During a run those lines would interleave with the progress
output and repeat for every batch, so while an export runs on a thread the exporter's own
loggers are filtered for that thread only: the records are kept as the failure's reason, and
the first failed export prints one line on stderr. Everything else logged in the process,
including the same loggers on other threads, passes untouched.

This module needs the OpenTelemetry SDK (the `otel` extra); `export.py` imports it lazily.
Both build on `settings.py`; nothing here imports `export.py`.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit, urlunsplit

from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    MetricReader,
    MetricsData,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from routelens.errors import InputError
from routelens.telemetry.settings import (
    CONSOLE,
    GRPC,
    OTEL_EXTRA_HINT,
    OTLP,
    TelemetrySettings,
)

if TYPE_CHECKING:
    from http.server import HTTPServer

CONSOLE_DESTINATION: Final = "stderr"
# an export may use this share of the flush bound, so that it gives up (and is reported)
# before closing stops waiting for it
EXPORT_SHARE_OF_FLUSH: Final = 0.8
UNKNOWN_REASON: Final = "export failed"
# loggers the OTLP/HTTP exporters share besides their own module's logger
SHARED_EXPORTER_LOGGERS = (
    "opentelemetry.exporter.otlp.common.http",
    "opentelemetry.exporter.otlp.proto.http._common",
)


def failure_line(endpoint: str, reason: str) -> str:
    """The one line a user sees when the collector cannot be reached."""
    reason = " ".join(reason.split()) or UNKNOWN_REASON
    return (
        f"routelens: telemetry: could not export to {without_credentials(endpoint)}: {reason}; "
        "the run itself is unaffected"
    )


def without_credentials(endpoint: str) -> str:
    """The endpoint with any `user:password@` removed (it is printed)."""
    parts = urlsplit(endpoint)
    if not parts.netloc or "@" not in parts.netloc:
        return endpoint
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def root_cause(error: BaseException) -> str:
    """The innermost reason in an exception chain: `Connection refused`, not three wrappers."""
    seen: set[int] = set()
    current = error
    while id(current) not in seen:
        seen.add(id(current))
        inner = (
            current.__cause__
            or current.__context__
            or getattr(current, "reason", None)
            or (current.args[0] if current.args else None)
        )
        if not isinstance(inner, BaseException):
            break
        current = inner
    if isinstance(current, OSError) and current.strerror:
        return current.strerror
    return str(current) or type(current).__name__


class _Capture:
    """What the exporter logged during one export call on one thread."""

    def __init__(self) -> None:
        self.error_reason: str | None = None
        self.message: str | None = None
        self.message_level = logging.NOTSET

    def note(self, record: logging.LogRecord) -> None:
        errors = [arg for arg in _record_args(record) if isinstance(arg, BaseException)]
        if record.exc_info and record.exc_info[1] is not None:
            errors.append(record.exc_info[1])
        if errors:
            if self.error_reason is None:
                self.error_reason = root_cause(errors[0])
        elif record.levelno > self.message_level:
            # the final error says more than the retry warnings before it
            self.message, self.message_level = record.getMessage(), record.levelno

    def note_error(self, error: BaseException) -> None:
        if self.error_reason is None:
            self.error_reason = root_cause(error)

    @property
    def reason(self) -> str:
        return self.error_reason or self.message or UNKNOWN_REASON


def _record_args(record: logging.LogRecord) -> Iterable[object]:
    args = record.args
    if isinstance(args, tuple):
        return args
    return args.values() if args else ()


class ExportFailureReporter(logging.Filter):
    """Says once, on stderr, that telemetry could not be exported; silences the SDK meanwhile.

    >>> reporter = ExportFailureReporter(["opentelemetry.exporter.otlp.proto.http.trace_exporter"])
    >>> with reporter.capturing() as capture:
    ...     result = exporter.export(batch)  # doctest: +SKIP
    >>> reporter.failed("http://127.0.0.1:4318/v1/traces", capture.reason)  # doctest: +SKIP
    >>> reporter.close()
    """

    def __init__(self, logger_names: Iterable[str]) -> None:
        super().__init__()
        self._loggers = [logging.getLogger(name) for name in dict.fromkeys(logger_names)]
        self._local = threading.local()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._closing = False
        self.reported: str | None = None
        for logger in self._loggers:
            logger.addFilter(self)
        self._attached = True

    def filter(self, record: logging.LogRecord) -> bool:
        capture: _Capture | None = getattr(self._local, "capture", None)
        if capture is None:
            return True
        capture.note(record)
        return False

    @contextmanager
    def capturing(self) -> Iterator[_Capture]:
        """Hold back what our exporter logs on this thread while the block runs."""
        capture = _Capture()
        outer = getattr(self._local, "capture", None)
        self._local.capture = capture
        with self._lock:
            self._in_flight += 1
        try:
            yield capture
        finally:
            self._local.capture = outer
            with self._lock:
                self._in_flight -= 1
                if self._closing and self._in_flight == 0:
                    self._detach()

    def failed(self, endpoint: str, reason: str) -> None:
        """Print the failure line, the first time only and never after `close`."""
        with self._lock:
            if self.reported is not None or self._closing:
                return
            self.reported = failure_line(endpoint, reason)
        print(self.reported, file=sys.stderr, flush=True)

    def close(self) -> None:
        """Stop reporting; remove the filters once no export is running any more."""
        with self._lock:
            self._closing = True
            if self._in_flight == 0:
                self._detach()

    def _detach(self) -> None:
        if self._attached:
            for logger in self._loggers:
                logger.removeFilter(self)
            self._attached = False


def exporter_logger_names(exporter: object) -> list[str]:
    """The loggers an OTLP exporter writes to: its own modules' and the shared HTTP ones."""
    modules = [
        cls.__module__
        for cls in type(exporter).__mro__
        if cls.__module__.startswith("opentelemetry.exporter.")
    ]
    return [*modules, *SHARED_EXPORTER_LOGGERS]


class ReportingSpanExporter(SpanExporter):
    """Wraps a span exporter: a failed export is reported once and never raises."""

    def __init__(self, inner: SpanExporter, reporter: ExportFailureReporter, endpoint: str) -> None:
        self.inner = inner
        self.reporter = reporter
        self.endpoint = endpoint

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self.reporter.capturing() as capture:
            try:
                result = self.inner.export(spans)
            except Exception as error:
                capture.note_error(error)
                result = SpanExportResult.FAILURE
        if result is SpanExportResult.FAILURE:
            self.reporter.failed(self.endpoint, capture.reason)
        return result

    def shutdown(self) -> None:
        with self.reporter.capturing(), _quietly():
            self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        with self.reporter.capturing(), _quietly():
            return self.inner.force_flush(timeout_millis)
        return False


class ReportingMetricExporter(MetricExporter):
    """Wraps a metric exporter: a failed export is reported once and never raises."""

    def __init__(
        self, inner: MetricExporter, reporter: ExportFailureReporter, endpoint: str
    ) -> None:
        # the periodic reader asks the exporter it is given for these preferences
        super().__init__(
            preferred_temporality=inner._preferred_temporality,
            preferred_aggregation=inner._preferred_aggregation,
        )
        self.inner = inner
        self.reporter = reporter
        self.endpoint = endpoint

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        with self.reporter.capturing() as capture:
            try:
                result = self.inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
            except Exception as error:
                capture.note_error(error)
                result = MetricExportResult.FAILURE
        if result is MetricExportResult.FAILURE:
            self.reporter.failed(self.endpoint, capture.reason)
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        with self.reporter.capturing(), _quietly():
            return self.inner.force_flush(timeout_millis)
        return False

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        with self.reporter.capturing(), _quietly():
            self.inner.shutdown(timeout_millis=timeout_millis, **kwargs)


@contextmanager
def _quietly() -> Iterator[None]:
    # shutting down or flushing telemetry must never fail the run
    try:
        yield
    except Exception:
        return


def otlp_exporters(settings: TelemetrySettings) -> tuple[SpanExporter, MetricExporter]:
    """The OTLP span and metric exporters for the settings' protocol and endpoints."""
    # each export gives up within this, so a dead collector cannot hold a worker for long
    timeout_s = settings.flush_timeout_s * EXPORT_SHARE_OF_FLUSH
    traces, metrics = settings.signal_endpoint("traces"), settings.signal_endpoint("metrics")
    if settings.protocol == GRPC:
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
            OTLPMetricExporter as GrpcMetricExporter,
        )
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcSpanExporter,
        )

        return (
            GrpcSpanExporter(endpoint=traces, timeout=timeout_s),
            GrpcMetricExporter(endpoint=metrics, timeout=timeout_s),
        )
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return (
        OTLPSpanExporter(endpoint=traces, timeout=timeout_s),
        OTLPMetricExporter(endpoint=metrics, timeout=timeout_s),
    )


@dataclass(frozen=True)
class ChosenExporters:
    """The exporters the settings name, each with where it sends (shown when it fails)."""

    spans: list[tuple[SpanExporter, str]]
    metrics: list[tuple[MetricExporter, str]]
    otlp_spans: SpanExporter | None = None
    otlp_metrics: MetricExporter | None = None


def chosen_exporters(settings: TelemetrySettings) -> ChosenExporters:
    """OTLP and console exporters per `OTEL_TRACES_EXPORTER` / `OTEL_METRICS_EXPORTER`.

    The console ones write to stderr: stdout is the run's report (or its `--json`).
    """
    from opentelemetry.sdk.metrics.export import ConsoleMetricExporter
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter

    otlp_spans, otlp_metrics = otlp_exporters(settings) if settings.uses_otlp else (None, None)
    spans: list[tuple[SpanExporter, str]] = []
    metrics: list[tuple[MetricExporter, str]] = []
    if OTLP in settings.traces_exporters and otlp_spans is not None:
        spans.append((otlp_spans, settings.signal_endpoint("traces")))
    if CONSOLE in settings.traces_exporters:
        spans.append((ConsoleSpanExporter(out=sys.stderr), CONSOLE_DESTINATION))
    if OTLP in settings.metrics_exporters and otlp_metrics is not None:
        metrics.append((otlp_metrics, settings.signal_endpoint("metrics")))
    if CONSOLE in settings.metrics_exporters:
        metrics.append((ConsoleMetricExporter(out=sys.stderr), CONSOLE_DESTINATION))
    return ChosenExporters(
        spans,
        metrics,
        otlp_spans if OTLP in settings.traces_exporters else None,
        otlp_metrics if OTLP in settings.metrics_exporters else None,
    )


def prometheus_reader(
    settings: TelemetrySettings,
) -> tuple[list[MetricReader], HTTPServer | None]:
    """A Prometheus reader on its own registry, served on the settings' host and port."""
    if settings.prometheus_port is None:
        return [], None
    try:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from prometheus_client import CollectorRegistry, start_http_server
    except ImportError as error:
        raise InputError("prometheus_port", OTEL_EXTRA_HINT) from error
    registry = CollectorRegistry(auto_describe=True)
    try:
        server, _ = start_http_server(
            settings.prometheus_port, addr=settings.prometheus_host, registry=registry
        )
    except OSError as error:
        raise InputError(
            "prometheus_port",
            f"cannot serve metrics on {settings.prometheus_host}:{settings.prometheus_port}: "
            f"{error.strerror or error}",
        ) from error
    return [PrometheusMetricReader(registry=registry)], server
