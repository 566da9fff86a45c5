"""Scraping `routelens exporter` on a million attempts, against the analytics it summarises.

The store holds bench/history.py's history (default 1,000,000 attempts: 10,000 cases in
100 runs over the last 30 days, written as JSONL and imported with `import_jsonl`), plus
one running experiment (the last two runs) and one SKILL.md change per skill, so that every
area of a scrape has work to do. With `--postgres URL` it is the ten-million-attempt history
that `bench/analytics.py --postgres URL` builds (10,000 cases in 1,000 runs), in the schema
`routelens_bench_<N>` of that database: built here if missing, reused if present.

- **baseline**: `routelens flaky --window 7d`, `confusion --window 7d` and `cost` (30 days)
  through the CLI (`--json`), one after the other: what someone would run by hand to see
  what the scrape's case, confusion and spend families say, on the same store. Median of
  `--repeats` runs each; the baseline is the sum of the three medians. A single full scan
  (`SELECT count(*), sum(cost_usd) FROM attempts NOT INDEXED`) is printed as the floor.
- **routelens**: `StoreCollector.collect()` with the cache off, and a real HTTP scrape of
  `start_exporter` on a free loopback port (median of `--repeats` each, after one warm-up);
  then each family builder alone on one connection, grouped by area, with its share; and
  a second scrape within `scrape_cache_seconds` (the default cache), which an HA pair of
  Prometheus servers makes.

Targets: a scrape under 1 s on 1,000,000 attempts in SQLite, under 3 s on 10,000,000 in
PostgreSQL (Prometheus' default `scrape_timeout` is 10 s). Run: `PYTHONPATH=. python
bench/exporter.py` (`--attempts 20000` for a quick smoke run; `--store PATH` keeps the
generated store there and reuses it on the next run; `--postgres URL`).
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from bench.history import Shape, postgres_schema_url, prepare_store
from sqlalchemy import text
from typer.testing import CliRunner

from routelens.cli import app
from routelens.config import RoutelensConfig
from routelens.publish import exporter
from routelens.publish.exporter_api import api_families
from routelens.publish.exporter_cases import case_families
from routelens.publish.exporter_changes import change_families, experiment_families
from routelens.publish.exporter_cost import daily_cost_families, total_families
from routelens.publish.exporter_defaults import DEFAULT_CACHE_SECONDS
from routelens.publish.exporter_runs import run_families
from routelens.publish.exporter_support import Families, ScrapeContext
from routelens.publish.exporter_windows import window_families
from routelens.store import Store, open_store

SQLITE_TARGET_S = 1.0
POSTGRES_TARGET_S = 3.0
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
    """bench/history.py's history imported into a new SQLite file (bench/web.py's store)."""
    prepare_store(f"sqlite:///{store_path}", shape, seed, store_path.parent)


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
    with store.engine.connect() as connection:
        hint = "NOT INDEXED" if connection.dialect.name == "sqlite" else ""
        scan = text(f"SELECT count(*), sum(cost_usd) FROM attempts {hint}")
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
    """Build or reuse the store, time the baseline, the scrapes and the areas; print ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--attempts",
        type=int,
        help="attempts in the store (default 1,000,000; 10,000,000 with --postgres)",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed of the history")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each measure")
    parser.add_argument("--store", type=Path, help="SQLite file to keep (reused if present)")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database to use")
    args = parser.parse_args()
    shape = Shape.for_attempts(args.attempts or (10_000_000 if args.postgres else 1_000_000))
    print(f"history: {shape.attempts:,} attempts ({shape.cases:,} cases x {shape.runs} runs)")
    with tempfile.TemporaryDirectory() as folder:
        if args.postgres:
            store_url = postgres_schema_url(args.postgres, shape)
            target = POSTGRES_TARGET_S
        else:
            store_url = f"sqlite:///{args.store or Path(folder) / 'routelens.sqlite'}"
            target = SQLITE_TARGET_S
        prepare_store(store_url, shape, args.seed, Path(folder))
        run(store_url, args.repeats, target)


def time_cached_pair(store_url: str) -> None:
    """Two scrapes a second apart, as two Prometheus servers make them, with the default
    cache: the second is served from the first's computation."""
    collector = exporter.StoreCollector(
        store_url, RoutelensConfig(), cache_seconds=DEFAULT_CACHE_SECONDS
    )
    running = exporter.start_exporter(collector, host="127.0.0.1", port=0)
    try:
        seconds = []
        for _ in range(2):
            started = time.perf_counter()
            urllib.request.urlopen(running.url, timeout=60).read()
            seconds.append(time.perf_counter() - started)
            time.sleep(1)
    finally:
        running.stop()
    print(
        f"  two scrapes 1 s apart, cache {DEFAULT_CACHE_SECONDS:g} s: {seconds[0]:.2f} s then "
        f"{seconds[1] * 1000:.1f} ms, {collector.computations} computation(s)"
    )


def run(store_url: str, repeats: int, target_s: float) -> None:
    """Every measurement on one store, printed with its ratio to the baseline."""
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
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
        verdict = "met" if seconds < target_s else "NOT met"
        print(
            f"  {name:18} {seconds:6.2f} s, {seconds / baseline:.2f} x baseline, "
            f"{seconds / PROMETHEUS_SCRAPE_TIMEOUT_S:.0%} of a 10 s scrape_timeout "
            f"(target < {target_s:.0f} s: {verdict})"
        )

    time_cached_pair(store_url)

    with open_store(store_url) as store:
        areas = time_areas(store, repeats)
    total = sum(areas.values())
    print(f"areas: each alone, median of {repeats}; sum {total:.2f} s")
    for area, seconds in sorted(areas.items(), key=lambda item: -item[1]):
        print(f"  {area:12} {seconds:6.2f} s  {seconds / total:4.0%}")


if __name__ == "__main__":
    main()
