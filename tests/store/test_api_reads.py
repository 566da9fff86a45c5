"""API health per day and per run, against the same figures computed from the attempts."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from routelens.analytics.api_health import retry_error_kind
from routelens.analytics.window import AttemptFilter
from routelens.store import AttemptRecord, Store, Verdict
from routelens.store.api_reads import usage_by_day, usage_by_run
from routelens.store.records import RetryEvent
from tests import factories

RETRIES = [
    RetryEvent("rate_limit_error", 429, 0.5),
    RetryEvent("overloaded_error", 529, 0.2),
    RetryEvent("api_error", 500, 0.1),
    RetryEvent("timeout", None, 1.0),
    RetryEvent("connection_error", None, 0.3),
]


def _attempts(seed: int) -> list[AttemptRecord]:
    rng = random.Random(seed)
    attempts = []
    for index in range(60):
        run_id = f"run-{index % 3}"
        verdict = rng.choice([Verdict.PASS, Verdict.PASS, Verdict.FAIL, Verdict.ERROR])
        log = tuple(rng.choice(RETRIES) for _ in range(rng.choice([0, 0, 1, 2])))
        started = factories.STARTED + timedelta(hours=index * 7)
        attempts.append(
            factories.make_attempt(
                f"case-{index}",
                verdict,
                run_id=run_id,
                started_at=started,
                finished_at=started + timedelta(seconds=2),
                latency_s=round(rng.uniform(0.1, 4), 4),
                retries=len(log),
                retry_log=log,
                retry_wait_s=sum(event.wait_s for event in log),
                http_status=rng.choice([429, 529, 500, 503, 400, None])
                if verdict is Verdict.ERROR
                else 200,
                input_tokens=rng.randint(0, 900),
                output_tokens=rng.randint(0, 40),
                cache_read_tokens=rng.randint(0, 900),
                cache_write_tokens=rng.randint(0, 90),
                cost_usd=rng.uniform(0, 0.01),
            )
        )
    return attempts


def _expected(attempts: list[AttemptRecord], key: Any) -> dict[str, dict[str, Any]]:
    groups: defaultdict[str, list[AttemptRecord]] = defaultdict(list)
    for attempt in attempts:
        groups[key(attempt)].append(attempt)
    found = {}
    for group, rows in groups.items():
        decided = [a.latency_s for a in rows if a.verdict is not Verdict.ERROR]
        errors = [a for a in rows if a.verdict is Verdict.ERROR]
        found[group] = {
            "attempts": len(rows),
            "errors": len(errors),
            "retries": sum(a.retries for a in rows),
            "kinds": dict(
                Counter(
                    retry_error_kind(e.http_status, e.error_type) for a in rows for e in a.retry_log
                )
            ),
            "rate_limited_errors": sum(a.http_status in (429, 529) for a in errors),
            "server_errors": sum(a.http_status in (500, 503) for a in errors),
            "cache_read": sum(a.cache_read_tokens for a in rows),
            "cost": sum(a.cost_usd for a in rows),
            "p95": float(np.percentile(decided, 95)) if decided else None,
            "busy": sum((a.finished_at - a.started_at).total_seconds() for a in rows),
        }
    return found


@pytest.mark.parametrize("seed", [1, 2])
def test_usage_by_day_and_run_match_the_attempts(store: Store, seed: int) -> None:
    attempts = _attempts(seed)
    for run_id in sorted({a.run_id for a in attempts}):
        store.create_run(factories.make_run(run_id), [], [])
    store.record_attempts(attempts)
    everything = AttemptFilter()
    for usages, key in (
        (usage_by_day(store.engine, everything), lambda a: a.started_at.date().isoformat()),
        (usage_by_run(store.engine, everything), lambda a: a.run_id),
    ):
        expected = _expected(attempts, key)
        assert [u.key for u in usages] == sorted(expected)
        for usage in usages:
            want = expected[usage.key]
            assert (usage.attempts, usage.errors, usage.retries) == (
                want["attempts"],
                want["errors"],
                want["retries"],
            )
            assert usage.requests == want["attempts"] + want["retries"]
            assert usage.retries_by_kind == want["kinds"]
            assert usage.rate_limited_errors == want["rate_limited_errors"]
            assert usage.server_errors == want["server_errors"]
            assert usage.tokens.cache_read == want["cache_read"]
            assert usage.cost_usd == pytest.approx(want["cost"])
            assert usage.latency_s["p95"] == pytest.approx(want["p95"])
    per_run = _expected(attempts, lambda a: a.run_id)
    for usage in usage_by_run(store.engine, everything):
        # SQLite's julianday() keeps time to about 0.1 ms
        assert usage.busy_s == pytest.approx(per_run[usage.key]["busy"], abs=1e-3 * usage.attempts)


def test_the_window_and_labels_limit_the_attempts(store: Store) -> None:
    attempts = _attempts(3)
    store.create_run(factories.make_run("run-0", labels={"team": "a"}), [], [])
    store.create_run(factories.make_run("run-1", labels={"team": "b"}), [], [])
    store.create_run(factories.make_run("run-2", labels={"team": "b"}), [], [])
    store.record_attempts(attempts)
    now = factories.STARTED + timedelta(days=5)
    recent = AttemptFilter(window=timedelta(days=2), now=now)
    kept = [a for a in attempts if now - timedelta(days=2) <= a.started_at <= now]
    assert sum(u.attempts for u in usage_by_day(store.engine, recent)) == len(kept)
    team_b = AttemptFilter(labels={"team": "b"})
    by_run = usage_by_run(store.engine, team_b)
    assert [u.key for u in by_run] == ["run-1", "run-2"]
    retried = sum(a.retries for a in attempts if a.run_id != "run-0")
    assert sum(sum(u.retries_by_kind.values()) for u in by_run) == retried
