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
    "LimiterCounts",
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
    input_tokens_remaining: int | None = None
    input_tokens_reset_s: float = 0.0


class TokenBucket:
    """`per_minute` units refilling continuously up to `capacity` (Anthropic's documented
    algorithm); it may go below zero when a request is charged after it was admitted."""

    def __init__(self, per_minute: int, capacity: int | None = None) -> None:
        self.per_minute = per_minute
        self.capacity = float(capacity if capacity is not None else per_minute)
        self.level = self.capacity
        self._refilled_at = time.monotonic()

    def refill(self, now: float) -> None:
        earned = (now - self._refilled_at) * self.per_minute / 60.0
        self.level = min(self.capacity, self.level + earned)
        self._refilled_at = now

    def seconds_until(self, level: float) -> float:
        """Seconds until the bucket holds `level` units."""
        return max(level - self.level, 0.0) * 60.0 / self.per_minute

    def drain(self, now: float) -> None:
        self.level, self._refilled_at = 0.0, now


@dataclass
class LimiterCounts:
    """What a rate-limited server has seen: admitted and refused requests, input tokens."""

    admitted: int = 0
    refused: int = 0
    input_tokens: int = 0


class RequestLimiter:
    """Requests per minute as a token bucket, input tokens per minute, and a cap in flight.

    The request bucket holds `burst` tokens (default: `requests_per_minute`) and refills
    continuously at `requests_per_minute / 60` a second (the algorithm Anthropic documents
    for its own limits): a burst passes at once, after that one request every 60/R seconds.
    The input-token bucket (`input_tokens_per_minute`) admits a request while it is above
    zero and is charged the answer's uncached input tokens (input + cache writes; cache reads
    do not count, as documented). `reset_s` is the time until a bucket is full again;
    `retry_after_s` the time until the next request would pass. A request over
    `max_concurrent` is refused with a one-second retry; its headers still tell the budget.
    """

    def __init__(
        self,
        requests_per_minute: int | None,
        max_concurrent: int | None,
        *,
        burst: int | None = None,
        input_tokens_per_minute: int | None = None,
    ) -> None:
        self.requests_per_minute = requests_per_minute
        self.max_concurrent = max_concurrent
        self._requests = TokenBucket(requests_per_minute, burst) if requests_per_minute else None
        self._input_tokens = (
            TokenBucket(input_tokens_per_minute) if input_tokens_per_minute else None
        )
        self._in_flight = 0
        self._lock = threading.Lock()
        self.counts = LimiterCounts()

    @property
    def input_tokens_per_minute(self) -> int | None:
        """The input-token limit, when one is enforced."""
        return self._input_tokens.per_minute if self._input_tokens else None

    def admit(self) -> Admission:
        """Take a token and a concurrency slot, or say why not and when to retry."""
        with self._lock:
            self._refill()
            if self.max_concurrent is not None and self._in_flight >= self.max_concurrent:
                return self._refused(1.0, "concurrent requests")
            if self._requests is not None and self._requests.level < 1:
                return self._refused(self._requests.seconds_until(1.0), "requests per minute")
            if self._input_tokens is not None and self._input_tokens.level <= 0:
                wait = self._input_tokens.seconds_until(1.0)
                return self._refused(wait, "input tokens per minute")
            if self._requests is not None:
                self._requests.level -= 1
            self._in_flight += 1
            self.counts.admitted += 1
            return self._admission(True)

    def charge_input_tokens(self, tokens: int) -> Admission:
        """Count an admitted request's input tokens; the admission as its headers tell it."""
        with self._lock:
            self._refill()
            if self._input_tokens is not None:
                self._input_tokens.level -= tokens
            self.counts.input_tokens += tokens
            return self._admission(True)

    def _refused(self, retry_after_s: float, reason: str) -> Admission:
        self.counts.refused += 1
        return dataclasses.replace(
            self._admission(False), retry_after_s=retry_after_s, reason=reason
        )

    def _admission(self, admitted: bool) -> Admission:
        requests, tokens = self._requests, self._input_tokens
        return Admission(
            admitted,
            math.floor(max(requests.level, 0.0)) if requests else 0,
            requests.seconds_until(requests.capacity) if requests else 0.0,
            input_tokens_remaining=math.floor(max(tokens.level, 0.0)) if tokens else None,
            input_tokens_reset_s=tokens.seconds_until(tokens.capacity) if tokens else 0.0,
        )

    def drain(self) -> None:
        """Empty the buckets, so a measurement starts at the sustained rate, not a burst."""
        with self._lock:
            now = time.monotonic()
            for bucket in (self._requests, self._input_tokens):
                if bucket is not None:
                    bucket.drain(now)

    def release(self) -> None:
        """Give back the concurrency slot of an admitted request once it is answered."""
        with self._lock:
            self._in_flight -= 1

    def _refill(self) -> None:
        now = time.monotonic()
        for bucket in (self._requests, self._input_tokens):
            if bucket is not None:
                bucket.refill(now)


