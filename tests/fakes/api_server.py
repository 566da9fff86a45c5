"""A loopback HTTP server that stands in for the Anthropic and OpenAI APIs in tests and benchmarks.

Standard library only: a `ThreadingHTTPServer` on 127.0.0.1, HTTP/1.1 with keep-alive.

    with FakeApiServer() as server:
        client = anthropic.AsyncAnthropic(api_key="k", base_url=server.base_url, max_retries=0)
        server.enqueue(anthropic_overloaded_error())       # first answer: 529
        ...                                                # later ones: the default router
        assert server.requests[0].headers["x-api-key"] == "k"

Answers come, in order of precedence, from the queue (`enqueue`), the script (`script`), then
the default handlers, which route by the skills the request offers (the Skill tool's enum, or
the skills listing Claude Code sends; see `choose_skill`) and stream their answer as
server-sent events when the request asks for `stream: true`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from tests.fakes.anthropic_stream import anthropic_streamed
from tests.fakes.anthropic_wire import (
    PromptCache,
    anthropic_api_error,
    anthropic_authentication_error,
    anthropic_count_tokens,
    anthropic_default_response,
    anthropic_error,
    anthropic_invalid_request_error,
    anthropic_not_found_error,
    anthropic_overloaded_error,
    anthropic_rate_limit_error,
    anthropic_text,
    anthropic_tool_use,
)
from tests.fakes.exchange import (
    FakeResponse,
    RecordedRequest,
    SseEvent,
    SsePause,
    drop_connection,
    rfc3339_after,
    slow,
)
from tests.fakes.openai_wire import (
    go_duration,
    openai_authentication_error,
    openai_default_response,
    openai_error,
    openai_not_found_error,
    openai_rate_limit_error,
    openai_ratelimit_headers,
    openai_server_error,
    openai_text,
    openai_tool_call,
)

__all__ = [
    "FakeApiServer",
    "FakeResponse",
    "RecordedRequest",
    "RequestLimiter",
    "anthropic_api_error",
    "anthropic_authentication_error",
    "anthropic_error",
    "anthropic_invalid_request_error",
    "anthropic_not_found_error",
    "anthropic_overloaded_error",
    "anthropic_rate_limit_error",
    "anthropic_streamed",
    "anthropic_text",
    "anthropic_tool_use",
    "drop_connection",
    "openai_authentication_error",
    "openai_error",
    "openai_rate_limit_error",
    "openai_server_error",
    "openai_text",
    "openai_tool_call",
    "slow",
]

MESSAGES_PATH = "/v1/messages"
COUNT_TOKENS_PATH = "/v1/messages/count_tokens"
CHAT_COMPLETIONS_PATH = "/v1/chat/completions"
ANSWERED_PATHS = (MESSAGES_PATH, COUNT_TOKENS_PATH, CHAT_COMPLETIONS_PATH)
_REASONS = {529: "Overloaded"}

Handler = Callable[[RecordedRequest], FakeResponse]


@dataclass(frozen=True)
class Admission:
    """The limiter's verdict on one request, with the numbers its headers report."""

    admitted: bool
    remaining: int
    reset_s: float
    retry_after_s: float = 0.0
    reason: str = ""


class RequestLimiter:
    """Requests per minute as a token bucket, plus a cap on requests in flight.

    The bucket holds `requests_per_minute` tokens and refills continuously at
    `requests_per_minute / 60` a second (the algorithm Anthropic documents for its own
    limits): a burst of R passes at once, after that one request every 60/R seconds.
    `reset_s` is the time until the bucket is full again; `retry_after_s` the time until
    the next token. A request over `max_concurrent` is refused with a one-second retry.
    """

    def __init__(self, requests_per_minute: int | None, max_concurrent: int | None) -> None:
        self.requests_per_minute = requests_per_minute
        self.max_concurrent = max_concurrent
        self._tokens = float(requests_per_minute or 0)
        self._refilled_at = time.monotonic()
        self._in_flight = 0
        self._lock = threading.Lock()

    def admit(self) -> Admission:
        """Take a token and a concurrency slot, or say why not and when to retry."""
        full = float(self.requests_per_minute or 0)
        with self._lock:
            self._refill()
            if self.max_concurrent is not None and self._in_flight >= self.max_concurrent:
                return Admission(False, 0, self._seconds_until(full), 1.0, "concurrent requests")
            if self.requests_per_minute is not None:
                if self._tokens < 1:
                    retry_after_s = self._seconds_until(1.0)
                    reason = "requests per minute"
                    return Admission(False, 0, self._seconds_until(full), retry_after_s, reason)
                self._tokens -= 1
            self._in_flight += 1
            return Admission(True, math.floor(self._tokens), self._seconds_until(full))

    def drain(self) -> None:
        """Empty the bucket, so a measurement starts at the sustained rate, not a burst."""
        with self._lock:
            self._tokens = 0.0
            self._refilled_at = time.monotonic()

    def release(self) -> None:
        """Give back the concurrency slot of an admitted request once it is answered."""
        with self._lock:
            self._in_flight -= 1

    def _refill(self) -> None:
        now = time.monotonic()
        if self.requests_per_minute is not None:
            rate = self.requests_per_minute / 60.0
            earned = (now - self._refilled_at) * rate
            self._tokens = min(float(self.requests_per_minute), self._tokens + earned)
        self._refilled_at = now

    def _seconds_until(self, tokens: float) -> float:
        if not self.requests_per_minute:
            return 0.0
        return max(tokens - self._tokens, 0.0) * 60.0 / self.requests_per_minute


