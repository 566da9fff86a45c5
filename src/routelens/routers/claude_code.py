"""The `claude-code` router: runs Claude Code headless and watches which skill it calls first."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import shutil
import signal
import time
from collections import deque
from collections.abc import Awaitable, Mapping
from typing import Any

from routelens.errors import InputError
from routelens.routers.base import RouteRequest, RouterError, RouteResult
from routelens.routers.claude_code_settings import ClaudeCodeSettings, settings_from_options
from routelens.routers.claude_stream import ClaudeStream, api_error_type
from routelens.routers.claude_workspace import (
    AttemptWorkspace,
    attempt_environment,
    create_workspace,
    personal_skill_names,
    personal_skills_folder,
    remove_workspace,
    skill_of_read,
)
from routelens.routers.pricing import PriceTable, load_price_table
from routelens.suite.builtin import route_label

__all__ = [
    "CLAUDE_CODE_ROUTER_NAME",
    "EMPTY_INPUT_RESPONSE",
    "HEADLESS_ARGS",
    "ClaudeCodeRouter",
    "ClaudeCodeSettings",
    "build_claude_code_router",
    "build_prompt",
    "redact",
]

CLAUDE_CODE_ROUTER_NAME = "claude-code"
HEADLESS_ARGS = ("-p", "--output-format", "stream-json", "--verbose", "--include-partial-messages")
TIMEOUT_ERROR_TYPE = "timeout"
CLI_ERROR_TYPE = "cli_error"
MAX_LINE_BYTES = 16 * 1024 * 1024
MAX_MESSAGE_CHARS = 300
STDERR_LINES_KEPT = 20
STDERR_WAIT_S = 1.0
# `claude -p` refuses an empty prompt; a person who sends nothing gets asked for input
EMPTY_INPUT_RESPONSE = "(no input: Claude Code waits for the user to type a request)"
_SECRET_VARIABLE = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL", re.IGNORECASE)
_ANTHROPIC_KEY = re.compile(r"sk-ant-[A-Za-z0-9_-]+")

logger = logging.getLogger(__name__)


def build_claude_code_router(
    model: str | None, options: Mapping[str, Any], prices: PriceTable | None = None
) -> ClaudeCodeRouter:
    """The registry's builder: `make_router("claude-code", model, options)`."""
    return ClaudeCodeRouter(settings_from_options(options), model=model, prices=prices)


def redact(text: str) -> str:
    """`text` with secret-looking environment values and Anthropic keys replaced."""
    for name, value in os.environ.items():
        if len(value) >= 8 and _SECRET_VARIABLE.search(name) and value in text:
            text = text.replace(value, "[redacted]")
    return _ANTHROPIC_KEY.sub("[redacted]", text)


