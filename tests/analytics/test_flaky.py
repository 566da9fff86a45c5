"""Flaky classification from hand-made aggregates, and the SQL that makes them from attempts."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from routelens.analytics.flaky import (
    CaseKey,
    FlakyAggregate,
    FlakyClass,
    FlakyRule,
    classify_case,
    classify_flaky,
    flip_rate,
    stability_score,
)
from routelens.analytics.stats import wilson_interval
from routelens.analytics.window import AttemptFilter
from routelens.commands import flaky as flaky_command_module
from routelens.commands.flaky import (
    flaky_case_dict,
    flaky_json,
    fold_history,
    read_flaky_aggregates,
    read_lag_aggregates,
    setup_code,
    split_history,
    sqlite_reads_in_order,
)
from routelens.store import Store, Verdict, open_store, schema
from tests.factories import make_attempt, make_run
from tests.store.conftest import POSTGRES_URL_VARIABLE, postgres_schema_url

KEY = CaseKey("TC1", "move TES-1 to Done", "skills-1", "anthropic", "claude-test")


def aggregate(attempts: int, passes: int, flips: int = 0, errors: int = 0) -> FlakyAggregate:
    return FlakyAggregate(KEY, attempts=attempts, passes=passes, errors=errors, flips=flips)


def classify(attempts: int, passes: int, flips: int = 0, **options: object) -> FlakyClass:
    return classify_case(aggregate(attempts, passes, flips), **options).flaky_class  # type: ignore[arg-type]


def test_wilson_matches_statsmodels_and_newcombe() -> None:
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    for successes, n in [(81, 263), (3, 5), (60, 100), (0, 10), (10, 10), (1, 20)]:
        expected = proportion.proportion_confint(successes, n, alpha=0.05, method="wilson")
        case = classify_case(aggregate(n, successes))
        assert (case.ci_low, case.ci_high) == pytest.approx(expected, abs=1e-9)
    # Newcombe (1998), Table I: 81/263 -> 0.2553 to 0.3662.
    low, high = classify_case(aggregate(263, 81)).ci_low, classify_case(aggregate(263, 81)).ci_high
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


@pytest.mark.parametrize(
    ("attempts", "passes", "expected"),
    [
        (20, 20, FlakyClass.STABLE_PASS),  # never failed
        (5, 5, FlakyClass.STABLE_PASS),
        (20, 0, FlakyClass.BROKEN),  # never passed
        (100, 96, FlakyClass.STABLE_PASS),  # ci_low 0.902 >= 0.9
        (100, 95, FlakyClass.FLAKY),  # ci_low 0.888 < 0.9
        (100, 4, FlakyClass.BROKEN),  # ci_high 0.098 <= 0.1
        (100, 5, FlakyClass.FLAKY),  # ci_high 0.112 > 0.1
        (10, 8, FlakyClass.FLAKY),  # 80%: the plan calls this fine
        (5, 3, FlakyClass.FLAKY),
        (100, 60, FlakyClass.FLAKY),
        (20, 19, FlakyClass.FLAKY),  # one wrong route in twenty
    ],
)
def test_interval_rule_boundaries(attempts: int, passes: int, expected: FlakyClass) -> None:
    assert classify(attempts, passes) is expected


def test_boundary_cases_sit_where_the_comments_say() -> None:
    assert wilson_interval(96, 100)[0] >= 0.9 > wilson_interval(95, 100)[0]
    assert wilson_interval(4, 100)[1] <= 0.1 < wilson_interval(5, 100)[1]


@pytest.mark.parametrize(
    ("attempts", "passes", "expected"),
    [
        (10, 3, FlakyClass.BROKEN),  # 30% is not > 30%
        (10, 4, FlakyClass.FLAKY),
        (10, 6, FlakyClass.FLAKY),
        (10, 7, FlakyClass.STABLE_PASS),  # 70% is not < 70%
        (10, 8, FlakyClass.STABLE_PASS),
    ],
)
def test_plan_rule_reproduces_the_30_to_70_band(
    attempts: int, passes: int, expected: FlakyClass
) -> None:
    assert classify(attempts, passes, rule=FlakyRule.PLAN) is expected


def test_too_few_attempts_is_insufficient_data_under_both_rules() -> None:
    for rule in FlakyRule:
        assert classify(4, 2, rule=rule) is FlakyClass.INSUFFICIENT_DATA
        assert classify(4, 2, rule=rule, min_attempts=4) is FlakyClass.FLAKY


def test_errors_only_group_has_no_pass_rate() -> None:
    case = classify_case(aggregate(0, 0, errors=3))
    assert case.pass_rate is None
    assert (case.ci_low, case.ci_high) == (0.0, 1.0)
    assert case.flaky_class is FlakyClass.INSUFFICIENT_DATA
    assert case.errors == 3
    assert case.stability == 0.0


def test_flip_rate_is_flips_per_consecutive_pair() -> None:
    assert flip_rate(3, 4) == 1.0  # P F P F
    assert flip_rate(1, 4) == pytest.approx(1 / 3)  # P P F F
    assert flip_rate(0, 1) == 0.0
    assert classify_case(aggregate(10, 6, flips=5)).flip_rate == pytest.approx(5 / 9)


def test_same_rate_different_certainty() -> None:
    small, large = classify_case(aggregate(5, 3, 2)), classify_case(aggregate(100, 60, 40))
    assert small.pass_rate == large.pass_rate == 0.6
    assert small.ci_high - small.ci_low > 3 * (large.ci_high - large.ci_low)


def test_stability_is_bounded_and_symmetric() -> None:
    for attempts, passes, flips in [(5, 5, 0), (100, 100, 0), (100, 60, 30), (10, 1, 2)]:
        case = classify_case(aggregate(attempts, passes, flips))
        mirror = classify_case(aggregate(attempts, attempts - passes, flips))
        assert 0.0 <= case.stability <= 100.0
        assert case.stability == pytest.approx(mirror.stability)


def test_stability_falls_as_flips_rise() -> None:
    scores = [classify_case(aggregate(100, 98, flips)).stability for flips in range(5)]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > scores[-1]


def test_stability_rises_as_pass_rate_leaves_one_half() -> None:
    scores = [classify_case(aggregate(100, passes, 2)).stability for passes in range(50, 101, 5)]
    assert scores == sorted(scores)
    assert scores[0] == 0.0


def test_stability_rises_with_evidence_at_the_same_rates() -> None:
    scores = [classify_case(aggregate(n, n, 0)).stability for n in (5, 10, 20, 50, 200)]
    assert scores == sorted(scores)
    assert scores[-1] > 95.0
    assert stability_score(0.4, 0.6, 0.0) == 0.0  # a coin flip cannot be ruled out


def test_report_puts_flaky_first_then_least_stable() -> None:
    rows = [
        FlakyAggregate(CaseKey("stable", "x", "s", "r", None), 50, 50, 0, 0),
        FlakyAggregate(CaseKey("new", "x", "s", "r", None), 2, 1, 0, 1),
        FlakyAggregate(CaseKey("mild", "x", "s", "r", None), 50, 45, 0, 8),
        FlakyAggregate(CaseKey("wild", "x", "s", "r", None), 50, 25, 0, 40),
        FlakyAggregate(CaseKey("broken", "x", "s", "r", None), 50, 0, 0, 0),
    ]
    order = [case.key.case_id for case in classify_flaky(rows)]
    assert order[:2] == ["wild", "mild"]
    assert set(order[2:4]) == {"stable", "broken"}
    assert order[-1] == "new"


def test_bad_thresholds_are_refused() -> None:
    with pytest.raises(ValueError, match="thresholds"):
        classify_flaky([], pass_threshold=0.1, fail_threshold=0.9)


# --- SQL: aggregates from a known attempt sequence ---------------------------------------

T0 = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        with open_store(tmp_path / "flaky.sqlite") as opened:
            yield opened
        return
    base_url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not base_url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_URL_VARIABLE}")
    with postgres_schema_url(base_url) as url, open_store(url) as opened:
        yield opened


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
    monkeypatch.setattr(flaky_command_module, "_PARALLEL_MIN_ATTEMPTS", 0)
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


def test_flaky_json_is_json_dumps_of_the_case_dicts() -> None:
    aggregates = [
        FlakyAggregate(CaseKey(f"c{i % 7}", f"in {i % 3}", f"s{i % 2}", "r", None), a, p, e, f)
        for i, (a, p, e, f) in enumerate(
            [(10, 5, 0, 5), (10, 10, 1, 0), (3, 1, 0, 2), (0, 0, 4, 0), (50, 45, 0, 8)] * 3
        )
    ]
    cases = classify_flaky(aggregates)
    header = {"window": "7d", "rule": "interval", "min_attempts": 5}
    expected = json.dumps({**header, "cases": [flaky_case_dict(case) for case in cases]})
    assert flaky_json(header, cases) == expected
    assert flaky_json(header, []) == json.dumps({**header, "cases": []})
