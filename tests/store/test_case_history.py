"""One case across runs: its strip, its flaky groups (as `routelens flaky` counts them), two
attempts in full, and its newest definition."""

from __future__ import annotations

import random
from datetime import timedelta

from routelens.analytics.window import AttemptFilter
from routelens.store import RunCaseRecord, Store, Verdict
from routelens.store.case_history import (
    case_attempt,
    case_flaky_aggregates,
    case_strip,
    case_totals,
    latest_attempt_id,
    latest_case_definition,
)
from routelens.store.flaky_history import read_flaky_aggregates
from tests import factories


def _history(store: Store, seed: int = 4) -> None:
    """Three runs (two setups) of cases x and y with random verdicts, x's input edited once."""
    rng = random.Random(seed)
    for index, (run_id, model) in enumerate([("r1", "m1"), ("r2", "m2"), ("r3", "m1")]):
        started = factories.STARTED + timedelta(hours=index)
        store.create_run(
            factories.make_run(run_id, model=model, started_at=started),
            [],
            [RunCaseRecord(run_id, "x", "core", 0, {"id": "x", "input": f"x v{index}"})],
        )
        store.record_attempts(
            factories.make_attempt(
                case_id,
                rng.choice([Verdict.PASS, Verdict.FAIL, Verdict.ERROR]),
                run_id=run_id,
                repeat_index=repeat,
                sequence_number=repeat,
                input="x new" if case_id == "x" and index == 2 else f"{case_id} text",
                started_at=started + timedelta(seconds=repeat),
                finished_at=started + timedelta(seconds=repeat),
            )
            for case_id in ("x", "y")
            for repeat in range(6)
        )


def test_flaky_groups_of_a_case_equal_the_flaky_commands(store: Store) -> None:
    _history(store)
    wanted = AttemptFilter()
    with store.engine.connect() as connection:
        everything = read_flaky_aggregates(connection, wanted)
    expected = sorted(a for a in everything if a.key.case_id == "x")
    assert sorted(case_flaky_aggregates(store.engine, "x", wanted)) == expected
    assert len(expected) == 3  # (old input, m1), (old input, m2), (new input, m1)


def test_totals_strip_and_latest_attempts(store: Store) -> None:
    _history(store)
    totals = case_totals(store.engine, "x")
    strip = case_strip(store.engine, "x", limit=10)
    assert totals.attempts == 18
    assert totals.passed + totals.failed + totals.errors == 18
    assert totals.first_seen == factories.STARTED
    assert totals.last_seen == factories.STARTED + timedelta(hours=2, seconds=5)
    assert len(strip) == 10
    assert [a.started_at for a in strip] == sorted(a.started_at for a in strip)
    assert strip[-1].run_id == "r3"  # the newest last
    newest_fail = latest_attempt_id(store.engine, "x", Verdict.FAIL)
    fails = [a for a in case_strip(store.engine, "x") if a.verdict == "fail"]
    assert newest_fail == fails[-1].attempt_id
    attempt = case_attempt(store.engine, "x", newest_fail)
    assert attempt is not None
    assert attempt.verdict is Verdict.FAIL
    assert case_attempt(store.engine, "y", newest_fail) is None  # another case's attempt


def test_newest_definition_comes_from_the_newest_attempts_run(store: Store) -> None:
    _history(store)
    assert latest_case_definition(store.engine, "x") == {"id": "x", "input": "x v2"}
    assert latest_case_definition(store.engine, "y") is None  # never recorded
    assert latest_case_definition(store.engine, "nope") is None
