"""`/cases/<case_id>`: a case across runs, how stable it is, and two attempts side by side.

The dict holds the case's latest definition (with the team's expected question, `ask`),
its totals, the strip of its newest attempts, its flaky groups in the window (the fields
of `routelens flaky --json`), and `diff`: the attempts `?a=` and `?b=` (attempt ids;
default the newest pass and the newest fail) with their responses diffed word by word.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routelens.analytics.flaky import DEFAULT_MIN_ATTEMPTS, classify_flaky
from routelens.changes.diff import word_diff
from routelens.commands.flaky import flaky_case_dict
from routelens.store.case_history import (
    case_attempt,
    case_flaky_aggregates,
    case_strip,
    case_totals,
    latest_attempt_id,
    latest_case_definition,
)
from routelens.store.records import AttemptRecord, Verdict
from routelens.web.context import PageNotFound, Params, WebContext
from routelens.web.pages.formats import word_spans

DEFAULT_WINDOW = "7d"


def case_page(context: WebContext, path: Mapping[str, str], params: Params) -> dict[str, Any]:
    """The case's definition, attempts over time, flaky class, and the response diff."""
    case_id = path["case_id"]
    engine = context.store.engine
    totals = case_totals(engine, case_id)
    if totals.attempts == 0:
        raise PageNotFound(f"no attempts of a case {case_id!r} in this store")
    window_text, window = params.window(DEFAULT_WINDOW)
    attempt_filter = context.window_filter(window)
    groups = classify_flaky(
        case_flaky_aggregates(engine, case_id, attempt_filter), min_attempts=DEFAULT_MIN_ATTEMPTS
    )
    strip = case_strip(engine, case_id)
    definition = latest_case_definition(engine, case_id) or {}
    return {
        "case_id": case_id,
        "window": window_text,
        "definition": definition,
        "ask": definition.get("ask"),
        "totals": {
            "attempts": totals.attempts,
            "passed": totals.passed,
            "failed": totals.failed,
            "errors": totals.errors,
            "first_seen": None if totals.first_seen is None else totals.first_seen.isoformat(),
            "last_seen": None if totals.last_seen is None else totals.last_seen.isoformat(),
        },
        "strip": [
            {
                "attempt_id": attempt.attempt_id,
                "run_id": attempt.run_id,
                "repeat_index": attempt.repeat_index,
                "started_at": attempt.started_at.isoformat(),
                "verdict": attempt.verdict,
                "route": _route(attempt.actual_skill, attempt.asked_clarification),
                "latency_s": attempt.latency_s,
                "error_type": attempt.error_type,
            }
            for attempt in strip
        ],
        "flaky": [flaky_case_dict(group) for group in groups],
        "diff": _diff(context, case_id, params),
    }


def _route(actual_skill: str | None, asked: bool) -> str:
    if actual_skill is not None:
        return actual_skill
    return "(asked)" if asked else "(none)"


def _diff(context: WebContext, case_id: str, params: Params) -> dict[str, Any]:
    engine = context.store.engine
    chosen = []
    for name, default in (("a", Verdict.PASS), ("b", Verdict.FAIL)):
        attempt_id = params.integer(name, 0, minimum=0) or latest_attempt_id(
            engine, case_id, default
        )
        attempt = None if attempt_id is None else case_attempt(engine, case_id, attempt_id)
        if attempt_id and params.text(name) and attempt is None:
            raise PageNotFound(f"case {case_id!r} has no attempt {attempt_id}")
        chosen.append((attempt_id, attempt))
    (a_id, a), (b_id, b) = chosen
    words = word_diff(a.response_text, b.response_text) if a is not None and b else []
    return {
        "a": None if a is None else _attempt_side(a_id, a),
        "b": None if b is None else _attempt_side(b_id, b),
        "words": word_spans(words),
        "same_response": a is not None and b is not None and a.response_text == b.response_text,
    }


def _attempt_side(attempt_id: int | None, attempt: AttemptRecord) -> dict[str, Any]:
    return {
        "attempt_id": attempt_id,
        "run_id": attempt.run_id,
        "repeat_index": attempt.repeat_index,
        "started_at": attempt.started_at.isoformat(),
        "verdict": str(attempt.verdict),
        "route": _route(attempt.actual_skill, attempt.asked_clarification),
        "asked_clarification": attempt.asked_clarification,
        "response_text": attempt.response_text,
        "tokens": {
            "input": attempt.input_tokens,
            "output": attempt.output_tokens,
            "cache_read": attempt.cache_read_tokens,
            "cache_write": attempt.cache_write_tokens,
        },
        "latency_s": attempt.latency_s,
        "cost_usd": attempt.cost_usd,
        "error_type": attempt.error_type,
        "error_message": attempt.error_message,
        "input": attempt.input,
    }
