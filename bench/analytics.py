"""Importing a million attempts, then the analytics commands on them.

Part 1. A JSONL file of N attempts (default 1,000,000: 10,000 cases in 100 runs spread over
the last 30 days, 12 skills, about 80% passing, some cases flaky) is generated in a temporary
folder and imported into a fresh SQLite store with `import_jsonl`, the path of
`routelens import`: every line validated, one transaction. The baseline inserts the same
rows, already built as tuples, with raw `sqlite3.executemany` into the same table (same
columns, same indexes and unique key, same pragmas) in one transaction, in the same run, on
the same disk. Target: routelens imports at least 0.5 of the baseline's rows per second.
A file this big is validated in a worker process while the main one inserts
(`store/jsonl_pipeline.py`), so routelens uses both cores and the baseline one: the load
average, printed before and after the import, says how much of the second core was really
free, and the CPU time per line of each process says which one set the pace.

Part 2. Each analytics command (`flaky`, `confusion`, `trend`, `cost`, `compare` of the two
label-selected halves of the runs, `patterns`, `summarize --offline`) runs once on that
store through the CLI (typer's CliRunner, `--json`), so the bench needs no knowledge of
their internals; commands not registered yet print "not available yet". Target: each
under 2 s.

Run: `PYTHONPATH=. python bench/analytics.py` (`--attempts 20000` for a quick smoke run).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateIndex, CreateTable
from typer.testing import CliRunner

from routelens.cli import COMMANDS as CLI_COMMANDS
from routelens.cli import app
from routelens.store import import_jsonl, open_store, schema
from routelens.suite.hashing import input_hash

SKILLS = [
    "deploy", "review", "test", "triage", "release", "rollback",
    "incident", "oncall", "changelog", "migrate", "benchmark", "docs",
]  # fmt: skip
CATEGORIES = ["direct", "indirect", "negative", "disambiguation", "multi-step"]
DAYS = 30
IMPORT_TARGET = 0.5
COMMAND_TARGET_S = 2.0


@dataclass(frozen=True)
class Shape:
    """How the generated history is laid out: `runs` runs of `cases` cases each."""

    cases: int
    runs: int

    @classmethod
    def for_attempts(cls, attempts: int) -> Shape:
        """100 runs of attempts/100 cases (10,000 for a million), fewer runs when small."""
        runs = 100 if attempts >= 10_000 else max(2, attempts // 100)
        return cls(cases=max(1, attempts // runs), runs=runs)

    @property
    def attempts(self) -> int:
        """How many attempts (lines) the history holds."""
        return self.cases * self.runs


@dataclass(frozen=True)
class Case:
    """One generated case: what it expects, and how likely a pass is."""

    case_id: str
    category: str
    input: str
    expected_skill: str | None
    pass_probability: float


def make_cases(count: int, rng: random.Random) -> list[Case]:
    """Mostly reliable cases, about 10% flaky and 5% always failing: ~80% pass overall."""
    cases = []
    for index in range(count):
        category = CATEGORIES[index % len(CATEGORIES)]
        expected = None if category == "negative" else SKILLS[index % len(SKILLS)]
        draw = rng.random()
        probability = 0.0 if draw < 0.05 else 0.5 if draw < 0.15 else 0.9 if draw < 0.5 else 0.97
        text = f"please {expected or 'chat'} the service number {index} for the team"
        cases.append(Case(f"case-{index:06d}", category, text, expected, probability))
    return cases


def run_fields(index: int, shape: Shape, now: datetime) -> dict[str, Any]:
    """The run fields of every line of run `index`; even runs are the baseline variant."""
    started = now - timedelta(days=DAYS) + timedelta(days=DAYS) * index / shape.runs
    return {
        "run_id": f"run-{index:04d}",
        "run_started_at": started.isoformat(timespec="microseconds"),
        "run_finished_at": (started + timedelta(hours=1)).isoformat(timespec="microseconds"),
        "run_status": "completed",
        "router": "anthropic",
        "model": "claude-sonnet-4-6",
        "skills_hash": f"skills-{index // 10:04d}",
        "suite_hash": "suite-hash",
        "suite_name": "bench",
        "suite_version": None,
        "skills_dir": "skills",
        "cases_path": "cases.yaml",
        "git_commit": f"{index:040x}",
        "git_branch": "main",
        "environment": "ci",
        "labels": {"variant": "candidate" if index % 2 else "baseline"},
        "settings": {"repeat": 1, "concurrency": 8},
    }


def attempt_lines(shape: Shape, seed: int, now: datetime) -> Iterator[dict[str, Any]]:
    """Every line of the history, run by run, as `routelens export` writes them."""
    rng = random.Random(seed)
    cases = make_cases(shape.cases, rng)
    for run_index in range(shape.runs):
        run = run_fields(run_index, shape, now)
        started = datetime.fromisoformat(run["run_started_at"])
        for sequence, case in enumerate(cases):
            draw = rng.random()
            error = draw < 0.01
            passed = not error and draw < case.pass_probability
            if passed:
                actual = case.expected_skill
            elif error:
                actual = None
            else:
                actual = SKILLS[(SKILLS.index(case.expected_skill or "docs") + 1) % len(SKILLS)]
            latency = 0.3 + rng.random()
            start = started + timedelta(seconds=sequence * 0.36)
            input_tokens = 1500 + len(case.input)
            yield {
                **run,
                "case_id": case.case_id,
                "category": case.category,
                "input": case.input,
                "expected_skill": case.expected_skill,
                "actual_skill": actual,
                "asked_clarification": case.category == "disambiguation" and not passed,
                "verdict": "error" if error else "pass" if passed else "fail",
                "repeat_index": 0,
                "started_at": start.isoformat(timespec="microseconds"),
                "finished_at": (start + timedelta(seconds=latency)).isoformat(
                    timespec="microseconds"
                ),
                "latency_s": latency,
                "retries": 1 if error else 0,
                "retry_wait_s": 1.0 if error else 0.0,
                "retry_log": (
                    [{"error_type": "RateLimitError", "http_status": 429, "wait_s": 1.0}]
                    if error
                    else []
                ),
                "error_type": "RateLimitError" if error else None,
                "error_message": "429: rate limited" if error else None,
                "http_status": 429 if error else None,
                "input_tokens": input_tokens,
                "output_tokens": 40,
                "cache_read_tokens": 1400,
                "cache_write_tokens": 0,
                "cost_usd": round(input_tokens * 3e-6 + 40 * 15e-6, 8),
                "worker_id": sequence % 8,
                "sequence_number": sequence,
                "confidence": None,
                "options_score": None,
                "commands_score": None,
                "response_text": f"routing to {actual}" if actual else "",
                "response_model": "claude-sonnet-4-6",
                "expected_skill_hash": None,
                "actual_skill_hash": None,
                "confirmation_score": None,
                "nul_replaced": False,
            }


def write_history(path: Path, shape: Shape, seed: int, now: datetime) -> None:
    """The JSONL file `routelens import` reads."""
    with path.open("w", encoding="utf-8") as out:
        for line in attempt_lines(shape, seed, now):
            out.write(json.dumps(line, separators=(",", ":")) + "\n")


# Baseline ------------------------------------------------------------------------------

_ATTEMPT_COLUMNS = [c.name for c in schema.attempts.columns if c.name != "attempt_id"]
_TIME_COLUMNS = {"started_at", "finished_at"}
_JSON_COLUMNS = {"retry_log"}


def _stored_value(name: str, value: Any) -> Any:
    # What the store keeps in SQLite: naive UTC text for times, JSON text for the retry log.
    if name in _TIME_COLUMNS:
        moment = datetime.fromisoformat(value).astimezone(UTC)
        return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if name in _JSON_COLUMNS:
        return json.dumps(value)
    return value


def baseline_rows(shape: Shape, seed: int, now: datetime) -> Iterator[list[tuple[Any, ...]]]:
    """The attempt rows of the history as tuples in column order, 100,000 at a time."""
    chunk: list[tuple[Any, ...]] = []
    for line in attempt_lines(shape, seed, now):
        # The store keeps the input's hash beside it (schema v5); so does the baseline.
        line["input_hash"] = input_hash(line["input"])
        chunk.append(tuple(_stored_value(name, line[name]) for name in _ATTEMPT_COLUMNS))
        if len(chunk) == 100_000:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def time_baseline(database: Path, shape: Shape, seed: int, now: datetime) -> float:
    """Seconds raw sqlite3.executemany spends inserting the rows (building them not counted)."""
    dialect = sqlite.dialect()
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    for table in (schema.runs, schema.attempts):
        connection.execute(str(CreateTable(table).compile(dialect=dialect)))
        for index in table.indexes:
            connection.execute(str(CreateIndex(index).compile(dialect=dialect)))
    run_ids = [run_fields(i, shape, now)["run_id"] for i in range(shape.runs)]
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(
        "INSERT INTO runs (run_id, started_at, status, router, skills_hash, suite_hash, "
        "suite_name, labels, settings) VALUES (?, '2025-01-01', 'completed', 'r', '', '', '', "
        "'{}', '{}')",
        [(run_id,) for run_id in run_ids],
    )
    sql = (
        f"INSERT INTO attempts ({', '.join(_ATTEMPT_COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in _ATTEMPT_COLUMNS)})"
    )
    elapsed = 0.0
    for chunk in baseline_rows(shape, seed, now):
        started = time.perf_counter()
        connection.executemany(sql, chunk)
        elapsed += time.perf_counter() - started
    started = time.perf_counter()
    connection.execute("COMMIT")
    elapsed += time.perf_counter() - started
    connection.close()
    return elapsed


def cpu_per_line_us(
    before: os.times_result, after: os.times_result, lines: int
) -> tuple[float, float]:
    """CPU µs a line (user + system) of this process, and of its finished child processes
    (the import's worker, which it has joined), between two `os.times()`."""
    main = after.user + after.system - before.user - before.system
    children = (
        after.children_user + after.children_system - before.children_user - before.children_system
    )
    return main / lines * 1e6, children / lines * 1e6


# Analytics -----------------------------------------------------------------------------

COMMANDS: dict[str, list[list[str]]] = {
    # the whole 30-day history, not flaky's default 7-day window (a quarter of it)
    "flaky": [["--window", "31d"]],
    "confusion": [[]],
    "trend": [[]],
    "cost": [[]],
    "compare": [["--baseline", "variant=baseline", "--candidate", "variant=candidate"]],
    # every distinct failed input of the history (capped at 2,000), then the clustering
    "patterns": [["--window", "31d"]],
    # the facts of the last 7 days (accuracy, skills, flaky twice, changes, cost), no model
    "summarize": [["--offline"]],
}


def time_command(runner: CliRunner, name: str, store_url: str) -> tuple[float, str] | None:
    """Seconds one `routelens NAME --json` takes on the store, and how it ended; None if absent."""
    if name not in {command.name for command in CLI_COMMANDS}:
        return None
    outcome = ""
    for extra in COMMANDS[name]:
        started = time.perf_counter()
        result = runner.invoke(app, [name, *extra, "--store", store_url, "--json"])
        elapsed = time.perf_counter() - started
        if result.exit_code == 0:
            return elapsed, "ok"
        outcome = f"exit {result.exit_code}: {result.output.strip().splitlines()[-1:]}"
    return elapsed, outcome


def main() -> None:
    """Generate, import against the baseline, time the commands, print ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--attempts", type=int, default=1_000_000, help="attempts to import")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the history")
    args = parser.parse_args()
    shape = Shape.for_attempts(args.attempts)
    now = datetime.now(UTC)

    with tempfile.TemporaryDirectory() as folder:
        history = Path(folder) / "history.jsonl"
        started = time.perf_counter()
        write_history(history, shape, args.seed, now)
        print(
            f"history: {shape.attempts:,} attempts ({shape.cases:,} cases x {shape.runs} runs "
            f"over {DAYS} days), {history.stat().st_size / 1e6:.0f} MB, "
            f"written in {time.perf_counter() - started:.1f} s"
        )

        print("load average before the import: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        baseline_s = time_baseline(Path(folder) / "baseline.sqlite", shape, args.seed, now)
        store_url = f"sqlite:///{Path(folder) / 'routelens.sqlite'}"
        with open_store(store_url) as store:
            started, cpu_before = time.perf_counter(), os.times()
            summary = import_jsonl(store, history)
            import_s, cpu_after = time.perf_counter() - started, os.times()
        assert summary.attempts_added == shape.attempts, summary
        ours, base = shape.attempts / import_s, shape.attempts / baseline_s
        print(f"baseline : raw sqlite3.executemany, {baseline_s:.1f} s, {base:,.0f} rows/s")
        print(f"routelens: import_jsonl, {import_s:.1f} s, {ours:,.0f} rows/s")
        main_us, worker_us = cpu_per_line_us(cpu_before, cpu_after, shape.attempts)
        print(f"routelens CPU per line: {main_us:.1f} µs here, {worker_us:.1f} µs in its worker")
        print("load average after the import: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        verdict = "met" if ours / base >= IMPORT_TARGET else "NOT met"
        print(f"ratio routelens/baseline: {ours / base:.2f} (target >= {IMPORT_TARGET}: {verdict})")

        runner = CliRunner()
        for name in COMMANDS:
            timed = time_command(runner, name, store_url)
            if timed is None:
                print(f"{name:9}: not available yet")
                continue
            elapsed, outcome = timed
            met = "met" if elapsed < COMMAND_TARGET_S and outcome == "ok" else "NOT met"
            print(
                f"{name:9}: {elapsed:.2f} s, {outcome} (target < {COMMAND_TARGET_S:.0f} s: {met})"
            )


if __name__ == "__main__":
    main()
