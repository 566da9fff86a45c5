"""`routelens serve` on a million attempts: the server time of every page.

The store is bench/exporter.py's: bench/analytics.py's history (default 1,000,000 attempts,
10,000 cases in 100 runs over 30 days) with a running experiment and one SKILL.md change
per skill, plus what a real run records and an import does not: each run's skills
(`run_skills`, twelve a run) and case definitions (`run_cases`, 10,000 a run).

The real server (uvicorn on a free loopback port) answers `--repeats` GETs of each page;
the time is from sending the request to the last byte. Two ways:

- **cold**: the page cache off (`cache_seconds=0`): every request computes its page;
- **warm**: the default cache (30 s while the store is unchanged), after one request.

Baseline: `/healthz` (one `SELECT 1`), measured the same way in the same run; each page's
p95 is printed as seconds and as a ratio to it. Targets: every page p95 < 0.5 s, the
overview < 0.3 s. `--store PATH` keeps the generated store and reuses it; `--attempts
20000` is a quick smoke run.

Run: `PYTHONPATH=. python bench/web.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.analytics import SKILLS, Shape
from bench.exporter import build_store

from routelens.config import RoutelensConfig
from routelens.store import open_store
from routelens.web.app import bind, create_app, start_server

PAGE_TARGET_S = 0.5
OVERVIEW_TARGET_S = 0.3
BASELINE = "/healthz"


def pages(shape: Shape) -> list[str]:
    """A URL of every page, naming things the bench store has."""
    last_run = f"run-{shape.runs - 1:04d}"
    return [
        "/",
        "/runs",
        f"/runs/{last_run}",
        "/cases/case-000123",
        "/skills/deploy",
        "/changes",
        "/changes/3",
        "/flaky",
        "/confusion",
        "/coverage",
        "/patterns",
        "/experiments",
        "/experiments/bench",
        "/sre",
    ]


def add_skills_and_cases(store_path: Path, shape: Shape) -> None:
    """Each run's skills and case definitions, as `routelens run` records them."""
    started = time.perf_counter()
    connection = sqlite3.connect(store_path)
    with connection:
        for index in range(shape.runs):
            run_id = f"run-{index:04d}"
            connection.executemany(
                "INSERT INTO run_skills (run_id, path, name, folder_name, content_hash, "
                "description) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (run_id, f"skills/{s}/SKILL.md", s, s, f"{s}-{index // 10}", f"Use for {s}.")
                    for s in SKILLS
                ],
            )
            connection.executemany(
                "INSERT INTO run_cases (run_id, case_id, category, position, definition) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (run_id, f"case-{case:06d}", "direct", case,
                     json.dumps({"id": f"case-{case:06d}", "category": "direct",
                                 "input": f"case {case}", "expected_skill": SKILLS[case % 12]}))
                    for case in range(shape.cases)
                ],
            )  # fmt: skip
    connection.close()
    print(f"run_skills and run_cases added in {time.perf_counter() - started:.0f} s")


def request_seconds(url: str) -> float:
    """Seconds from sending a GET to reading the last byte; the answer must be 200."""
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as response:
        response.read()
        assert response.status == 200, url
    return time.perf_counter() - started


def p95(values: list[float]) -> float:
    """The 95th percentile (linear), the median for fewer than three values."""
    if len(values) < 3:
        return statistics.median(values)
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def measure(base: str, urls: list[str], repeats: int) -> dict[str, list[float]]:
    """Per URL, the time of `repeats` requests after one untimed request (first imports;
    with the cache on, it fills the cache)."""
    times: dict[str, list[float]] = {}
    for url in [BASELINE, *urls]:
        request_seconds(base + url)
        times[url] = [request_seconds(base + url) for _ in range(repeats)]
    return times


def report(label: str, times: dict[str, list[float]]) -> None:
    """Print each page's median and p95, the ratio of its p95 to the baseline's, the verdict."""
    baseline = p95(times[BASELINE])
    print(f"{label}: baseline {BASELINE} p95 {baseline * 1000:.1f} ms")
    print(f"  {'page':24} {'median':>8} {'p95':>8} {'x base':>8}  target")
    for url, values in times.items():
        if url == BASELINE:
            continue
        target = OVERVIEW_TARGET_S if url == "/" else PAGE_TARGET_S
        worst = p95(values)
        verdict = "met" if worst < target else "NOT met"
        print(
            f"  {url:24} {statistics.median(values):7.3f}s {worst:7.3f}s {worst / baseline:8.0f}"
            f"  < {target} s: {verdict}"
        )


def main() -> None:
    """Build (or reuse) the store, serve it, time every page cold and warm."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--attempts", type=int, default=1_000_000, help="attempts in the store")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the history")
    parser.add_argument("--repeats", type=int, default=10, help="timed requests per page")
    parser.add_argument("--store", type=Path, help="SQLite file to keep (reused if present)")
    args = parser.parse_args()
    shape = Shape.for_attempts(args.attempts)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as folder:
        store_path = args.store or Path(folder) / "routelens.sqlite"
        if store_path.exists():
            print(f"history: reusing {store_path}")
        else:
            build_store(store_path, shape, args.seed)
            add_skills_and_cases(store_path, shape)
        urls = pages(shape)
        with open_store(store_path, access="read") as store:
            for label, cache_seconds in (
                ("cold (no page cache)", 0.0),
                ("warm (page cache)", 30.0),
            ):
                app = create_app(store, RoutelensConfig(), cache_seconds=cache_seconds)
                running = start_server(app, bind("127.0.0.1", 0))
                try:
                    times = measure(running.url.rstrip("/"), urls, args.repeats)
                finally:
                    running.stop()
                report(label, times)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
