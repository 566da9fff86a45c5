"""Importing a million attempts, then the analytics commands on them; or ten million in
PostgreSQL.

The history is `bench/history.py`'s (1,000,000 attempts: 10,000 cases in 100 runs over the
last 30 days).

Part 1, the import (when the store is built in this run). On SQLite the whole history is
written as one JSONL file and imported into a fresh store with `import_jsonl`, the path of
`routelens import` (every line validated, one transaction, the rollups kept in the same
transaction). The baseline inserts the same rows, already built as tuples, with raw
`sqlite3.executemany` into the same table (same columns, indexes and unique key, same
pragmas) in one transaction, on the same disk. Target: routelens imports at least 0.5 of the
baseline's rows per second. A big file is validated in a worker process while the main one
inserts (`store/jsonl_pipeline.py`): the load average, printed before and after, says how
much of the second core was free, and the CPU time per line of each process says which one
set the pace. With `--postgres URL` the history (default 10,000,000 attempts: 10,000 cases in
1,000 runs) is imported 50 runs (500,000 lines) at a time into the schema
`routelens_bench_<N>` of that database; the baseline there is psycopg's `executemany` of the
first chunk's rows into a scratch schema with the store's DDL, against the first chunk's
import into the empty store.

Part 2. Each analytics command (`flaky`, `confusion`, `trend`, `cost`, `compare` of the two
label-selected halves of the runs, `patterns`, `summarize --offline`) runs through the CLI
(typer's CliRunner, `--json`) on that store: once cold (the first run in this process also
pays the command's imports) and then `--repeats` times, median reported. The machine's
baseline is one full scan of the attempts table (`count(*)`, `sum(cost_usd)`) on the same
store, which every command that read all attempts would at least pay. Targets: each command
under 0.5 s on a million attempts in SQLite, under 2 s on ten million in PostgreSQL.

Run: `PYTHONPATH=. python bench/analytics.py` (`--attempts 20000` for a quick smoke run;
`--store PATH` keeps the SQLite store and reuses it; `--postgres URL` for PostgreSQL, which
always keeps its schema and reuses it).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.history import (
    DAYS,
    Shape,
    add_experiment_and_changes,
    attempt_lines,
    postgres_schema_url,
    prepare_store,
    run_fields,
    write_history,
)
from bench.history import (
    SKILLS as SKILLS,  # re-exported: bench/web.py reads it from here
)
from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable
from typer.testing import CliRunner

from routelens.cli import COMMANDS as CLI_COMMANDS
from routelens.cli import app
from routelens.store import import_jsonl, open_store, schema
from routelens.store.sqlstore import parse_store_url
from routelens.suite.hashing import input_hash

IMPORT_TARGET = 0.5
SQLITE_TARGET_S = 0.5
POSTGRES_TARGET_S = 2.0


# Baselines -----------------------------------------------------------------------------

_ATTEMPT_COLUMNS = [c.name for c in schema.attempts.columns if c.name != "attempt_id"]
_TIME_COLUMNS = {"started_at", "finished_at"}
_JSON_COLUMNS = {"retry_log"}


def _sqlite_value(name: str, value: Any) -> Any:
    # What the store keeps in SQLite: naive UTC text for times, JSON text for the retry log.
    if name in _TIME_COLUMNS:
        moment = datetime.fromisoformat(value).astimezone(UTC)
        return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if name in _JSON_COLUMNS:
        return json.dumps(value)
    return value


def _postgres_value(name: str, value: Any) -> Any:
    # What psycopg is given for the store's PostgreSQL columns: UTC datetimes, JSON text.
    if name in _TIME_COLUMNS:
        return datetime.fromisoformat(value).astimezone(UTC)
    if name in _JSON_COLUMNS:
        return json.dumps(value)
    return value


def baseline_rows(
    lines: Iterator[dict[str, Any]], stored: Any, limit: int
) -> Iterator[list[tuple[Any, ...]]]:
    """The first `limit` attempt rows as tuples in column order, 100,000 at a time."""
    chunk: list[tuple[Any, ...]] = []
    for count, line in enumerate(lines, start=1):
        # The store keeps the input's hash beside it (schema v5); so does the baseline.
        line["input_hash"] = input_hash(line["input"])
        chunk.append(tuple(stored(name, line[name]) for name in _ATTEMPT_COLUMNS))
        if len(chunk) == 100_000 or count == limit:
            yield chunk
            chunk = []
        if count == limit:
            return
    if chunk:
        yield chunk


def _ddl(dialect: Any) -> list[str]:
    statements = []
    for table in (schema.runs, schema.attempts):
        statements.append(str(CreateTable(table).compile(dialect=dialect)))
        statements += [str(CreateIndex(index).compile(dialect=dialect)) for index in table.indexes]
    return statements


_RUN_INSERT = (
    "INSERT INTO runs (run_id, started_at, status, router, skills_hash, suite_hash, "
    "suite_name, labels, settings) VALUES ({0}, '2025-01-01', 'completed', 'r', '', '', '', "
    "'{{}}', '{{}}')"
)


def time_sqlite_baseline(database: Path, shape: Shape, seed: int, now: datetime) -> float:
    """Seconds raw sqlite3.executemany spends inserting the rows (building them not counted)."""
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    for statement in _ddl(sqlite.dialect()):
        connection.execute(statement)
    run_ids = [run_fields(i, shape, now)["run_id"] for i in range(shape.runs)]
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(_RUN_INSERT.format("?"), [(run_id,) for run_id in run_ids])
    sql = (
        f"INSERT INTO attempts ({', '.join(_ATTEMPT_COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in _ATTEMPT_COLUMNS)})"
    )
    elapsed = 0.0
    lines = attempt_lines(shape, seed, now)
    for chunk in baseline_rows(lines, _sqlite_value, shape.attempts):
        started = time.perf_counter()
        connection.executemany(sql, chunk)
        elapsed += time.perf_counter() - started
    started = time.perf_counter()
    connection.execute("COMMIT")
    elapsed += time.perf_counter() - started
    connection.close()
    return elapsed


def time_postgres_baseline(base_url: str, shape: Shape, seed: int, rows: int) -> float:
    """Seconds psycopg's executemany spends inserting the first `rows` rows into a scratch
    schema with the store's DDL, in one transaction (building them not counted)."""
    import psycopg

    url = parse_store_url(base_url).set(drivername="postgresql")
    now = datetime.now(UTC)
    scratch = "routelens_bench_raw"
    with psycopg.connect(url.render_as_string(hide_password=False)) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {scratch} CASCADE")
        connection.execute(f"CREATE SCHEMA {scratch}")
        connection.execute(f"SET search_path = {scratch}")
        for statement in _ddl(postgresql.dialect()):
            connection.execute(statement)
        runs = -(-rows // shape.cases)
        with connection.cursor() as cursor:
            cursor.executemany(
                _RUN_INSERT.format("%s"),
                [(run_fields(i, shape, now)["run_id"],) for i in range(runs)],
            )
        connection.commit()
        sql = (
            f"INSERT INTO attempts ({', '.join(_ATTEMPT_COLUMNS)}) "
            f"VALUES ({', '.join('%s' for _ in _ATTEMPT_COLUMNS)})"
        )
        elapsed = 0.0
        lines = attempt_lines(shape, seed, now)
        with connection.cursor() as cursor:
            for chunk in baseline_rows(lines, _postgres_value, rows):
                started = time.perf_counter()
                cursor.executemany(sql, chunk)
                elapsed += time.perf_counter() - started
        started = time.perf_counter()
        connection.commit()
        elapsed += time.perf_counter() - started
        connection.execute(f"DROP SCHEMA {scratch} CASCADE")
        connection.commit()
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


def print_load(when: str) -> None:
    """The 1, 5 and 15-minute load averages, labelled."""
    print("load average {}: {:.2f} {:.2f} {:.2f}".format(when, *os.getloadavg()), flush=True)


def import_sqlite(store_path: Path, shape: Shape, seed: int, folder: Path) -> None:
    """Part 1 on SQLite: the whole history imported into a fresh store, against the baseline."""
    now = datetime.now(UTC)
    history = folder / "history.jsonl"
    started = time.perf_counter()
    write_history(history, shape, seed, now)
    print(
        f"history: {shape.attempts:,} attempts ({shape.cases:,} cases x {shape.runs} runs "
        f"over {DAYS} days), {history.stat().st_size / 1e6:.0f} MB, "
        f"written in {time.perf_counter() - started:.1f} s"
    )
    print_load("before the import")
    baseline_s = time_sqlite_baseline(folder / "baseline.sqlite", shape, seed, now)
    (folder / "baseline.sqlite").unlink()
    with open_store(f"sqlite:///{store_path}") as store:
        started, cpu_before = time.perf_counter(), os.times()
        summary = import_jsonl(store, history)
        import_s, cpu_after = time.perf_counter() - started, os.times()
        add_experiment_and_changes(store, shape, now)
    history.unlink()
    assert summary.attempts_added == shape.attempts, summary
    print(
        f"baseline : raw sqlite3.executemany, {baseline_s:.1f} s, "
        f"{shape.attempts / baseline_s:,.0f} rows/s"
    )
    main_us, worker_us = cpu_per_line_us(cpu_before, cpu_after, shape.attempts)
    print(f"routelens: import_jsonl, {import_s:.1f} s, {shape.attempts / import_s:,.0f} rows/s")
    print(f"routelens CPU per line: {main_us:.1f} µs here, {worker_us:.1f} µs in its worker")
    print_load("after the import")
    print_import_ratio(baseline_s / import_s)


def import_postgres(store_url: str, base_url: str, shape: Shape, seed: int, folder: Path) -> None:
    """Part 1 on PostgreSQL: the history imported in chunks (or reused), against a baseline
    of the first chunk's rows when the store starts empty."""
    with open_store(store_url) as store, store.engine.connect() as connection:
        empty = connection.execute(text("SELECT count(*) FROM runs")).scalar_one() == 0
    chunk_runs = 50
    baseline_s = None
    if empty:
        print_load("before the baseline")
        rows = min(shape.attempts, chunk_runs * shape.cases)
        baseline_s = time_postgres_baseline(base_url, shape, seed, rows)
        print(
            f"baseline : psycopg executemany, {rows:,} rows, {baseline_s:.1f} s, "
            f"{rows / baseline_s:,.0f} rows/s"
        )
    build = prepare_store(store_url, shape, seed, folder, runs_per_chunk=chunk_runs)
    if build.lines:
        print_load("after the import")
        print(
            f"routelens: import_jsonl, {build.lines:,} lines in {build.seconds:.0f} s, "
            f"{build.lines / build.seconds:,.0f} rows/s"
        )
    if baseline_s is not None and build.first_chunk_s:
        print_import_ratio(baseline_s / build.first_chunk_s, "first chunk, ")


def print_import_ratio(ratio: float, what: str = "") -> None:
    """The import's rows per second over the baseline's, against the target."""
    verdict = "met" if ratio >= IMPORT_TARGET else "NOT met"
    print(
        f"ratio routelens/baseline ({what}rows/s): {ratio:.2f} "
        f"(target >= {IMPORT_TARGET}: {verdict})"
    )


# Analytics -----------------------------------------------------------------------------

COMMANDS: dict[str, list[str]] = {
    # the whole 30-day history, not flaky's default 7-day window (a quarter of it)
    "flaky": ["--window", "31d"],
    "confusion": [],
    "trend": [],
    "cost": [],
    "compare": ["--baseline", "variant=baseline", "--candidate", "variant=candidate"],
    # every distinct failed input of the history (capped at 2,000), then the clustering
    "patterns": ["--window", "31d"],
    # the facts of the last 7 days (accuracy, skills, flaky twice, changes, cost), no model
    "summarize": ["--offline"],
}


def time_command(
    runner: CliRunner, name: str, store_url: str, repeats: int
) -> tuple[float, float, str] | None:
    """The first run's seconds, the median of `repeats` more, and how it ended; None if the
    command does not exist."""
    if name not in {command.name for command in CLI_COMMANDS}:
        return None
    times = []
    for _ in range(repeats + 1):
        started = time.perf_counter()
        result = runner.invoke(app, [name, *COMMANDS[name], "--store", store_url, "--json"])
        times.append(time.perf_counter() - started)
        if result.exit_code != 0:
            return (
                times[-1],
                times[-1],
                f"exit {result.exit_code}: {result.output.strip().splitlines()[-1:]}",
            )
    return times[0], statistics.median(times[1:]), "ok"


def time_floor(store_url: str, repeats: int) -> float:
    """Median seconds of one full scan of the attempts table: the machine's baseline."""
    with open_store(store_url) as store, store.engine.connect() as connection:
        hint = "NOT INDEXED" if connection.dialect.name == "sqlite" else ""
        scan = text(f"SELECT count(*), sum(cost_usd) FROM attempts {hint}")
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            connection.execute(scan).one()
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def time_commands(store_url: str, target_s: float, repeats: int) -> None:
    """Part 2: every command, cold then the median of `repeats`, against the floor."""
    print_load("before the commands")
    floor = time_floor(store_url, repeats)
    print(f"floor: one full scan of attempts, {floor:.2f} s (median of {repeats})")
    print(f"{'command':9}  {'cold':>6}  {'median':>6}  {'x floor':>7}  target < {target_s} s")
    runner = CliRunner()
    for name in COMMANDS:
        timed = time_command(runner, name, store_url, repeats)
        if timed is None:
            print(f"{name:9}: not available yet")
            continue
        cold, median, outcome = timed
        met = "met" if median < target_s and outcome == "ok" else "NOT met"
        print(
            f"{name:9}  {cold:6.2f}  {median:6.2f}  {median / floor:7.1f}  {met} ({outcome})",
            flush=True,
        )
    print_load("after the commands")


def main() -> None:
    """Build or reuse the store, time the import against its baseline, time the commands."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--attempts",
        type=int,
        help="attempts in the history (default 1,000,000; 10,000,000 with --postgres)",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed of the history")
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed runs of each command after the cold one"
    )
    parser.add_argument("--store", type=Path, help="SQLite file to keep (reused if present)")
    parser.add_argument(
        "--postgres", metavar="URL", help="a PostgreSQL database to build the history in"
    )
    args = parser.parse_args()
    shape = Shape.for_attempts(args.attempts or (10_000_000 if args.postgres else 1_000_000))
    print(
        f"history: {shape.attempts:,} attempts ({shape.cases:,} cases x {shape.runs} runs "
        f"over {DAYS} days)"
    )
    with tempfile.TemporaryDirectory() as folder:
        if args.postgres:
            store_url = postgres_schema_url(args.postgres, shape)
            import_postgres(store_url, args.postgres, shape, args.seed, Path(folder))
            target = POSTGRES_TARGET_S
        else:
            store_path = args.store or Path(folder) / "routelens.sqlite"
            store_url = f"sqlite:///{store_path}"
            if store_path.exists():
                print(f"history: reusing {store_path}")
            else:
                import_sqlite(store_path, shape, args.seed, Path(folder))
            target = SQLITE_TARGET_S
        time_commands(store_url, target, args.repeats)


if __name__ == "__main__":
    main()
