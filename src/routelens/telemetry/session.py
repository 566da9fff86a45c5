"""Telemetry for one `routelens run`: off unless configured, never able to fail the run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from routelens.store.records import RunRecord
from routelens.suite.models import SkillSet
from routelens.telemetry.export import build_resource, start_telemetry
from routelens.telemetry.run import RunTelemetry
from routelens.telemetry.settings import telemetry_settings


@contextmanager
def run_telemetry(
    run: RunRecord,
    skills: SkillSet,
    *,
    otlp_endpoint: str | None,
    capture_content: bool | None,
    planned_attempts: int | None = None,
    run_sequence: int | None = None,
) -> Iterator[RunTelemetry | None]:
    """Yield a `RunTelemetry` exporting over OTLP when configured (flag or OTEL_* variables),
    else None. The pipeline is flushed and closed within its timeout when the run ends."""
    settings = telemetry_settings(
        otlp_endpoint=otlp_endpoint,
        capture_content=capture_content,
        suite_name=run.suite_name,
        environment=run.environment,
    )
    if settings is None:
        yield None
        return
    pipeline = start_telemetry(settings, build_resource(settings, run=run))
    try:
        with RunTelemetry(
            run,
            skills,
            tracer_provider=pipeline.tracer_provider,
            meter_provider=pipeline.meter_provider,
            capture_content=pipeline.capture_content,
            planned_attempts=planned_attempts,
            run_sequence=run_sequence,
        ) as telemetry:
            yield telemetry
    finally:
        pipeline.close()
