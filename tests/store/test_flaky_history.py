"""Flaky counts from the store: history strings against the portable LAG statement."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from routelens.analytics.flaky import CaseKey, FlakyAggregate
from routelens.analytics.window import AttemptFilter
from routelens.store import Store, Verdict, flaky_history, schema
from routelens.store.flaky_history import (
    fold_history,
    read_flaky_aggregates,
    read_lag_aggregates,
    setup_code,
    split_history,
    sqlite_reads_in_order,
)
from tests.factories import make_attempt, make_run

KEY = CaseKey("TC1", "move TES-1 to Done", "skills-1", "anthropic", "claude-test")

# The `store` fixture (tests/store/conftest.py) is a fresh store on SQLite, and on PostgreSQL
# when ROUTELENS_TEST_POSTGRES_URL is set.

# --- SQL: aggregates from a known attempt sequence ---------------------------------------

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def record_sequence(store: Store, run_id: str, case_id: str, verdicts: str, **run: object) -> None:
    """Attempts of one case in one run, one minute apart, in the order of `verdicts` (P/F/E)."""
    codes = {"P": Verdict.PASS, "F": Verdict.FAIL, "E": Verdict.ERROR}
    if store.get_run(run_id) is None:
        store.create_run(make_run(run_id, started_at=T0, **run), [], [])
    for index, code in enumerate(verdicts):
        started = T0 + timedelta(minutes=index)
        store.record_attempt(
            make_attempt(
                case_id,
                codes[code],
                run_id=run_id,
                repeat_index=index,
                sequence_number=index,
                started_at=started,
                finished_at=started,
            )
        )


def read(store: Store) -> dict[str, FlakyAggregate]:
    with store.engine.connect() as connection:
        rows = read_flaky_aggregates(connection, AttemptFilter())
    return {f"{row.key.case_id}/{row.key.skills_hash}": row for row in rows}


def test_sql_counts_flips_in_time_order(store: Store) -> None:
    record_sequence(store, "run-1", "alternating", "PFPF")
    record_sequence(store, "run-1", "blocks", "PPFF")
    record_sequence(store, "run-1", "errors-between", "PEPEEF")
    rows = read(store)
    alternating = rows["alternating/0123456789abcdef0123"]
    assert (alternating.attempts, alternating.passes, alternating.flips) == (4, 2, 3)
    blocks = rows["blocks/0123456789abcdef0123"]
    assert (blocks.attempts, blocks.passes, blocks.flips) == (4, 2, 1)
    # Errors are counted apart and do not break a run of passes: P P F -> one flip.
    between = rows["errors-between/0123456789abcdef0123"]
    assert (between.attempts, between.passes, between.errors, between.flips) == (3, 2, 3, 1)


def test_sql_orders_by_time_not_insertion(store: Store) -> None:
    store.create_run(make_run("run-1", started_at=T0), [], [])
    for index, verdict in [(2, Verdict.PASS), (0, Verdict.PASS), (1, Verdict.FAIL)]:
        started = T0 + timedelta(minutes=index)
        store.record_attempt(
            make_attempt(
                "c",
                verdict,
                repeat_index=index,
                sequence_number=index,
                started_at=started,
                finished_at=started,
            )
        )
    [row] = read(store).values()
    assert row.flips == 2  # P F P in time, although inserted P P F


def test_sql_groups_by_skills_hash(store: Store) -> None:
    record_sequence(store, "run-1", "c", "PPP", skills_hash="old")
    record_sequence(store, "run-2", "c", "FFF", skills_hash="new")
    rows = read(store)
    assert (rows["c/old"].passes, rows["c/old"].flips) == (3, 0)
    assert (rows["c/new"].passes, rows["c/new"].flips) == (0, 0)


# --- the history-string reader against the portable LAG statement ------------------------


def random_history(store: Store, seed: int) -> None:
    """Runs of two setups and two labels, interleaved in time, with ties, errors, two inputs."""
    rng = random.Random(seed)
    for run_index in range(6):
        run_id = f"run-{run_index}"
        store.create_run(
            make_run(
                run_id,
                started_at=T0,
                skills_hash=f"skills-{run_index % 2}",
                model=None if run_index == 5 else "claude-test",
                labels={"variant": "a" if run_index % 3 else "b"},
            ),
            [],
            [],
        )
        for case_index in range(8):
            for repeat in range(rng.randint(0, 6)):
                started = T0 + timedelta(minutes=rng.randint(0, 30))  # runs overlap; ties
                store.record_attempt(
                    make_attempt(
                        f"case-{case_index}",
                        rng.choice([Verdict.PASS, Verdict.PASS, Verdict.FAIL, Verdict.ERROR]),
                        run_id=run_id,
                        repeat_index=repeat,
                        sequence_number=rng.randint(0, 3),
                        input=f"input {case_index} v{rng.randint(0, 1) if case_index < 3 else 0}",
                        started_at=started,
                        finished_at=started,
                    )
                )


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    "attempt_filter",
    [
        AttemptFilter(),
        AttemptFilter(labels={"variant": "a"}),
        AttemptFilter(run_ids=("run-1", "run-4")),
        AttemptFilter(window=timedelta(minutes=15), now=T0 + timedelta(minutes=20)),
    ],
    ids=["all", "label", "runs", "window"],
)
def test_history_strings_give_the_lag_statements_aggregates(
    store: Store, seed: int, attempt_filter: AttemptFilter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Split the SQLite read across two connections even for this small history.
    monkeypatch.setattr(flaky_history, "_PARALLEL_MIN_ATTEMPTS", 0)
    random_history(store, seed)
    with store.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            assert sqlite_reads_in_order(connection, attempt_filter)
        fast = read_flaky_aggregates(connection, attempt_filter)
        portable = read_lag_aggregates(connection, attempt_filter)
    assert len(fast) > 5
    assert sorted(fast, key=repr) == sorted(portable, key=repr)


def test_an_unusable_plan_falls_back_to_the_lag_statement(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    random_history(store, 4)
    with store.engine.connect() as connection:
        expected = sorted(read_lag_aggregates(connection, AttemptFilter()), key=repr)
        if connection.dialect.name != "sqlite":
            pytest.skip("the plan check is SQLite's")
        connection.execute(text(f"DROP INDEX {schema.FLAKY_HISTORY_INDEX}"))
        assert not sqlite_reads_in_order(connection, AttemptFilter())
        assert sorted(read_flaky_aggregates(connection, AttemptFilter()), key=repr) == expected


def test_fold_history_drops_errors_before_counting_flips() -> None:
    assert fold_history(KEY, "pepfefp") == FlakyAggregate(KEY, 5, 3, 2, 2)
    assert fold_history(KEY, "eee") == FlakyAggregate(KEY, 0, 0, 3, 0)


def test_split_history_keeps_each_setups_time_order_across_stretches() -> None:
    a, b = setup_code(0), setup_code(1)
    history = f"{a}p{a}f{b}p{a}p{b}f{b}f"
    assert split_history(history) == {a: "pfp", b: "pff"}


def test_setup_codes_skip_surrogates_and_never_collide() -> None:
    codes = [setup_code(index) for index in range(0xD800)]
    assert len(set(codes)) == len(codes)
    assert not any(0xD800 <= ord(code) < 0xE000 for code in codes)
    assert all(ord(code) >= 0x100 for code in codes)
