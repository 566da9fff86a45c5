"""The SQL run summary equals `summarize_attempts` over the same attempts."""

from __future__ import annotations

import random
from dataclasses import asdict
from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from routelens.analytics.summary import summarize_attempts
from routelens.store import Store, Verdict
from routelens.store.run_summary import latency_percentiles, run_summaries, run_totals
from tests import factories

SKILLS = ("deploy", "review", "triage", None)


def _random_attempts(run_id: str, count: int, seed: int) -> list[Any]:
    rng = random.Random(seed)
    attempts = []
    for index in range(count):
        verdict = rng.choice([Verdict.PASS, Verdict.PASS, Verdict.FAIL, Verdict.ERROR])
        expected = rng.choice(SKILLS)
        actual = expected if verdict is Verdict.PASS else rng.choice(SKILLS)
        attempts.append(
            factories.make_attempt(
                f"case-{index % 7}",
                verdict,
                expected=expected,
                actual=actual,
                run_id=run_id,
                repeat_index=index // 7,
                category=rng.choice(["direct", "negative", "edge"]),
                asked_clarification=actual is None and rng.random() < 0.5,
                latency_s=round(rng.uniform(0.1, 3.0), 3),
                cost_usd=rng.uniform(0, 0.01),
                input_tokens=rng.randint(0, 2000),
                output_tokens=rng.randint(0, 50),
                cache_read_tokens=rng.randint(0, 900),
                cache_write_tokens=rng.randint(0, 900),
                retries=rng.randint(0, 2),
                options_score=rng.choice([None, 0.0, 0.5, 1.0]),
                commands_score=rng.choice([None, 0.25, 1.0]),
                error_type=rng.choice([None, "timeout", "api_error"])
                if verdict is Verdict.ERROR
                else None,
                started_at=factories.STARTED + timedelta(seconds=index),
                finished_at=factories.STARTED + timedelta(seconds=index + 1),
            )
        )
    return attempts


def _comparable(summary: Any) -> dict[str, Any]:
    values = asdict(summary)
    for key in ("cost_usd", "latency_p50_s", "latency_p95_s"):
        values[key] = None if values[key] is None else pytest.approx(values[key], rel=1e-9)
    for key in ("mean_options_score", "mean_commands_score"):
        values[key] = None if values[key] is None else pytest.approx(values[key], rel=1e-9)
    return values


@pytest.mark.parametrize("count", [1, 2, 3, 20, 97])
def test_sql_summary_equals_the_in_memory_summary(store: Store, count: int) -> None:
    runs = [f"run-{n}" for n in range(3)]
    expected = {}
    for offset, run_id in enumerate(runs):
        store.create_run(factories.make_run(run_id), [], [])
        attempts = _random_attempts(run_id, count + offset * 5, seed=count * 10 + offset)
        store.record_attempts(attempts)
        expected[run_id] = summarize_attempts(store.attempts(run_id))
    found = run_summaries(store.engine, [*runs, "no-such-run"])
    for run_id in runs:
        assert _comparable(found[run_id]) == _comparable(expected[run_id])
    assert found["no-such-run"].attempts == 0
    assert found["no-such-run"].accuracy is None


def test_totals_count_verdicts_cases_cost_and_retries(store: Store) -> None:
    store.create_run(factories.make_run("run-1"), [], [])
    attempts = _random_attempts("run-1", 30, seed=3)
    store.record_attempts(attempts)
    totals = run_totals(store.engine, ["run-1"])["run-1"]
    summary = summarize_attempts(attempts)
    assert (totals.attempts, totals.passed, totals.failed, totals.errors) == (
        summary.attempts,
        summary.passed,
        summary.failed,
        summary.errors,
    )
    assert totals.cases == summary.cases
    assert totals.retries == summary.retries
    assert totals.cost_usd == pytest.approx(summary.cost_usd)
    assert totals.accuracy == summary.accuracy


@pytest.mark.parametrize("size", [1, 2, 5, 21, 40, 101])
def test_latency_percentiles_match_numpy_linear(store: Store, size: int) -> None:
    store.create_run(factories.make_run("run-1"), [], [])
    rng = random.Random(size)
    latencies = [rng.uniform(0, 10) for _ in range(size)]
    store.record_attempts(
        factories.make_attempt("c", run_id="run-1", repeat_index=i, latency_s=value)
        for i, value in enumerate(latencies)
    )
    percentiles = (0.0, 50.0, 90.0, 95.0, 99.0, 100.0)
    with store.engine.connect() as connection:
        (found,) = latency_percentiles(connection, ["run-1"], percentiles).values()
    expected = np.percentile(latencies, percentiles, method="linear")
    assert found == pytest.approx(list(expected), rel=1e-12)
