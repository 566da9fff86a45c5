"""A loopback OTLP/HTTP collector for tests: decodes what it is sent and keeps it.

>>> with OtlpReceiver() as receiver:
...     ...  # export to receiver.endpoint ("http://127.0.0.1:<port>")
>>> receiver.spans()  # doctest: +SKIP
"""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from google.protobuf.message import Message
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric
from opentelemetry.proto.trace.v1.trace_pb2 import Span

TRACES_PATH = "/v1/traces"
METRICS_PATH = "/v1/metrics"


def value_of(value: AnyValue) -> Any:
    """The Python value of an OTLP `AnyValue` (scalars and arrays of scalars)."""
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [value_of(item) for item in value.array_value.values]
    return getattr(value, kind) if kind else None


def attributes_of(key_values: Any) -> dict[str, Any]:
    """OTLP `KeyValue` list → dict."""
    return {kv.key: value_of(kv.value) for kv in key_values if isinstance(kv, KeyValue)}


@dataclass(frozen=True)
class ReceivedSpan:
    """One span as it arrived, with the attributes of the resource it came with."""

    span: Span
    resource: dict[str, Any]

    @property
    def name(self) -> str:
        return self.span.name

    @property
    def attributes(self) -> dict[str, Any]:
        return attributes_of(self.span.attributes)


@dataclass(frozen=True)
class ReceivedMetric:
    """One metric of one export request, with its resource's attributes."""

    metric: Metric
    resource: dict[str, Any]


class OtlpReceiver:
    """An http.server on 127.0.0.1, port 0, accepting POST /v1/traces and /v1/metrics."""

    def __init__(self) -> None:
        self.trace_requests: list[ExportTraceServiceRequest] = []
        self.metric_requests: list[ExportMetricsServiceRequest] = []
        self.content_encodings: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        """The base URL to give an exporter (`OTEL_EXPORTER_OTLP_ENDPOINT` style)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def spans(self) -> list[ReceivedSpan]:
        """Every span received, in arrival order."""
        with self._lock:
            requests = list(self.trace_requests)
        return [
            ReceivedSpan(span, attributes_of(resource_spans.resource.attributes))
            for request in requests
            for resource_spans in request.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]

    def metrics(self) -> Iterator[ReceivedMetric]:
        """Every metric of every request, in arrival order (a metric may come more than once)."""
        with self._lock:
            requests = list(self.metric_requests)
        for request in requests:
            for resource_metrics in request.resource_metrics:
                resource = attributes_of(resource_metrics.resource.attributes)
                for scope_metrics in resource_metrics.scope_metrics:
                    for metric in scope_metrics.metrics:
                        yield ReceivedMetric(metric, resource)

    def latest_metrics(self) -> dict[str, ReceivedMetric]:
        """The last received version of each metric, by name (cumulative: the final values)."""
        return {received.metric.name: received for received in self.metrics()}

    def _record(self, path: str, body: bytes, encoding: str) -> Message | None:
        request: ExportTraceServiceRequest | ExportMetricsServiceRequest
        response: Message
        if path == TRACES_PATH:
            request, response = ExportTraceServiceRequest(), ExportTraceServiceResponse()
        elif path == METRICS_PATH:
            request, response = ExportMetricsServiceRequest(), ExportMetricsServiceResponse()
        else:
            return None
        request.ParseFromString(body)
        with self._lock:
            self.content_encodings.append(encoding)
            if isinstance(request, ExportTraceServiceRequest):
                self.trace_requests.append(request)
            else:
                self.metric_requests.append(request)
        return response

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                encoding = (self.headers.get("Content-Encoding") or "").lower()
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                response = receiver._record(self.path, body, encoding)
                if response is None:
                    self.send_error(404)
                    return
                payload = response.SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return  # keep test output clean

        return Handler
