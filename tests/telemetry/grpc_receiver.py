"""A loopback OTLP/gRPC collector (grpcio + the OTLP protos), and one that accepts and hangs.

>>> with GrpcOtlpReceiver() as receiver:
...     ...  # export to receiver.endpoint ("http://127.0.0.1:<port>")
>>> receiver.trace_requests  # doctest: +SKIP
"""

from __future__ import annotations

import socket
import threading
from concurrent import futures
from types import TracebackType
from typing import Any

import grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


class _Traces(trace_service_pb2_grpc.TraceServiceServicer):  # type: ignore[misc]
    def __init__(self, owner: GrpcOtlpReceiver) -> None:
        self.owner = owner

    def Export(self, request: ExportTraceServiceRequest, context: Any) -> Any:
        with self.owner.lock:
            self.owner.trace_requests.append(request)
            self.owner.metadata.append(dict(context.invocation_metadata()))
        return ExportTraceServiceResponse()


class _Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):  # type: ignore[misc]
    def __init__(self, owner: GrpcOtlpReceiver) -> None:
        self.owner = owner

    def Export(self, request: ExportMetricsServiceRequest, context: Any) -> Any:
        with self.owner.lock:
            self.owner.metric_requests.append(request)
        return ExportMetricsServiceResponse()


class GrpcOtlpReceiver:
    """A grpc.server on 127.0.0.1 with the OTLP trace and metrics services."""

    def __init__(self) -> None:
        self.trace_requests: list[ExportTraceServiceRequest] = []
        self.metric_requests: list[ExportMetricsServiceRequest] = []
        self.metadata: list[dict[str, str]] = []
        self.lock = threading.Lock()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_Traces(self), self._server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(_Metrics(self), self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")

    @property
    def endpoint(self) -> str:
        """What to give a gRPC exporter."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> GrpcOtlpReceiver:
        self._server.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.stop(grace=None)


class HangingCollector:
    """Accepts connections and reads what it is sent, but never answers until released."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self.accepted = 0
        self.received_bytes = 0
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def endpoint(self) -> str:
        """The collector's base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def hanging(self) -> bool:
        """Still holding every connection without an answer."""
        return not self._release.is_set()

    def _serve(self) -> None:
        self._listener.settimeout(0.1)
        while not self._release.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._hold, args=(connection,), daemon=True).start()

    def _hold(self, connection: socket.socket) -> None:
        connection.settimeout(0.1)
        with connection:
            while not self._release.is_set():
                try:
                    chunk = connection.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                self.received_bytes += len(chunk)

    def __enter__(self) -> HangingCollector:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._release.set()
        self._listener.close()
        self._thread.join(timeout=5)
