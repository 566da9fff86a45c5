"""The generated history both benches read, and the stores they keep it in.

A history of N attempts: 10,000 cases run 100 times for a million (1,000 times for ten
million) over the last 30 days, 12 skills, 5 categories, about 80% passing, 10% of cases
flaky, 1% errors; even runs labelled `variant=baseline`, odd ones `variant=candidate`. It is
written as the JSONL that `routelens export` writes and imported with `import_jsonl` (the
path of `routelens import`), then one running experiment (the last two runs) and one SKILL.md
change per skill are added, so that every area of a scrape has work to do.

`prepare_store` keeps the store between runs: a SQLite file (`--store PATH`), or a schema of
a PostgreSQL database (`--postgres URL`: schema `routelens_bench_<N>`, so that a test
database's other schemas are left alone). A store that already holds the history is reused;
one that holds part of it (an interrupted build) is completed run by run, since each chunk
of whole runs is imported in one transaction.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

from routelens.changes.model import ChangeEvent, ChangeKind
from routelens.experiments.model import ArmKind, ArmSpec, ExperimentRecord, ExperimentStatus
from routelens.experiments.storage import insert_experiment
from routelens.store import Store, import_jsonl, open_store, schema
from routelens.store.changes import record_change_events
from routelens.store.sqlstore import parse_store_url

SKILLS = [
    "deploy", "review", "test", "triage", "release", "rollback",
    "incident", "oncall", "changelog", "migrate", "benchmark", "docs",
]  # fmt: skip
CATEGORIES = ["direct", "indirect", "negative", "disambiguation", "multi-step"]
DAYS = 30


@dataclass(frozen=True)
class Shape:
    """How the generated history is laid out: `runs` runs of `cases` cases each."""

    cases: int
    runs: int

    @classmethod
    def for_attempts(cls, attempts: int) -> Shape:
        """10,000 cases in attempts/10,000 runs from a million up (100 runs for a million,
        1,000 for ten million: a suite that keeps its size and is run more often); below
        that 100 runs of attempts/100 cases, fewer runs when small."""
        if attempts >= 1_000_000:
            return cls(cases=10_000, runs=attempts // 10_000)
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


def attempt_lines(
    shape: Shape, seed: int, now: datetime, *, first_run: int = 0
) -> Iterator[dict[str, Any]]:
    """Every line of the history, run by run, as `routelens export` writes them (from run
    `first_run` on: the earlier runs' draws are made, not written)."""
    rng = random.Random(seed)
    cases = make_cases(shape.cases, rng)
    for _ in range(first_run * shape.cases):
        rng.random()
        rng.random()
    for run_index in range(first_run, shape.runs):
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


def write_lines(path: Path, lines: Iterator[dict[str, Any]]) -> int:
    """Write lines as JSONL; how many."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for line in lines:
            out.write(json.dumps(line, separators=(",", ":")) + "\n")
            count += 1
    return count


def write_history(path: Path, shape: Shape, seed: int, now: datetime) -> None:
    """The JSONL file `routelens import` reads, the whole history at once."""
    write_lines(path, attempt_lines(shape, seed, now))


def postgres_schema_url(base_url: str, shape: Shape) -> str:
    """`base_url` scoped to the schema `routelens_bench_<attempts>` (created if missing)."""
    url = parse_store_url(base_url)
    schema_name = f"routelens_bench_{shape.attempts}"
    admin = create_engine(url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema_name}"'))
    finally:
        admin.dispose()
    scoped = url.update_query_dict({"options": f"-csearch_path={schema_name}"})
    return scoped.render_as_string(hide_password=False)


def stored_runs(store: Store) -> int:
    """How many runs the store holds (each chunk imports whole runs in one transaction)."""
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(schema.runs)).scalar_one())


@dataclass(frozen=True)
class Build:
    """How a store got its history: imported now (seconds, lines) or reused (0, 0); the
    first chunk's seconds when the store started empty (None otherwise)."""

    seconds: float
    lines: int
    first_chunk_s: float | None = None


def prepare_store(
    store_url: str, shape: Shape, seed: int, folder: Path, *, runs_per_chunk: int = 50
) -> Build:
    """Import the history into the store, `runs_per_chunk` runs a JSONL file at a time,
    unless it is there already; then the experiment and the changes. Prints progress."""
    now = datetime.now(UTC)
    with open_store(store_url) as store:
        done = stored_runs(store)
        if done >= shape.runs:
            print(f"history: reusing the {done} runs in the store")
            return Build(0.0, 0)
        first_chunk_s = None
        if done:
            print(f"history: {done} of {shape.runs} runs in the store, importing the rest")
        lines = attempt_lines(shape, seed, now, first_run=done)
        import_s, imported = 0.0, 0
        for first in range(done, shape.runs, runs_per_chunk):
            runs = min(runs_per_chunk, shape.runs - first)
            chunk = folder / f"history-{first:05d}.jsonl"
            count = write_lines(chunk, itertools.islice(lines, runs * shape.cases))
            started = time.perf_counter()
            summary = import_jsonl(store, chunk)
            elapsed = time.perf_counter() - started
            chunk.unlink()
            assert summary.attempts_added == count, summary
            import_s += elapsed
            if first == 0:
                first_chunk_s = elapsed
            imported += count
            print(
                f"  runs {first}-{first + runs - 1}: {count:,} attempts imported in "
                f"{elapsed:.1f} s ({count / elapsed:,.0f}/s)",
                flush=True,
            )
        add_experiment_and_changes(store, shape, now)
    return Build(import_s, imported, first_chunk_s)


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
