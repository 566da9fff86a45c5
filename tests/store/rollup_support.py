"""What the rollup tests share: the rollup tables as rows, the same tables summed again from
scratch, and a seeded history of several runs over several days to read them back from.

`assert_rollups_current(store)` is the write-path check: every rollup table, row for row,
equals what `rebuild_rollups` sums from the attempts on the same store (in a transaction
that is rolled back), and the attempts the rollups count per run and hour equal a count
made here in Python from the attempts' start times.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from routelens.routers.base import RetryEvent
from routelens.store import AttemptRecord, RunRecord, Store, Verdict, schema
from routelens.store.rollup_schema import ROLLUP_KEYS, ROLLUP_TABLES, attempt_rollups
from routelens.store.rollup_writes import rebuild_rollups
from tests.factories import make_attempt, make_run

Rows = dict[str, list[tuple[Any, ...]]]
"""Each rollup table's rows, sorted by its key."""

DAY0 = datetime(2025, 3, 3, tzinfo=UTC)
"""The first day of the seeded history (a Monday)."""
HISTORY_DAYS = 6
SKILLS = ("deploy", "review", "search")
CATEGORIES = ("direct", "negative", "edge", "disambiguation")
ERROR_STATUSES = (429, 529, 500, 503, 400, None)
RETRY_STATUSES = (429, 529, 502, None, None)
RETRY_TYPES = ("rate_limit_error", "overloaded_error", "api_error", "APITimeoutError", "reset")


def _sort_key(value: Any) -> tuple[bool, str]:
    return (value is None, str(value))


def _normalised(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


def read_rollups(connection: Connection) -> Rows:
    """Every rollup table's rows (columns in table order), sorted by the table's key."""
    found: Rows = {}
    for table in ROLLUP_TABLES:
        positions = [list(table.c.keys()).index(name) for name in ROLLUP_KEYS[table.name]]
        rows = [
            tuple(_normalised(value) for value in row) for row in connection.execute(select(table))
        ]
        found[table.name] = sorted(
            rows, key=lambda row: tuple(_sort_key(row[p]) for p in positions)
        )
    return found


def rebuilt_rollups(engine: Engine) -> Rows:
    """The rollups as `rebuild_rollups` sums them from scratch, without keeping the rebuild."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            rebuild_rollups(connection)
            return read_rollups(connection)
        finally:
            transaction.rollback()


def assert_same_rollups(actual: Rows, expected: Rows) -> None:
    """Row for row equal; floats within a relative 1e-9 (sums added in another order)."""
    for name, expected_rows in expected.items():
        actual_rows = actual[name]
        assert len(actual_rows) == len(expected_rows), (name, actual_rows, expected_rows)
        for got, wanted in zip(actual_rows, expected_rows, strict=True):
            for value, expected_value in zip(got, wanted, strict=True):
                if isinstance(expected_value, float) and isinstance(value, float):
                    assert math.isclose(value, expected_value, rel_tol=1e-9, abs_tol=1e-9), (
                        name,
                        got,
                        wanted,
                    )
                else:
                    assert value == expected_value, (name, got, wanted)


def hour_of(moment: datetime) -> str:
    """The documented rule, written here again: an attempt counts in the UTC hour it started."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H")


def attempts_per_hour(engine: Engine) -> Counter[tuple[str, str]]:
    """(run, hour) → attempts, as the attempt rollup counts them."""
    rollup = attempt_rollups.c
    query = select(rollup.run_id, rollup.hour, func.sum(rollup.attempts)).group_by(
        rollup.run_id, rollup.hour
    )
    with engine.connect() as connection:
        return Counter({(r, h): int(n) for r, h, n in connection.execute(query)})


def stored_attempts(store: Store) -> list[AttemptRecord]:
    """Every attempt of the store, run by run."""
    return [attempt for run in store.list_runs() for attempt in store.attempts(run.run_id)]


def assert_rollups_current(store: Store, *, expect_rows: bool = True) -> Rows:
    """The rollups equal a rebuild from the attempts, and count each attempt in its start hour."""
    with store.engine.connect() as connection:
        actual = read_rollups(connection)
    assert_same_rollups(actual, rebuilt_rollups(store.engine))
    attempts = stored_attempts(store)
    python = Counter((a.run_id, hour_of(a.started_at)) for a in attempts)
    assert attempts_per_hour(store.engine) == python
    if expect_rows:
        assert actual[attempt_rollups.name], "the store holds no attempt to check"
    return actual


@dataclass(frozen=True)
class History:
    """A seeded history: its runs, and the attempts whose retry log was cleared (counted
    before schema v2: `retries` without a log)."""

    runs: tuple[RunRecord, ...]
    unlogged: frozenset[tuple[str, str, int]]


HISTORY_RUNS = (
    make_run("run-a", router="anthropic", model="m1", labels={"team": "qa"}, git_commit="c1"),
    make_run("run-b", router="anthropic", model="m2", labels={"team": "ops"}, git_commit="c2"),
    make_run("run-c", router="local", model=None, labels={"team": "qa"}, git_commit=None),
    make_run("run-d", router="openai", model="m1", labels={}, git_commit="c1"),
)


