"""The `claude-code` router: runs Claude Code headless and watches which skill it calls first."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import shlex
import shutil
import signal
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from routelens.errors import InputError
from routelens.routers.base import RouteRequest, RouterError, RouteResult
from routelens.routers.claude_stream import ClaudeStream
from routelens.routers.pricing import PriceTable, load_price_table
from routelens.suite.models import SkillSet

CLAUDE_CODE_ROUTER_NAME = "claude-code"
HEADLESS_ARGS = ("-p", "--output-format", "stream-json", "--verbose", "--include-partial-messages")
TIMEOUT_ERROR_TYPE = "timeout"
CLI_ERROR_TYPE = "cli_error"
MAX_LINE_BYTES = 16 * 1024 * 1024
MAX_MESSAGE_CHARS = 300
STDERR_LINES_KEPT = 20
STDERR_WAIT_S = 1.0
_SECRET_VARIABLE = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL", re.IGNORECASE)
_ANTHROPIC_KEY = re.compile(r"sk-ant-[A-Za-z0-9_-]+")

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClaudeCodeSettings:
    """Options of the claude-code router, given as `--router-option key=value`.

    `executable`: the `claude` binary, a name on PATH or a path. `timeout_s`: seconds one
    attempt may run before the process is killed. `stop_early`: stop Claude Code as soon as the
    route is known (faster and cheaper, but then the CLI never reports its cost: tokens are
    those streamed so far and the cost is estimated from them at list prices).
    `terminate_grace_s`: how long a stopped process may take to exit before it is killed.
    `extra_args`: more CLI flags, e.g. `["--max-turns", "2"]`.
    """

    executable: str = "claude"
    timeout_s: float = 120.0
    stop_early: bool = True
    terminate_grace_s: float = 2.0
    extra_args: tuple[str, ...] = ()


def _option_error(key: str, message: str) -> InputError:
    return InputError("router options", message, field=key)


def _number(key: str, value: Any, minimum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise _option_error(key, f"must be a number of seconds >= {minimum}, not {value!r}")
    return float(value)


def settings_from_options(options: Mapping[str, Any]) -> ClaudeCodeSettings:
    """Validate `--router-option` values into settings; bad ones are `InputError`s."""
    known = [f.name for f in fields(ClaudeCodeSettings)]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise _option_error(
            unknown[0],
            f"unknown option(s) for the claude-code router: "
            f"{', '.join(unknown)} (known: {', '.join(known)})",
        )
    values: dict[str, Any] = dict(options)
    if "executable" in values and not isinstance(values["executable"], str):
        raise _option_error("executable", "must be a command name or a path")
    for key, minimum in (("timeout_s", 0.001), ("terminate_grace_s", 0.0)):
        if key in values:
            values[key] = _number(key, values[key], minimum)
    if "stop_early" in values and not isinstance(values["stop_early"], bool):
        raise _option_error("stop_early", f"must be true or false, not {values['stop_early']!r}")
    extra = values.get("extra_args", ())
    if isinstance(extra, str):
        extra = shlex.split(extra)
    if not isinstance(extra, list | tuple) or not all(isinstance(a, str) for a in extra):
        raise _option_error("extra_args", "must be a list of strings or one shell-quoted string")
    values["extra_args"] = tuple(extra)
    return ClaudeCodeSettings(**values)


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


def install_skills(skills: SkillSet, project: Path) -> None:
    """Copy each skill's folder to `project/.claude/skills/<folder>/`, where Claude Code looks."""
    root = project / ".claude" / "skills"
    for skill in skills.skills:
        target = root / skill.folder_name
        if target.exists():  # two folders of the same name at different depths
            target = root / skill.name
        shutil.copytree(
            skill.path.parent, target, ignore=shutil.ignore_patterns(".git"), symlinks=True
        )


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

    The route is the first tool call: `Skill(<name>)` is that skill, any other tool means no
    skill; a text answer is a clarifying question when it asks one. The cost is what Claude Code
    reports, or, when it is stopped before reporting, the streamed usage at `prices`.

    >>> router = ClaudeCodeRouter(ClaudeCodeSettings(timeout_s=60), model="haiku")
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
        started = time.perf_counter()
        project = Path(tempfile.mkdtemp(prefix="routelens-claude-"))
        try:
            install_skills(request.skills, project)
            stream, returncode, stderr_tail, decided_at = await self._run(request, project)
        finally:
            shutil.rmtree(project, ignore_errors=True)
        logger.debug(
            "case %s: session %s, exit %s, %s ms in Claude Code, %d malformed lines, %s cost",
            request.case_id,
            stream.session_id,
            returncode,
            (stream.result or {}).get("duration_ms", "?"),
            stream.malformed_lines,
            "estimated" if stream.cost_is_estimated else "reported",
        )
        return self._result(request, stream, returncode, stderr_tail, decided_at - started)

    async def _run(
        self, request: RouteRequest, project: Path
    ) -> tuple[ClaudeStream, int | None, deque[str], float]:
        try:
            process = await asyncio.create_subprocess_exec(
                *self.command(request.model or self.model),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=project,
                env=dict(os.environ),
                limit=MAX_LINE_BYTES,
                start_new_session=True,
            )
        except OSError as error:
            raise RouterError(
                redact(f"cannot start {self.executable}: {error}"), error_type=CLI_ERROR_TYPE
            ) from None
        self._running.add(process)
        stream = ClaudeStream(self.prices, requested_model=request.model or self.model)
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
            ) from None
        finally:
            await self._stop(process)
            stderr_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stderr_task
            self._running.discard(process)
        return stream, process.returncode, stderr_tail, decided_at or time.perf_counter()

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
    ) -> RouteResult:
        result = stream.result
        if not stream.tool_decided:
            if result is not None and result.get("is_error"):
                raise self._error_result(result, stream.session_id)
            if result is None and returncode != 0:
                last = stderr_tail[-1] if stderr_tail else "no output on stderr"
                raise RouterError(
                    redact(f"claude exited with code {returncode}: {_shorten(last)}"),
                    error_type=CLI_ERROR_TYPE,
                )
            if result is None and not stream.text:
                raise RouterError("claude ended without an answer", error_type=CLI_ERROR_TYPE)
        text = redact(stream.text)
        skill = request.skills.canonical(stream.skill) if stream.tool_decided else None
        return RouteResult(
            skill=skill,
            asked_clarification=not stream.tool_decided and "?" in text,
            response_text=text,
            tool_calls=tuple(redact(call) for call in stream.tool_calls),
            tokens=stream.tokens,
            cost_usd=stream.cost_usd,
            latency_s=latency_s,
            response_model=stream.model or request.model or self.model,
        )

    @staticmethod
    def _error_result(result: Mapping[str, Any], session_id: str | None) -> RouterError:
        subtype = str(result.get("subtype") or "")
        error_type = subtype if subtype and subtype != "success" else CLI_ERROR_TYPE
        errors = result.get("errors")
        detail = result.get("result") or (errors[0] if isinstance(errors, list) and errors else "")
        message = f"Claude Code reported {error_type} (session {session_id}): {detail}"
        return RouterError(redact(_shorten(message)), error_type=error_type)

    async def aclose(self) -> None:
        """Kill any process an interrupted run left behind."""
        for process in list(self._running):
            _signal_group(process, hard=True)
            with contextlib.suppress(ProcessLookupError):
                await process.wait()
        self._running.clear()