class FakeApiServer:
    """A scripted stand-in for the paid APIs on 127.0.0.1, started and stopped as a context.

    `requests_per_minute` (with an optional smaller `burst`), `input_tokens_per_minute` and
    `max_concurrent` turn on rate limiting (see `RequestLimiter`); refused requests get a 429
    `rate_limit_error` in the called API's shape. `listen_backlog` is the accept queue. Anthropic
    clients use `base_url`, OpenAI clients `openai_base_url` (it ends in `/v1`).
    """

    def __init__(
        self,
        *,
        requests_per_minute: int | None = None,
        max_concurrent: int | None = None,
        burst: int | None = None,
        input_tokens_per_minute: int | None = None,
        listen_backlog: int = 128,
    ) -> None:
        self.listen_backlog = listen_backlog
        limits = (requests_per_minute, max_concurrent, input_tokens_per_minute)
        self._limiter = (
            RequestLimiter(
                requests_per_minute,
                max_concurrent,
                burst=burst,
                input_tokens_per_minute=input_tokens_per_minute,
            )
            if any(limit is not None for limit in limits)
            else None
        )
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

    def rate_limit_counts(self) -> LimiterCounts:
        """A copy of the limiter's counts so far (all zero without rate limits)."""
        if self._limiter is None:
            return LimiterCounts()
        with self._limiter._lock:
            return dataclasses.replace(self._limiter.counts)

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
        # http.server's default backlog of 5 drops connections opened many at once
        httpd.request_queue_size = self.listen_backlog
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
            charged = self._charge(request, response)
            response = self._with_request_headers(request, response, charged)
        return response, admission

    def _charge(self, request: RecordedRequest, response: FakeResponse) -> Admission:
        """Count the answer's uncached input tokens against the input-token limit."""
        assert self._limiter is not None
        usage = response.body.get("usage", {}) if isinstance(response.body, dict) else {}
        tokens = 0
        if request.path == MESSAGES_PATH and isinstance(usage, dict):
            tokens = int(usage.get("input_tokens") or 0)
            tokens += int(usage.get("cache_creation_input_tokens") or 0)
        return self._limiter.charge_input_tokens(tokens)

    def _refusal(self, request: RecordedRequest, admission: Admission) -> FakeResponse:
        limit = self._requests_limit()
        message = f"Number of {admission.reason} has exceeded your rate limit"
        if request.path == CHAT_COMPLETIONS_PATH:
            headers = openai_ratelimit_headers(
                requests_limit=limit,
                requests_remaining=admission.remaining,
                requests_reset_s=admission.reset_s,
            )
            return openai_error(
                429,
                "requests",
                message,
                "rate_limit_exceeded",
                admission.retry_after_s,
                headers=headers,
            )
        headers = self._anthropic_budget_headers(admission)
        return anthropic_error(
            429, "rate_limit_error", message, retry_after=admission.retry_after_s, headers=headers
        )

    def _with_request_headers(
        self, request: RecordedRequest, response: FakeResponse, admission: Admission
    ) -> FakeResponse:
        if self._limiter is None:
            return response
        limit = self._requests_limit()
        if request.path == CHAT_COMPLETIONS_PATH:
            if self._limiter.requests_per_minute is None:
                return response
            current = {
                "x-ratelimit-limit-requests": str(limit),
                "x-ratelimit-remaining-requests": str(admission.remaining),
                "x-ratelimit-reset-requests": go_duration(admission.reset_s),
            }
        else:
            current = self._anthropic_budget_headers(admission)
        return dataclasses.replace(response, headers={**response.headers, **current})

    def _anthropic_budget_headers(self, admission: Admission) -> dict[str, str]:
        """The `anthropic-ratelimit-*` headers of the limits this server enforces."""
        assert self._limiter is not None
        headers: dict[str, str] = {}
        refused = not admission.admitted
        if self._limiter.requests_per_minute is not None or refused:
            headers = {
                "anthropic-ratelimit-requests-limit": str(self._requests_limit()),
                "anthropic-ratelimit-requests-remaining": str(admission.remaining),
                "anthropic-ratelimit-requests-reset": rfc3339_after(admission.reset_s),
            }
        tokens_limit = self._limiter.input_tokens_per_minute
        if tokens_limit is not None:
            headers["anthropic-ratelimit-input-tokens-limit"] = str(tokens_limit)
            headers["anthropic-ratelimit-input-tokens-remaining"] = str(
                admission.input_tokens_remaining
            )
            headers["anthropic-ratelimit-input-tokens-reset"] = rfc3339_after(
                admission.input_tokens_reset_s
            )
        return headers

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
