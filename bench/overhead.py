"""Telemetry overhead per attempt: the same run with telemetry on and off, in one process.

A no-op router (answers at once) runs the example suite through the whole runner twice per
round, alternating which goes first: once with no telemetry, once with the real SDK providers
(`build_providers`, as `routelens run` makes them: batch span processor, periodic metric
reader, no exemplars) feeding exporters that accept and discard, so
what is measured is routelens' instrumentation and the SDK, not a network. The difference per
attempt is printed in microseconds, as wall time and as the process's CPU time (all threads;
steadier than wall time while other jobs share the machine). Targets: under 100 µs per attempt,
and at most 0.1 of the runner's own cost per attempt (the run with telemetry off).

Run: `make bench` (or `python bench/overhead.py --repeat 10 --rounds 3`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from routelens.routers.base import RouteRequest, RouteResult
from routelens.routers.function import FunctionRouter
from routelens.runner.session import RunSettings, create_run, execute_run
from routelens.store import open_store
from routelens.suite.cases import load_case_suite
from routelens.suite.models import CaseSuite, SkillSet
from routelens.suite.skills import load_skill_set
from routelens.telemetry.export import build_providers
from routelens.telemetry.run import RunTelemetry

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "jira"


class DiscardingSpanExporter(SpanExporter):
    """Accepts spans and drops them."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class DiscardingMetricExporter(MetricExporter):
    """Accepts metrics and drops them."""

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: object
    ) -> MetricExportResult:
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: object) -> None:
        return None


def answer(request: RouteRequest) -> RouteResult:
    """A no-op router: the first skill, at once."""
    return RouteResult(skill=request.skills.skills[0].name)


def one_run(
    skills: SkillSet, suite: CaseSuite, repeat: int, telemetry: bool
) -> tuple[float, float, int]:
    """Wall and CPU seconds for one run of the suite, and its attempt count."""
    with tempfile.TemporaryDirectory() as folder, open_store(Path(folder) / "o.sqlite") as store:
        settings = RunSettings(router="function", repeat=repeat, concurrency=4)
        run = create_run(store, skills, suite, settings)
        started, cpu_started = time.perf_counter(), time.process_time()
        if telemetry:
            # the providers `routelens run` builds, with exporters that discard
            tracer_provider, meter_provider = build_providers(
                Resource.create({}),
                [DiscardingSpanExporter()],
                [PeriodicExportingMetricReader(DiscardingMetricExporter(), 60_000)],
                export_timeout_ms=5_000,
            )
            with RunTelemetry(
                run, skills, tracer_provider=tracer_provider, meter_provider=meter_provider
            ) as observer:
                execute_run(
                    store,
                    run,
                    skills,
                    suite.cases,
                    FunctionRouter(answer),
                    settings,
                    observer=observer,
                )
            tracer_provider.shutdown()
            meter_provider.shutdown()
        else:
            execute_run(store, run, skills, suite.cases, FunctionRouter(answer), settings)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        return wall, cpu, len(suite.cases) * repeat


def main() -> None:
    """Alternate runs with telemetry off and on; print the per-attempt difference."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=30, help="repeats of the 70 cases")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    skills = load_skill_set(EXAMPLE / "skills")
    suite = load_case_suite(EXAMPLE / "cases.yaml", skills)
    off: dict[str, list[float]] = {"wall": [], "cpu": []}
    on: dict[str, list[float]] = {"wall": [], "cpu": []}
    attempts = 0
    for round_number in range(args.rounds):
        order = (False, True) if round_number % 2 == 0 else (True, False)
        for telemetry in order:
            wall, cpu, attempts = one_run(skills, suite, args.repeat, telemetry)
            side = on if telemetry else off
            side["wall"].append(wall / attempts)
            side["cpu"].append(cpu / attempts)
    print(f"attempts per run: {attempts}, rounds: {args.rounds}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for clock in ("wall", "cpu"):
        off_us = statistics.median(off[clock]) * 1e6
        on_us = statistics.median(on[clock]) * 1e6
        # rounds pair an off run with an on run made right after each other: the median of
        # the paired differences is steadier than the difference of medians on a busy machine
        paired = [(b - a) * 1e6 for a, b in zip(off[clock], on[clock], strict=True)]
        paired_us = statistics.median(paired)
        print(
            f"{clock:4}: off {off_us:.0f} µs, on {on_us:.0f} µs per attempt (medians); "
            f"overhead {paired_us:.0f} µs per attempt (median of paired rounds; target < 100), "
            f"{paired_us / off_us:.3f} of the runner's own cost (target <= 0.1)"
        )


if __name__ == "__main__":
    main()
