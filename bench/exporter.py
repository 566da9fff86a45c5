"""Scraping `routelens exporter` on a million attempts, against the analytics it summarises.

The store holds bench/analytics.py's history (default 1,000,000 attempts: 10,000 cases in
100 runs over the last 30 days, written as JSONL and imported with `import_jsonl`), plus
one running experiment (the last two runs) and one SKILL.md change per skill, so that every
area of a scrape has work to do.

- **baseline**: `routelens flaky --window 7d`, `confusion --window 7d` and `cost` (30 days)
  through the CLI (`--json`), one after the other: what someone would run by hand to see
  what the scrape's case, confusion and spend families say, on the same store. Median of
  `--repeats` runs each; the baseline is the sum of the three medians. A single full scan
  (`SELECT count(*), sum(cost_usd) FROM attempts NOT INDEXED`) is printed as the floor.
- **routelens**: `StoreCollector.collect()` with the cache off, and a real HTTP scrape of
  `start_exporter` on a free loopback port (median of `--repeats` each, after one warm-up);
  then each family builder alone on one connection, grouped by area, with its share.

Target: a scrape under 5 s on 1,000,000 attempts (Prometheus' default `scrape_timeout` is
10 s). Run: `PYTHONPATH=. python bench/exporter.py` (`--attempts 20000` for a quick smoke
run; `--store PATH` keeps the generated store there and reuses it on the next run).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.analytics import DAYS, SKILLS, Shape, write_history
from sqlalchemy import text
from typer.testing import CliRunner

from routelens.changes.model import ChangeEvent, ChangeKind
from routelens.cli import app
from routelens.config import RoutelensConfig
from routelens.experiments.model import ArmKind, ArmSpec, ExperimentRecord, ExperimentStatus
from routelens.experiments.storage import insert_experiment
from routelens.publish import exporter
from routelens.publish.exporter_api import api_families
from routelens.publish.exporter_cases import case_families
from routelens.publish.exporter_changes import change_families, experiment_families
from routelens.publish.exporter_cost import daily_cost_families, total_families
from routelens.publish.exporter_runs import run_families
from routelens.publish.exporter_support import Families, ScrapeContext
from routelens.publish.exporter_windows import window_families
from routelens.store import Store, import_jsonl, open_store
from routelens.store.changes import record_change_events

SCRAPE_TARGET_S = 5.0
PROMETHEUS_SCRAPE_TIMEOUT_S = 10.0
BASELINE_COMMANDS = [
    ["flaky", "--window", "7d"],  # the cases area reads the last 7 days
    ["confusion", "--window", "7d"],
    ["cost"],  # 30 days, as the daily-cost anomaly reads 28 days back
]
AREAS: dict[str, tuple[Callable[[ScrapeContext], Families], ...]] = {
    "windows": (window_families,),
    "cases": (case_families,),
    "cost": (total_families, daily_cost_families),
    "API": (api_families,),
    "runs": (run_families,),
    "experiments": (experiment_families,),
    "changes": (change_families,),
}


def median_seconds(action: Callable[[], object], repeats: int) -> float:
    """The median wall time of `repeats` calls of `action`."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def build_store(store_path: Path, shape: Shape, seed: int) -> None:
    """bench/analytics.py's history imported into a new store, an experiment, changes."""
    now = datetime.now(UTC)
    history = store_path.with_suffix(".jsonl")
    started = time.perf_counter()
    write_history(history, shape, seed, now)
    with open_store(f"sqlite:///{store_path}") as store:
        summary = import_jsonl(store, history)
        assert summary.attempts_added == shape.attempts, summary
        add_experiment_and_changes(store, shape, now)
    history.unlink()
    print(
        f"history: {shape.attempts:,} attempts ({shape.cases:,} cases x {shape.runs} runs over "
        f"{DAYS} days), generated and imported in {time.perf_counter() - started:.0f} s"
    )


def add_experiment_and_changes(store: Store, shape: Shape, now: datetime) -> None:
    """A running experiment on the last two runs; a SKILL.md change per skill, 10 days ago."""
    control, treatment = (f"run-{index:04d}" for index in (shape.runs - 2, shape.runs - 1))
    arm = ArmSpec(kind=ArmKind.FOLDER, source="skills", skills_hash="bench")
    insert_experiment(
        store,
        ExperimentRecord(
            name="bench",
            control=arm,
            treatment=arm,
            cases_path="cases.yaml",
            router="anthropic",
            model="claude-sonnet-4-6",
            repeat=1,
            concurrency=8,
            seed=7,
            created_at=now - timedelta(days=1),
            status=ExperimentStatus.RUNNING,
            started_at=now - timedelta(days=1),
            control_run_id=control,
            treatment_run_id=treatment,
        ),
    )
    record_change_events(
        store,
        [
            ChangeEvent(
                repository="bench",
                skill=skill,
                kind=ChangeKind.MODIFIED,
                path=f"skills/{skill}/SKILL.md",
                old_path=None,
                commit_sha=f"{index:040x}",
                parent_sha=None,
                author="bench",
                committed_at=now - timedelta(days=10),
                message=f"{skill}: sharper description",
                old_hash=f"old-{skill}",
                new_hash=f"new-{skill}",
                old_description=None,
                new_description=None,
                description_changed=True,
                lines_added=3,
                lines_removed=1,
            )
            for index, skill in enumerate(SKILLS)
        ],
        now=now,
    )


