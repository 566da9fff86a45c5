"""The claude-code router's options (`--router-option key=value`), validated once."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from routelens.errors import InputError


@dataclass(frozen=True)
class ClaudeCodeSettings:
    """Options of the claude-code router, given as `--router-option key=value`.

    `executable`: the `claude` binary, a name on PATH or a path. `timeout_s`: seconds one
    attempt may run before the process is killed. `stop_early`: stop Claude Code as soon as the
    route is known (faster and cheaper, but then the CLI never reports its cost: tokens are
    those streamed so far and the cost is estimated from them at list prices).
    `terminate_grace_s`: how long a stopped process may take to exit before it is killed.
    `extra_args`: more CLI flags, e.g. `["--max-turns", "2"]`. `isolate`: give each attempt
    its own empty home and configuration folder, so the user's personal skills, `CLAUDE.md`
    and settings stay out of the measurement. `credentials_file`: with `isolate`, a
    `.credentials.json` from a `claude` login to copy into each attempt's configuration.
    `count_skill_reads`: a first tool call that reads a skill's SKILL.md chooses that skill,
    as a Skill call does. `max_retries`: how often Claude Code itself retries a failed API
    request (its `CLAUDE_CODE_MAX_RETRIES`; None keeps its default).
    """

    executable: str = "claude"
    timeout_s: float = 120.0
    stop_early: bool = True
    terminate_grace_s: float = 2.0
    extra_args: tuple[str, ...] = ()
    isolate: bool = True
    credentials_file: str | None = None
    count_skill_reads: bool = True
    max_retries: int | None = None


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
    for key in ("executable", "credentials_file"):
        if values.get(key) is not None and not isinstance(values[key], str):
            raise _option_error(key, "must be a command name or a path")
    for key, minimum in (("timeout_s", 0.001), ("terminate_grace_s", 0.0)):
        if key in values:
            values[key] = _number(key, values[key], minimum)
    for key in ("stop_early", "isolate", "count_skill_reads"):
        if key in values and not isinstance(values[key], bool):
            raise _option_error(key, f"must be true or false, not {values[key]!r}")
    retries = values.get("max_retries")
    if retries is not None and (isinstance(retries, bool) or not isinstance(retries, int)):
        raise _option_error("max_retries", f"must be a whole number >= 0, not {retries!r}")
    if isinstance(retries, int) and retries < 0:
        raise _option_error("max_retries", f"must be a whole number >= 0, not {retries!r}")
    extra = values.get("extra_args", ())
    if isinstance(extra, str):
        extra = shlex.split(extra)
    if not isinstance(extra, list | tuple) or not all(isinstance(a, str) for a in extra):
        raise _option_error("extra_args", "must be a list of strings or one shell-quoted string")
    values["extra_args"] = tuple(extra)
    return ClaudeCodeSettings(**values)