class FakeApiServer:
    """A scripted stand-in for the paid APIs on 127.0.0.1, started and stopped as a context.

    `requests_per_minute` and `max_concurrent` turn on rate limiting (see `RequestLimiter`);
    refused requests get a 429 `rate_limit_error` in the called API's shape. Anthropic
    clients use `base_url`, OpenAI clients `openai_base_url` (it ends in `/v1`).
    """

    def __init__(
        self, *, requests_per_minute: int | None = None, max_concurrent: int | None = None
    ) -> None:
        limited = requests_per_minute is not None or max_concurrent is not None
        self._limiter = RequestLimiter(requests_per_minute, max_concurrent) if limited else None
        self._cache = PromptCache()
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._queue: deque[FakeResponse] = deque()
        self._handler: Handler | None = None
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The server's root, e.g. "http://127.0.0.1:54321" (what the Anthropic SDK wants)."""
        if self._httpd is None:
            raise RuntimeError("FakeApiServer is not running; use it as a context manager")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def openai_base_url(self) -> str:
        """The root the OpenAI SDK wants: `base_url` plus `/v1`."""
        return self.base_url + "/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def script(self, handler: Handler | None) -> None:
        """Answer every request (after the queue empties) with `handler`; None restores defaults."""
        with self._lock:
            self._handler = handler

    def enqueue(self, *responses: FakeResponse) -> None:
        """Serve these responses, one a request in order, before the script or defaults."""
        with self._lock:
            self._queue.extend(responses)

    def drain_rate_limit(self) -> None:
        """Empty the request bucket (see `RequestLimiter.drain`); no-op without rate limits."""
        if self._limiter is not None:
            self._limiter.drain()

    def default_response(self, request: RecordedRequest) -> FakeResponse:
        """What the built-in router answers; scripts may call it to wrap or decorate it."""
        if request.path == MESSAGES_PATH:
            return anthropic_default_response(request, self._cache)
        if request.path == COUNT_TOKENS_PATH:
            return anthropic_count_tokens(request)
        if request.path == CHAT_COMPLETIONS_PATH:
            return openai_default_response(request)
        return _not_found(request)

    def start(self) -> FakeApiServer:
        """Bind a free loopback port and serve from a daemon thread."""
        httpd = _QuietServer(("127.0.0.1", 0), _RequestHandler, bind_and_activate=False)
        httpd.daemon_threads = True
        httpd.request_queue_size = 128  # the default of 5 stalls concurrent benchmarks
        httpd.server_bind()
        httpd.server_activate()
        httpd.owner = self  # type: ignore[attr-defined]
        self._stopping.clear()
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits up to one poll
            name="fake-api",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut open keep-alive connections and release sleeping slow answers."""
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd, self._thread = None, None

    def __enter__(self) -> FakeApiServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _answer(self, request: RecordedRequest) -> tuple[FakeResponse, Admission | None]:
        """Record the request and choose its response; the caller releases the admission."""
        with self._lock:
            self._requests.append(request)
        if request.method != "POST" or request.path not in ANSWERED_PATHS:
            return _not_found(request), None
        admission = self._limiter.admit() if self._limiter else None
        if admission is not None and not admission.admitted:
            return self._refusal(request, admission), None
        with self._lock:
            queued = self._queue.popleft() if self._queue else None
            handler = self._handler or self.default_response
        try:
            response = queued or handler(request)
        except Exception as error:  # surface script bugs to the client instead of hanging it
            message = f"fake server handler raised {error!r}"
            is_openai = request.path == CHAT_COMPLETIONS_PATH
            response = openai_server_error(message) if is_openai else anthropic_api_error(message)
        if admission is not None and 200 <= response.status < 300:
            response = self._with_request_headers(request, response, admission)
        return response, admission

    def _refusal(self, request: RecordedRequest, admission: Admission) -> FakeResponse:
        limit = self._requests_limit()
        message = f"Number of {admission.reason} has exceeded your rate limit"
        if request.path == CHAT_COMPLETIONS_PATH:
            headers = openai_ratelimit_headers(
                requests_limit=limit, requests_remaining=0, requests_reset_s=admission.reset_s
            )
            return openai_error(
                429,
                "requests",
                message,
                "rate_limit_exceeded",
                admission.retry_after_s,
                headers=headers,
            )
        headers = {
            "anthropic-ratelimit-requests-limit": str(limit),
            "anthropic-ratelimit-requests-remaining": "0",
            "anthropic-ratelimit-requests-reset": rfc3339_after(admission.reset_s),
        }
        return anthropic_error(
            429, "rate_limit_error", message, retry_after=admission.retry_after_s, headers=headers
        )

    def _with_request_headers(
        self, request: RecordedRequest, response: FakeResponse, admission: Admission
    ) -> FakeResponse:
        if self._limiter is None or self._limiter.requests_per_minute is None:
            return response
        limit = self._requests_limit()
        if request.path == CHAT_COMPLETIONS_PATH:
            current = {
                "x-ratelimit-limit-requests": str(limit),
                "x-ratelimit-remaining-requests": str(admission.remaining),
                "x-ratelimit-reset-requests": go_duration(admission.reset_s),
            }
        else:
            current = {
                "anthropic-ratelimit-requests-limit": str(limit),
                "anthropic-ratelimit-requests-remaining": str(admission.remaining),
                "anthropic-ratelimit-requests-reset": rfc3339_after(admission.reset_s),
            }
        return dataclasses.replace(response, headers={**response.headers, **current})

    def _opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def _closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _finished(self, admission: Admission | None) -> None:
        if admission is not None and self._limiter is not None:
            self._limiter.release()

    def _stopped_while_waiting(self, delay_s: float) -> bool:
        return self._stopping.wait(delay_s)

    def _requests_limit(self) -> int:
        assert self._limiter is not None
        return self._limiter.requests_per_minute or self._limiter.max_concurrent or 0


def _not_found(request: RecordedRequest) -> FakeResponse:
    """404 in the shape of whichever API the client looks like."""
    if "anthropic-version" in request.headers or "x-api-key" in request.headers:
        return anthropic_not_found_error(f"Not found: {request.method} {request.path}")
    return openai_not_found_error(request.method, request.path)


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up mid-request (a killed `claude`, a timed-out SDK) are normal here."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    """Reads one request, asks the owning `FakeApiServer` for an answer, writes it."""

    protocol_version = "HTTP/1.1"

    @property
    def owner(self) -> FakeApiServer:
        return self.server.owner  # type: ignore[attr-defined,no-any-return]

    def setup(self) -> None:
        super().setup()
        self.owner._opened(self.connection)

    def finish(self) -> None:
        self.owner._closed(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests read `server.requests`, not stderr."""

    def do_POST(self) -> None:
        self._handle()

    do_GET = do_PUT = do_PATCH = do_DELETE = do_POST

    def _handle(self) -> None:
        arrived_at = time.monotonic()
        raw = self._read_body()
        target = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=target.path,
            query=target.query,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=_parse_json(raw),
            arrived_at=arrived_at,
        )
        response, admission = self.owner._answer(request)
        try:
            if response.delay_s > 0 and self.owner._stopped_while_waiting(response.delay_s):
                self.close_connection = True
                return
            if response.drop:
                self.close_connection = True
                return
            if response.stream is not None:
                self._write_stream(response, response.stream)
            else:
                self._write(response)
        except OSError:  # the client gave up (timeouts) or the server is stopping
            self.close_connection = True
        finally:
            self.owner._finished(admission)

    def _read_body(self) -> bytes:
        if "chunked" not in self.headers.get("transfer-encoding", "").lower():
            return self.rfile.read(int(self.headers.get("content-length") or 0))
        chunks = []
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailers end with an empty line
        return b"".join(chunks)

    def _write(self, response: FakeResponse) -> None:
        payload = _encode(response.body)
        reason = _REASONS.get(response.status) or _phrase(response.status)
        self.send_response(response.status, reason)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _write_stream(
        self, response: FakeResponse, events: tuple[SseEvent | SsePause, ...]
    ) -> None:
        """Server-sent events in HTTP/1.1 chunks, one event a chunk, flushed as it goes."""
        self.send_response(response.status, _phrase(response.status))
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        for event in events:
            if isinstance(event, SsePause):
                self.wfile.flush()
                if self.owner._stopped_while_waiting(event.seconds):
                    self.close_connection = True
                    return
                continue
            data = json.dumps(event.data, separators=(",", ":"))
            chunk = f"event: {event.name}\ndata: {data}\n\n".encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def _parse_json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _encode(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    return json.dumps(body).encode()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
