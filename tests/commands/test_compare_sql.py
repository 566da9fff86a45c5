"""The SQL pairing and counting of `routelens compare` against the object-based computation."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from routelens.analytics.compare import (
    AttemptOutcome,
    PairedCount,
    compare_outcomes,
    comparison_as_dict,
    latest_by_pair,
    paired_counts,
)
from routelens.commands.compare import compare_sides, parse_side, read_side_counts
from routelens.store import Store, Verdict, open_store
from tests.factories import STARTED, make_attempt, make_run
from tests.store.conftest import POSTGRES_URL_VARIABLE, postgres_schema_url

SKILLS = ["deploy", "review", None]
CATEGORIES = ["core", "edge", "negative"]
VERDICTS = [Verdict.PASS] * 6 + [Verdict.FAIL] * 3 + [Verdict.ERROR]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store on SQLite, or on PostgreSQL when ROUTELENS_TEST_POSTGRES_URL is set."""
    if request.param == "sqlite":
        with open_store(f"sqlite:///{tmp_path / 'store.sqlite'}") as opened:
            yield opened
        return
    base_url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not base_url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_URL_VARIABLE}")
    with postgres_schema_url(base_url) as url, open_store(url) as opened:
        yield opened


def plant_random_history(store: Store, seed: int) -> dict[str, list[str]]:
    """Runs labelled variant=a, b or c over 25 cases x 3 repeats, each run holding a random
    subset of the (case, repeat) keys; starts drawn from five instants so attempts of one
    key in different runs often tie. Returns the run ids of each variant."""
    rng = random.Random(seed)
    runs: dict[str, list[str]] = {"a": [], "b": [], "c": []}
    for index, variant in enumerate("aaabbbbc"):
        run_id = f"run-{index}-{rng.randrange(100)}"
        runs[variant].append(run_id)
        store.create_run(make_run(run_id, labels={"variant": variant}), [], [])
        attempts = []
        for case in range(25):
            skill, category = SKILLS[case % 3], CATEGORIES[case % 3]
            if rng.random() < 0.1:  # the same case, as an earlier suite defined it
                skill, category = rng.choice(SKILLS), rng.choice(CATEGORIES)
            for repeat in range(3):
                if rng.random() < 0.3:
                    continue
                started = STARTED + timedelta(seconds=rng.randrange(5))
                attempts.append(
                    make_attempt(
                        f"case-{case:02d}",
                        rng.choice(VERDICTS),
                        expected=skill,
                        category=category,
                        run_id=run_id,
                        repeat_index=repeat,
                        started_at=started,
                        finished_at=started,
                    )
                )
        store.record_attempts(attempts)
    return runs


def side_outcomes(store: Store, run_ids: list[str]) -> list[AttemptOutcome]:
    return [AttemptOutcome.from_attempt(a) for run_id in run_ids for a in store.attempts(run_id)]


def sort_key(row: PairedCount) -> tuple[str, str, str, str, str, int]:
    return (row.case_id, row.expected_skill or "", row.category, row.baseline, row.candidate, 0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_counts_and_comparison_equal_the_object_path(store: Store, seed: int) -> None:
    runs = plant_random_history(store, seed)
    baseline, candidate = side_outcomes(store, runs["a"]), side_outcomes(store, runs["b"])
    first, second = latest_by_pair(baseline), latest_by_pair(candidate)
    expected_counts = paired_counts((first[key], second[key]) for key in first.keys() & second)

    counts = read_side_counts(
        store.engine,
        parse_side("--baseline", "variant=a").attempt_filter,
        parse_side("--candidate", "variant=b").attempt_filter,
    )
    assert sorted(counts.paired, key=sort_key) == sorted(expected_counts, key=sort_key)
    assert (counts.baseline_keys, counts.candidate_keys) == (len(first), len(second))

    result = compare_sides(
        store, parse_side("--baseline", "variant=a"), parse_side("--candidate", "variant=b"), 0.05
    )
    assert comparison_as_dict(result) == comparison_as_dict(compare_outcomes(baseline, candidate))


def test_a_tie_on_start_goes_to_the_larger_run_id(store: Store) -> None:
    for run_id, verdict in (("run-1", Verdict.PASS), ("run-2", Verdict.FAIL)):
        store.create_run(make_run(run_id, labels={"variant": "b"}), [], [])
        store.record_attempts([make_attempt("A", verdict, run_id=run_id)])
    store.create_run(make_run("run-0", labels={"variant": "a"}), [], [])
    store.record_attempts([make_attempt("A", Verdict.PASS, run_id="run-0")])
    counts = read_side_counts(
        store.engine,
        parse_side("--baseline", "run-0").attempt_filter,
        parse_side("--candidate", "variant=b").attempt_filter,
    )
    assert counts.paired == [PairedCount("A", "deploy", "core", Verdict.PASS, Verdict.FAIL, 1)]


def test_one_run_on_both_sides_pairs_with_itself(store: Store) -> None:
    store.create_run(make_run("run-1", labels={"variant": "a"}), [], [])
    store.record_attempts([make_attempt("A", Verdict.PASS), make_attempt("B", Verdict.FAIL)])
    result = compare_sides(
        store, parse_side("--baseline", "run-1"), parse_side("--candidate", "variant=a"), 0.05
    )
    assert (result.paired_attempts, result.attempt_test.b, result.attempt_test.c) == (2, 0, 0)
    assert result.baseline.unpaired_attempts == result.candidate.unpaired_attempts == 0
