"""Rows the pages share: a run as the runs table shows it, a word diff as spans."""

from __future__ import annotations

from typing import Any

from routelens.changes.diff import WordChange
from routelens.store.records import RunRecord
from routelens.store.run_summary import RunTotals


def run_row(run: RunRecord, totals: RunTotals | None, slo: float) -> dict[str, Any]:
    """A run with its totals: identity, where it ran, attempts by verdict, accuracy, cost."""
    accuracy = None if totals is None else totals.accuracy
    return {
        "run_id": run.run_id,
        "status": str(run.status),
        "started_at": run.started_at.isoformat(),
        "finished_at": None if run.finished_at is None else run.finished_at.isoformat(),
        "router": run.router,
        "model": run.model,
        "suite": run.suite_name,
        "git_commit": run.git_commit,
        "git_branch": run.git_branch,
        "labels": dict(run.labels),
        "cases": 0 if totals is None else totals.cases,
        "attempts": 0 if totals is None else totals.attempts,
        "passed": 0 if totals is None else totals.passed,
        "failed": 0 if totals is None else totals.failed,
        "errors": 0 if totals is None else totals.errors,
        "accuracy": accuracy,
        "error_rate": None if totals is None else totals.error_rate,
        "cost_usd": 0.0 if totals is None else totals.cost_usd,
        "retries": 0 if totals is None else totals.retries,
        "meets_slo": accuracy is not None and accuracy >= slo,
    }


def word_spans(changes: list[WordChange]) -> list[dict[str, str]]:
    """A word diff as `{op, text}` spans (`equal`, `delete`, `insert`), for templates."""
    return [{"op": change.op, "text": change.text} for change in changes]