def time_baseline(store_url: str, repeats: int) -> float:
    """The sum of the median times of the baseline commands; prints each."""
    runner = CliRunner()
    total = 0.0
    for command in BASELINE_COMMANDS:

        def invoke(command: list[str] = command) -> None:
            result = runner.invoke(app, [*command, "--store", store_url, "--json"])
            assert result.exit_code == 0, result.output

        invoke()  # warm-up: the command's first imports are not the baseline's cost
        elapsed = median_seconds(invoke, repeats)
        total += elapsed
        print(f"  {' '.join(command):24} {elapsed:6.2f} s")
    return total


def time_floor(store: Store, repeats: int) -> float:
    """One full scan of the attempts table: the least any all-time family can cost."""
    scan = text("SELECT count(*), sum(cost_usd) FROM attempts NOT INDEXED")
    with store.engine.connect() as connection:
        return median_seconds(lambda: connection.execute(scan).one(), repeats)


def time_areas(store: Store, repeats: int) -> dict[str, float]:
    """Median seconds of each area's builders, alone, on one connection."""
    measured = {build for builds in AREAS.values() for build in builds}
    assert measured == set(exporter.BUILDERS), "a family builder is missing from AREAS"
    config = RoutelensConfig()
    seconds: dict[str, float] = {}
    with store.engine.connect() as connection:
        context = ScrapeContext(store, connection, exporter.utc_now(), config)
        for area, builds in AREAS.items():
            seconds[area] = sum(
                median_seconds(functools.partial(build, context), repeats) for build in builds
            )
    return seconds


def main() -> None:
    """Build the store, time the baseline, the scrapes and the areas; print ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--attempts", type=int, default=1_000_000, help="attempts in the store")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the history")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each measure")
    parser.add_argument("--store", type=Path, help="SQLite file to keep (reused if present)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store_path = args.store or Path(folder) / "routelens.sqlite"
        if store_path.exists():
            print(f"history: reusing {store_path}")
        else:
            build_store(store_path, Shape.for_attempts(args.attempts), args.seed)
        run(f"sqlite:///{store_path}", args.repeats)


def run(store_url: str, repeats: int) -> None:
    """Every measurement on one store, printed with its ratio to the baseline."""
    print(f"baseline: the analytics a scrape summarises, median of {repeats}")
    baseline = time_baseline(store_url, repeats)
    print(f"  {'sum':24} {baseline:6.2f} s")
    with open_store(store_url) as store:
        floor = time_floor(store, repeats)
    print(f"floor: one full scan of attempts, {floor:.2f} s")

    collector = exporter.StoreCollector(store_url, RoutelensConfig(), cache_seconds=0)
    families = list(collector.collect())  # warm-up: opens the store
    samples = sum(len(family.samples) for family in families)
    collect_s = median_seconds(collector.collect, repeats)
    running = exporter.start_exporter(collector, host="127.0.0.1", port=0)
    try:
        body = urllib.request.urlopen(running.url, timeout=60).read()
        http_s = median_seconds(
            lambda: urllib.request.urlopen(running.url, timeout=60).read(), repeats
        )
    finally:
        running.stop()
    print(f"scrape: {len(families)} families, {samples:,} samples, {len(body):,} bytes")
    for name, seconds in (("collect()", collect_s), ("HTTP GET /metrics", http_s)):
        verdict = "met" if seconds < SCRAPE_TARGET_S else "NOT met"
        print(
            f"  {name:18} {seconds:6.2f} s, {seconds / baseline:.2f} x baseline, "
            f"{seconds / PROMETHEUS_SCRAPE_TIMEOUT_S:.0%} of a 10 s scrape_timeout "
            f"(target < {SCRAPE_TARGET_S:.0f} s: {verdict})"
        )

    with open_store(store_url) as store:
        areas = time_areas(store, repeats)
    total = sum(areas.values())
    print(f"areas: each alone, median of {repeats}; sum {total:.2f} s")
    for area, seconds in sorted(areas.items(), key=lambda item: -item[1]):
        print(f"  {area:12} {seconds:6.2f} s  {seconds / total:4.0%}")


if __name__ == "__main__":
    main()
