"""The progress bar's live pass rate counts decided attempts only."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console

from routelens.report.progress import RunProgress
from routelens.store.records import AttemptRecord, Verdict

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _attempt(verdict: Verdict) -> AttemptRecord:
    return AttemptRecord("r", "C", 0, "direct", "x", "a", "a", verdict, False, T0, T0, 0.1)


def test_pass_rate_ignores_errors_and_starts_empty() -> None:
    console = Console(record=True, width=120, force_terminal=True)
    with RunProgress(4, console) as progress:
        assert progress.pass_rate is None
        for verdict in (Verdict.PASS, Verdict.FAIL, Verdict.ERROR, Verdict.PASS):
            progress.attempt_finished(_attempt(verdict))
        assert progress.pass_rate == 2 / 3
        assert progress.errors == 1
