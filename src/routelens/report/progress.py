"""A rich progress bar with the live pass rate, shown on stderr while a run executes."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from routelens.store.records import AttemptRecord, Verdict


class RunProgress:
    """Progress of one run; an `AttemptObserver` for the runner.

    >>> with RunProgress(total=120, console=Console(stderr=True)) as progress:
    ...     pass  # the runner calls progress.attempt_finished(attempt)
    """

    def __init__(self, total: int, console: Console, *, description: str = "routing") -> None:
        self.passed = 0
        self.decided = 0
        self.errors = 0
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("pass {task.fields[pass_rate]}"),
            TextColumn("errors {task.fields[errors]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID = self._progress.add_task(
            description, total=total, pass_rate="-", errors=0
        )

    def __enter__(self) -> RunProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._progress.stop()

    @property
    def pass_rate(self) -> float | None:
        """Passed ÷ decided attempts so far (errors excluded), or None before any."""
        return self.passed / self.decided if self.decided else None

    def attempt_finished(self, attempt: AttemptRecord) -> None:
        """Advance the bar and the live pass rate."""
        if attempt.verdict is Verdict.ERROR:
            self.errors += 1
        else:
            self.decided += 1
            self.passed += attempt.verdict is Verdict.PASS
        rate = self.pass_rate
        self._progress.update(
            self._task,
            advance=1,
            pass_rate="-" if rate is None else f"{rate:.1%}",
            errors=self.errors,
        )
