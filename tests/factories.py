"""Record factories shared by the tests: a run and its attempts with plain, fixed values.

Every field can be overridden by keyword, so a test names only what it is about:

    make_attempt("b", Verdict.FAIL, actual="review", repeat_index=1)
    make_run("run-2", status=RunStatus.INTERRUPTED, model=None)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from routelens.store.records import AttemptRecord, RunRecord, RunStatus, Verdict

STARTED = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
"""When every factory-made run and attempt starts (and attempts finish), unless overridden."""


def make_run(run_id: str = "run-1", **overrides: Any) -> RunRecord:
    """A completed run of the `smoke` suite through `anthropic` / `claude-test`.

    It starts at `STARTED` and has fixed hashes; `overrides` replace any field by name.
    """
    fields: dict[str, Any] = {
        "run_id": run_id,
        "started_at": STARTED,
        "router": "anthropic",
        "model": "claude-test",
        "skills_hash": "0123456789abcdef0123",
        "suite_hash": "feed",
        "suite_name": "smoke",
        "status": RunStatus.COMPLETED,
    }
    fields.update(overrides)
    return RunRecord(**fields)


def make_attempt(
    case_id: str = "case-1",
    verdict: Verdict = Verdict.PASS,
    *,
    expected: str | None = "deploy",
    actual: str | None = None,
    **overrides: Any,
) -> AttemptRecord:
    """Repeat 0 of `case_id` in run `run-1`, category `core`, taking 1 s at `STARTED`.

    `expected` and `actual` are the expected and routed skill (None: ask for clarification /
    no skill). A passing attempt routes to the expected skill unless `actual` is given; a
    failing or erroring one routes nowhere. `overrides` replace any other field by name,
    e.g. `repeat_index=1`, `run_id="run-2"` or `error_type="timeout"`.
    """
    if actual is None and verdict is Verdict.PASS:
        actual = expected
    fields: dict[str, Any] = {
        "run_id": "run-1",
        "case_id": case_id,
        "repeat_index": 0,
        "category": "core",
        "input": "ship it",
        "expected_skill": expected,
        "actual_skill": actual,
        "verdict": verdict,
        "asked_clarification": False,
        "started_at": STARTED,
        "finished_at": STARTED,
        "latency_s": 1.0,
    }
    fields.update(overrides)
    return AttemptRecord(**fields)
