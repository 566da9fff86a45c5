"""The progress bar's live pass rate counts decided attempts only."""

from __future__ import annotations

from rich.console import Console

from routelens.report.progress import RunProgress
from routelens.store.records import Verdict
from tests.factories import make_attempt


def test_pass_rate_ignores_errors_and_starts_empty() -> None:
    console = Console(record=True, width=120, force_terminal=True)
    with RunProgress(4, console) as progress:
        assert progress.pass_rate is None
        for verdict in (Verdict.PASS, Verdict.FAIL, Verdict.ERROR, Verdict.PASS):
            progress.attempt_finished(make_attempt(verdict=verdict))
        assert progress.pass_rate == 2 / 3
        assert progress.errors == 1