def _retry_log(rng: random.Random) -> tuple[RetryEvent, ...]:
    count = rng.choice((0, 0, 0, 1, 2, 3))
    return tuple(
        RetryEvent(rng.choice(RETRY_TYPES), rng.choice(RETRY_STATUSES), rng.uniform(0.1, 3.0))
        for _ in range(count)
    )


def random_attempt(rng: random.Random, run_id: str, index: int, started: datetime) -> AttemptRecord:
    """One attempt of `run_id` with every field the rollups sum drawn at random."""
    category = rng.choice(CATEGORIES)
    expected = rng.choice((*SKILLS, None))
    verdict = rng.choices((Verdict.PASS, Verdict.FAIL, Verdict.ERROR), (6, 3, 2))[0]
    asked = False
    if verdict is Verdict.PASS:
        actual = expected
        asked = expected is None
    elif verdict is Verdict.FAIL:
        actual = rng.choice((*SKILLS, None))
        asked = actual is None and rng.random() < 0.5
    else:
        actual = None
    log = _retry_log(rng)
    waited = sum(event.wait_s for event in log)
    latency = rng.choice((0.0, 1.0, 1.0, *(rng.lognormvariate(0.3, 1.0) for _ in range(7))))
    return make_attempt(
        f"case-{index % 9}",
        verdict,
        expected=expected,
        actual=actual,
        run_id=run_id,
        repeat_index=index // 9,
        category=category,
        asked_clarification=asked,
        started_at=started,
        finished_at=started + timedelta(seconds=latency + waited + rng.uniform(0, 5)),
        latency_s=latency + waited,
        http_status=rng.choice(ERROR_STATUSES) if verdict is Verdict.ERROR else None,
        error_type="api_error" if verdict is Verdict.ERROR else None,
        # an attempt may carry a log without counting a retry: the SRE view skips those
        retries=len(log) if rng.random() < 0.9 else 0,
        retry_wait_s=waited,
        retry_log=log,
        input_tokens=rng.randint(0, 5000),
        output_tokens=rng.randint(0, 400),
        cache_read_tokens=rng.choice((0, rng.randint(0, 4000))),
        cache_write_tokens=rng.choice((0, rng.randint(0, 1000))),
        cost_usd=rng.choice((0.0, rng.randint(1, 300_000) / 1e8)),
        options_score=(
            rng.choice((None, 0.0, 0.5, 1.0, rng.random()))
            if category == "disambiguation"
            else None
        ),
        expected_skill_hash=None if expected is None else f"hash-{expected}-0123456789",
        worker_id=index % 3,
        sequence_number=index,
    )


def random_start(rng: random.Random) -> datetime:
    """A start time inside the history, almost never on an hour or a second."""
    offset = timedelta(seconds=rng.uniform(0, HISTORY_DAYS * 86400))
    return DAY0 + offset


def record_history(
    store: Store, seed: int = 15, per_run: int = 90, *, clear_logs: bool = True
) -> History:
    """Write the seeded history: four runs of `per_run` attempts at random times over six
    days (a few exactly on an hour, a few finishing in a later hour than they started), in
    batches of several attempts; then (`clear_logs`) clear a few retry logs, as attempts
    from before schema v2 have none, and rebuild the rollups."""
    rng = random.Random(seed)
    for run in HISTORY_RUNS:
        store.create_run(run, [], [])
        starts = [random_start(rng) for _ in range(per_run)]
        starts[0] = DAY0 + timedelta(days=2, hours=10)  # exactly on an hour
        starts[1] = DAY0 + timedelta(days=4, hours=7, minutes=59, seconds=59.9)
        attempts = [random_attempt(rng, run.run_id, i, s) for i, s in enumerate(starts)]
        for start in range(0, len(attempts), 25):
            store.record_attempts(attempts[start : start + 25])
    unlogged = _clear_some_retry_logs(store, rng) if clear_logs else frozenset()
    return History(HISTORY_RUNS, unlogged)


def _clear_some_retry_logs(store: Store, rng: random.Random) -> frozenset[tuple[str, str, int]]:
    retried = [a for a in stored_attempts(store) if a.retries > 0]
    chosen = rng.sample(retried, 6)
    table = schema.attempts
    with store.engine.begin() as connection:
        for attempt in chosen:
            connection.execute(
                update(table)
                .where(
                    table.c.run_id == attempt.run_id,
                    table.c.case_id == attempt.case_id,
                    table.c.repeat_index == attempt.repeat_index,
                )
                .values(retry_log=None)
            )
        # attempts changed by hand: the one case where the rollups are summed again
        rebuild_rollups(connection)
    return frozenset((a.run_id, a.case_id, a.repeat_index) for a in chosen)


def admitted(
    attempt: AttemptRecord,
    runs: Sequence[RunRecord],
    *,
    since: datetime | None,
    now: datetime,
    labels: dict[str, str] | None = None,
    run_ids: tuple[str, ...] = (),
) -> bool:
    """Whether a filter (`since` ≤ start ≤ `now`, labels, runs) admits the attempt."""
    if since is not None and not since <= attempt.started_at <= now:
        return False
    if run_ids and attempt.run_id not in run_ids:
        return False
    run = next(r for r in runs if r.run_id == attempt.run_id)
    return all(run.labels.get(key) == value for key, value in (labels or {}).items())