def _shorten(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_prompt(request: RouteRequest) -> str:
    """The case input, preceded by its context facts and earlier turns as plain text."""
    parts: list[str] = []
    if request.context_facts:
        facts = [
            f"- {key}: {value if isinstance(value, str) else json.dumps(value, default=str)}"
            for key, value in request.context_facts.items()
        ]
        parts.append("Context:\n" + "\n".join(facts))
    if request.context_messages:
        turns = [f"{message.role}: {message.content}" for message in request.context_messages]
        parts.append("Earlier in this conversation:\n" + "\n".join(turns))
    parts.append(request.input)
    return "\n\n".join(parts)


async def _drain_lines(stream: asyncio.StreamReader | None, kept: deque[str]) -> None:
    if stream is None:
        return
    while line := await stream.readline():
        text = line.decode("utf-8", "replace").strip()
        if text:
            kept.append(text)


async def _wait_at_most(awaitable: Awaitable[Any], seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(awaitable, seconds)


def _signal_group(process: asyncio.subprocess.Process, *, hard: bool) -> None:
    """Signal the process and its children (it leads its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL if hard else signal.SIGTERM)
        elif hard:
            process.kill()
        else:
            process.terminate()


class ClaudeCodeRouter:
    """Runs `claude -p` on each case with the skills installed as project skills.

    The route is the first tool call: `Skill(<name>)` is that skill (one of Claude Code's own
    is `builtin:<name>`), a `Read` of a skill's SKILL.md chooses that skill too (unless
    `count_skill_reads` is off), any other tool means no skill; a text answer is a clarifying
    question when it asks one. An empty input never starts Claude Code: it is "no skill,
    asks for input". The cost is what Claude Code reports, or, when it is stopped before
    reporting, the streamed usage at `prices`. Each attempt runs in its own throwaway project
    and, unless `isolate` is off, its own empty home (see `claude_workspace`).

    >>> router = ClaudeCodeRouter(ClaudeCodeSettings(timeout_s=60))  # doctest: +SKIP
    """

    name = CLAUDE_CODE_ROUTER_NAME

    def __init__(
        self,
        settings: ClaudeCodeSettings | None = None,
        model: str | None = None,
        prices: PriceTable | None = None,
    ):
        self.settings = settings or ClaudeCodeSettings()
        self.model = model
        self.prices = prices or load_price_table()
        self._version: str | None = None
        found = shutil.which(self.settings.executable)
        if found is None:
            raise InputError(
                "router options",
                f"{self.settings.executable} not found on PATH; install Claude Code or pass "
                f"--router-option executable=PATH",
                field="executable",
            )
        self.executable = os.path.abspath(found)  # the attempt runs in another directory
        self._running: set[asyncio.subprocess.Process] = set()

    def command(self, model: str | None) -> list[str]:
        """The argv of one attempt (the prompt goes on stdin)."""
        args = [self.executable, *HEADLESS_ARGS]
        if model:
            args += ["--model", model]
        return args + list(self.settings.extra_args)

    async def route(self, request: RouteRequest) -> RouteResult:
        """Run Claude Code in a throwaway project that holds the skills; read its first move."""
        if not request.input.strip():
            return RouteResult(
                skill=None, asked_clarification=True, response_text=EMPTY_INPUT_RESPONSE
            )
        started = time.perf_counter()
        workspace = create_workspace(request.skills, isolate=self.settings.isolate)
        try:
            environment = attempt_environment(
                workspace,
                os.environ,
                credentials_file=self.settings.credentials_file,
                max_retries=self.settings.max_retries,
            )
            stream = self._stream(request, workspace, environment)
            returncode, stderr_tail, decided_at = await self._run(
                request, workspace, environment, stream
            )
        finally:
            remove_workspace(workspace)
        logger.debug(
            "case %s: session %s (Claude Code %s), exit %s, %s ms in Claude Code, "
            "%d malformed lines, %s cost",
            request.case_id,
            stream.session_id,
            stream.claude_code_version,
            returncode,
            (stream.result or {}).get("duration_ms", "?"),
            stream.malformed_lines,
            "estimated" if stream.cost_is_estimated else "reported",
        )
        if stream.claude_code_version:
            self._version = stream.claude_code_version
        personal = personal_skill_names(environment)
        return self._result(
            request, stream, returncode, stderr_tail, decided_at - started, personal
        )

    def run_details(self) -> dict[str, str]:
        """The Claude Code version the attempts ran on (from its `init` event), once seen."""
        return {} if self._version is None else {"claude_code_version": self._version}

    def _stream(
        self, request: RouteRequest, workspace: AttemptWorkspace, environment: Mapping[str, str]
    ) -> ClaudeStream:
        personal_folder = personal_skills_folder(environment)

        def read_resolver(file_path: str) -> str | None:
            return skill_of_read(file_path, workspace, personal_folder)

        return ClaudeStream(
            self.prices,
            requested_model=request.model or self.model,
            read_resolver=read_resolver if self.settings.count_skill_reads else None,
        )

    async def _run(
        self,
        request: RouteRequest,
        workspace: AttemptWorkspace,
        environment: Mapping[str, str],
        stream: ClaudeStream,
    ) -> tuple[int | None, deque[str], float]:
        try:
            process = await asyncio.create_subprocess_exec(
                *self.command(request.model or self.model),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=workspace.project,
                env=dict(environment),
                limit=MAX_LINE_BYTES,
                start_new_session=True,
            )
        except OSError as error:
            raise RouterError(
                redact(f"cannot start {self.executable}: {error}"), error_type=CLI_ERROR_TYPE
            ) from None
        self._running.add(process)
        stderr_tail = deque[str](maxlen=STDERR_LINES_KEPT)
        stderr_task = asyncio.create_task(_drain_lines(process.stderr, stderr_tail))
        decided_at: float | None = None
        try:
            async with asyncio.timeout(self.settings.timeout_s):
                await self._send_prompt(process, build_prompt(request))
                decided_at = await self._read(process, stream)
                if stream.result is not None:  # it exits by itself now, else it is stopped
                    await _wait_at_most(process.wait(), self.settings.terminate_grace_s)
                elif decided_at is None or not self.settings.stop_early:
                    await process.wait()  # output ended: the exit code and stderr explain why
                    await _wait_at_most(stderr_task, STDERR_WAIT_S)
        except TimeoutError:
            raise RouterError(
                f"claude gave no route within {self.settings.timeout_s:g} s; process killed",
                error_type=TIMEOUT_ERROR_TYPE,
                **_retries(stream),
            ) from None
        finally:
            await self._stop(process)
            stderr_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stderr_task
            self._running.discard(process)
        return process.returncode, stderr_tail, decided_at or time.perf_counter()

    @staticmethod
    async def _send_prompt(process: asyncio.subprocess.Process, prompt: str) -> None:
        if process.stdin is None:
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            process.stdin.write(prompt.encode("utf-8"))
            await process.stdin.drain()
        process.stdin.close()

    async def _read(
        self, process: asyncio.subprocess.Process, stream: ClaudeStream
    ) -> float | None:
        """Feed stdout to `stream` up to the decision (or the result, without early stop).

        Returns when the first tool call was seen, or None if none was.
        """
        assert process.stdout is not None
        decided_at: float | None = None
        while True:
            try:
                line = await process.stdout.readline()
            except ValueError:  # a line over MAX_LINE_BYTES: skip it like a malformed one
                stream.malformed_lines += 1
                continue
            if not line:
                return decided_at
            stream.feed_line(line.decode("utf-8", "replace"))
            if stream.tool_decided and decided_at is None:
                decided_at = time.perf_counter()
                if self.settings.stop_early:
                    return decided_at
            if stream.result is not None:
                return decided_at

    async def _stop(self, process: asyncio.subprocess.Process) -> None:
        """Terminate, then kill after the grace period; always reaps the process."""
        if process.returncode is not None:
            return
        _signal_group(process, hard=False)
        try:
            await asyncio.wait_for(process.wait(), self.settings.terminate_grace_s)
        except TimeoutError:
            _signal_group(process, hard=True)
            await process.wait()

    def _result(
        self,
        request: RouteRequest,
        stream: ClaudeStream,
        returncode: int | None,
        stderr_tail: deque[str],
        latency_s: float,
        personal: frozenset[str],
    ) -> RouteResult:
        result = stream.result
        if not stream.tool_decided:
            if result is not None and result.get("is_error"):
                raise _error_result(stream)
            if result is None and returncode != 0:
                last = stderr_tail[-1] if stderr_tail else "no output on stderr"
                raise RouterError(
                    redact(f"claude exited with code {returncode}: {_shorten(last)}"),
                    error_type=CLI_ERROR_TYPE,
                    **_retries(stream),
                )
            if result is None and not stream.text:
                raise RouterError(
                    "claude ended without an answer", error_type=CLI_ERROR_TYPE, **_retries(stream)
                )
        text = redact(stream.text)
        chosen = stream.skill if stream.tool_decided else None
        return RouteResult(
            skill=route_label(chosen, request.skills, stream.session_skills, personal),
            asked_clarification=not stream.tool_decided and "?" in text,
            response_text=text,
            tool_calls=tuple(redact(call) for call in stream.tool_calls),
            tokens=stream.tokens,
            cost_usd=stream.cost_usd,
            latency_s=latency_s,
            response_model=stream.model or request.model or self.model,
            **_retries(stream),
        )

    async def aclose(self) -> None:
        """Kill any process an interrupted run left behind."""
        for process in list(self._running):
            _signal_group(process, hard=True)
            with contextlib.suppress(ProcessLookupError):
                await process.wait()
        self._running.clear()


def _retries(stream: ClaudeStream) -> dict[str, Any]:
    """The API requests Claude Code retried, in RouteResult's and RouterError's fields."""
    events = tuple(stream.retry_events)
    return {
        "retries": len(events),
        "retry_wait_s": sum(event.wait_s for event in events),
        "retry_log": events,
    }


def _error_result(stream: ClaudeStream) -> RouterError:
    """The error a session ended on: an API error by its type and status, else the subtype."""
    result = stream.result or {}
    status = stream.api_error_status
    subtype = str(result.get("subtype") or "")
    if status is not None:
        error_type = api_error_type(status)
    else:
        error_type = subtype if subtype and subtype != "success" else CLI_ERROR_TYPE
    errors = result.get("errors")
    detail = result.get("result") or (errors[0] if isinstance(errors, list) and errors else "")
    reported = f"{error_type} (HTTP {status})" if status is not None else error_type
    retried = f" after {len(stream.retry_events)} retries" if stream.retry_events else ""
    message = f"Claude Code reported {reported}{retried} (session {stream.session_id}): {detail}"
    return RouterError(
        redact(_shorten(message)), error_type=error_type, http_status=status, **_retries(stream)
    )
