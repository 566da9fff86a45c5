"""Capture the request Claude Code sends: run it once against a loopback server that keeps it.

The server listens on 127.0.0.1 only, records each request and answers the Messages API with
a one-word reply, so the CLI finishes normally; nothing leaves the machine. Claude Code runs
isolated (its own empty home) with a placeholder API key: the user's credentials are never
read or sent, and the captured request holds no secret.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from routelens.errors import InputError
from routelens.routers.claude_code import HEADLESS_ARGS
from routelens.routers.claude_code_prompt import CapturedRequest
from routelens.routers.claude_stream import ClaudeStream
from routelens.routers.claude_workspace import (
    attempt_environment,
    create_workspace,
    remove_workspace,
)
from routelens.suite.models import SkillSet

CAPTURE_API_KEY = "sk-ant-routelens-capture-placeholder"
CAPTURE_REPLY = "OK"
# variables that would make Claude Code use other credentials than the placeholder key
_CREDENTIAL_VARIABLES = ("ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_API_KEY")


@dataclass(frozen=True)
class _Seen:
    path: str
    headers: dict[str, str]
    body: Any


class _CaptureHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the capture reports what it found, not each request."""

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        path = self.path.split("?")[0]
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.seen.append(_Seen(path, headers, body))  # type: ignore[attr-defined]
        if path == "/v1/messages/count_tokens":
            self._json(200, {"input_tokens": 1})
        elif path == "/v1/messages" and isinstance(body, dict):
            self._reply(body)
        else:
            error = {"type": "not_found_error", "message": f"Not found: {path}"}
            self._json(404, {"type": "error", "error": error})

    do_GET = do_POST

    def _json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _reply(self, body: dict[str, Any]) -> None:
        usage = {"input_tokens": 1, "output_tokens": 1}
        reply = {"type": "text", "text": CAPTURE_REPLY}
        message: dict[str, Any] = {
            "id": "msg_capture",
            "type": "message",
            "role": "assistant",
            "model": body.get("model"),
            "content": [reply],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": usage,
        }
        if not body.get("stream"):
            self._json(200, message)
            return
        started = {**message, "content": [], "stop_reason": None}
        events = [
            ("message_start", {"type": "message_start", "message": started}),
            (
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": reply},
            ),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": usage},
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        payload = b"".join(
            f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events
        )
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@contextmanager
def _capture_server() -> Iterator[tuple[str, list[_Seen]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CaptureHandler)
    server.daemon_threads = True
    seen: list[_Seen] = []
    server.seen = seen  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def capture_claude_code_request(
    executable: str, skills: SkillSet, *, model: str | None = None, timeout_s: float = 120.0
) -> CapturedRequest:
    """Run Claude Code once with `skills` installed; return the request it sent for the prompt."""
    marker = f"Reply with OK. (routelens capture {secrets.token_hex(6)})"
    workspace = create_workspace(skills, isolate=True)
    try:
        with _capture_server() as (base_url, seen):
            environment = attempt_environment(workspace, os.environ, max_retries=0)
            for variable in _CREDENTIAL_VARIABLES:
                environment.pop(variable, None)
            environment |= {"ANTHROPIC_BASE_URL": base_url, "ANTHROPIC_API_KEY": CAPTURE_API_KEY}
            command = [executable, *HEADLESS_ARGS, *(["--model", model] if model else [])]
            try:
                done = subprocess.run(
                    command,
                    input=marker,
                    capture_output=True,
                    text=True,
                    cwd=workspace.project,
                    env=environment,
                    timeout=timeout_s,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as error:
                raise _error(f"cannot run {executable}: {error}") from None
    finally:
        remove_workspace(workspace)
    stream = ClaudeStream()
    for line in done.stdout.splitlines():
        stream.feed_line(line)
    if done.returncode != 0 or stream.claude_code_version is None:
        last = (done.stderr.strip().splitlines() or ["no output on stderr"])[-1]
        raise _error(f"{executable} exited with code {done.returncode}: {last[:300]}")
    for request in seen:
        if request.path == "/v1/messages" and marker in json.dumps(request.body):
            return CapturedRequest(
                body=request.body,
                headers=request.headers,
                prompt_marker=marker,
                claude_code_version=stream.claude_code_version,
                session_skills=stream.session_skills,
                captured_on=date.today(),
            )
    raise _error(f"Claude Code sent no Messages request with the prompt ({len(seen)} requests)")


def _error(message: str) -> InputError:
    return InputError("claude-prompt capture", message, field="executable")
