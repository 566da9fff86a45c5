"""Spans and metrics of one run together, as one attempt observer."""

from __future__ import annotations

from types import TracebackType

from opentelemetry import context as otel_context
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from routelens.store.records import AttemptRecord, RunRecord, RunStatus
from routelens.suite.models import SkillSet
from routelens.telemetry.metrics import RoutingMetrics
from routelens.telemetry.spans import RunSpans


class RunTelemetry:
    """Open the suite span on enter; record each attempt's spans and metrics; close on exit.

    >>> with RunTelemetry(run, skills, tracer_provider=tp, meter_provider=mp) as telemetry:
    ...     execute_run(..., observer=telemetry)  # doctest: +SKIP
    """

    def __init__(
        self,
        run: RunRecord,
        skills: SkillSet,
        *,
        tracer_provider: TracerProvider,
        meter_provider: MeterProvider,
        capture_content: bool = False,
        planned_attempts: int | None = None,
        run_sequence: int | None = None,
        parent: otel_context.Context | None = None,
    ) -> None:
        self.spans = RunSpans(
            run,
            skills,
            tracer_provider=tracer_provider,
            capture_content=capture_content,
            planned_attempts=planned_attempts,
            run_sequence=run_sequence,
            parent=parent,
        )
        self.metrics = RoutingMetrics(meter_provider, run)

    def __enter__(self) -> RunTelemetry:
        self.spans.__enter__()
        return self

    def join_suite(self, suite_context: otel_context.Context) -> None:
        """Record under a suite span opened in another process (see `RunSpans.join_suite`)."""
        self.spans.join_suite(suite_context)

    def attempt_finished(self, attempt: AttemptRecord) -> None:
        """Record one finished attempt as spans and metrics."""
        self.spans.attempt_finished(attempt)
        self.metrics.record(attempt)

    def finish(self, status: RunStatus) -> None:
        """Say how the run ended (shown on the suite span)."""
        self.spans.final_status = status

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.spans.__exit__(exc_type, exc, traceback)
