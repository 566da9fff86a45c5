"""The rollups are kept by every way attempts enter or leave a store: after each, every rollup
table equals, row for row, what `rebuild_rollups` sums from the attempts on the same store,
and counts each attempt in the UTC hour it started (counted again here in Python).

Write paths: the Store API a run records through (batches in one hour, a retry log, an
attempt overwritten into another hour, a duplicate), a run's errors redone on resume, CI
shards and `--finish`, `routelens import` of a bundle (in process and through the SQLite
worker), `Store.merge` with conflicts, `runs delete` and `runs prune`, an experiment's two
runs, and the migration of a v7 store. SQLite, and PostgreSQL when it is configured.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from routelens.cli import app
from routelens.routers.base import RetryEvent, RouteRequest, RouterError, RouteResult
from routelens.routers.function import FunctionRouter
from routelens.runner.session import RunSettings, create_run, execute_run
from routelens.store import Store, Verdict, open_store
from routelens.store import schema as tables
from routelens.store.rollup_schema import ROLLUP_TABLES, attempt_rollups
from routelens.suite.models import CaseSuite, SkillSet
from tests.conftest import SMALL_CASES
from tests.experiments.conftest import write_small_skills
from tests.factories import make_attempt, make_run
from tests.store.rollup_support import (
    DAY0,
    assert_rollups_current,
    attempts_per_hour,
    random_attempt,
    record_history,
)

runner = CliRunner()
HOUR = DAY0 + timedelta(days=1, hours=9)


def _invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code in (0, 1), (result.output, result.stderr)
    return result


def _attempt(case_id: str, started: datetime, **fields: Any) -> Any:
    values: dict[str, Any] = {
        "started_at": started,
        "finished_at": started + timedelta(seconds=2),
        "latency_s": 2.0,
        "cost_usd": 0.00123,
        "input_tokens": 100,
    }
    return make_attempt(case_id, **(values | fields))


def test_batches_in_one_hour_and_single_attempts_are_each_counted_once(store: Store) -> None:
    store.create_run(make_run(), [], [])
    log = (RetryEvent("rate_limit_error", 429, 1.5), RetryEvent("api_error", 502, 0.5))
    first = [
        _attempt(f"a{i}", HOUR + timedelta(minutes=i, microseconds=17), retries=2, retry_log=log)
        for i in range(5)
    ]
    second = [
        _attempt(f"b{i}", HOUR + timedelta(minutes=30 + i), verdict=Verdict.FAIL) for i in range(4)
    ]
    assert store.record_attempts(first) == 5
    assert store.record_attempts(second) == 4
    assert store.record_attempt(_attempt("c", HOUR + timedelta(minutes=59, seconds=59.5)))
    rows = assert_rollups_current(store)
    assert attempts_per_hour(store.engine) == {("run-1", "2025-03-04 09"): 10}
    # the first start and last end of the hour survive the three additions
    hour_rows = rows[attempt_rollups.name]
    columns = list(attempt_rollups.c.keys())
    first_start = min(r[columns.index("first_started_at")] for r in hour_rows)
    last_end = max(r[columns.index("last_finished_at")] for r in hour_rows)
    assert (first_start, last_end) == (
        HOUR + timedelta(microseconds=17),
        HOUR + timedelta(minutes=59, seconds=61.5),
    )


def test_an_attempt_offered_twice_is_counted_once(store: Store) -> None:
    store.create_run(make_run(), [], [])
    attempt = _attempt("a", HOUR)
    assert store.record_attempt(attempt)
    assert not store.record_attempt(attempt)
    assert store.record_attempts([attempt, _attempt("b", HOUR)]) == 1
    assert_rollups_current(store)
    assert attempts_per_hour(store.engine) == {("run-1", "2025-03-04 09"): 2}


def test_an_attempt_overwritten_into_another_hour_leaves_its_old_one(store: Store) -> None:
    store.create_run(make_run(), [], [])
    slow = _attempt("a", HOUR + timedelta(minutes=10), latency_s=900.0, verdict=Verdict.ERROR)
    slow = replace(slow, finished_at=HOUR + timedelta(minutes=55))
    store.record_attempts([slow, _attempt("b", HOUR + timedelta(minutes=20))])
    later = HOUR + timedelta(hours=2, minutes=5)
    assert store.record_attempt(_attempt("a", later), replace=True)
    rows = assert_rollups_current(store)
    assert attempts_per_hour(store.engine) == {
        ("run-1", "2025-03-04 09"): 1,
        ("run-1", "2025-03-04 11"): 1,
    }
    # the old hour's maximum is the remaining attempt's end, not the overwritten one's
    columns = list(attempt_rollups.c.keys())
    (old_hour,) = [r for r in rows[attempt_rollups.name] if r[columns.index("hour")].endswith("09")]
    assert old_hour[columns.index("last_finished_at")] == HOUR + timedelta(minutes=20, seconds=2)
    assert old_hour[columns.index("verdict")] == str(Verdict.PASS)


def test_a_random_history_recorded_in_batches_matches_a_rebuild(store: Store) -> None:
    record_history(store, per_run=60, clear_logs=False)
    assert_rollups_current(store)


def test_errors_redone_on_resume_replace_their_counts(
    store: Store, small_skills: SkillSet, small_suite: CaseSuite
) -> None:
    settings = RunSettings(router="function", repeat=2)

    def flaky(request: RouteRequest) -> RouteResult:
        if request.case_id == "C2":
            raise RouterError("overloaded", error_type="overloaded_error", http_status=529)
        return RouteResult(skill="jira-issue")

    run = create_run(store, small_skills, small_suite, settings)
    execute_run(store, run, small_skills, small_suite.cases, FunctionRouter(flaky), settings)
    assert_rollups_current(store)
    search = FunctionRouter(lambda r: "jira-search")
    redo = execute_run(
        store, run, small_skills, small_suite.cases, search, settings, retry_errors=True
    )
    assert redo.attempts_made == 2
    rows = assert_rollups_current(store)
    columns = list(attempt_rollups.c.keys())
    errors = sum(
        r[columns.index("attempts")]
        for r in rows[attempt_rollups.name]
        if r[columns.index("verdict")] == str(Verdict.ERROR)
    )
    assert errors == 0


def test_shards_of_one_run_and_finish_keep_the_rollups(
    skills_dir: Path, cases_file: Path, store_url_factory: Callable[[], str]
) -> None:
    url = store_url_factory()
    suite = ["run", "--skills", str(skills_dir), "--cases", str(cases_file), "--store", url]
    for shard in ("1/2", "2/2"):
        _invoke(*suite, "--repeat", "3", "--shard", shard, "--run-id", "ci-7", "--json")
        with open_store(url) as store:
            assert_rollups_current(store)
    _invoke("run", "--finish", "ci-7", "--store", url, "--json")
    with open_store(url) as store:
        assert_rollups_current(store)
        assert sum(attempts_per_hour(store.engine).values()) == 4 * 3


@pytest.mark.parametrize("through_worker", [False, True], ids=["in-process", "worker"])
def test_importing_bundles_into_a_store_that_holds_part_of_them(
    store_url_factory: Callable[[], str],
    tmp_path: Path,
    through_worker: bool,
    monkeypatch: pytest.MonkeyPatch,
    backend: str,
) -> None:
    if through_worker and backend != "sqlite":
        pytest.skip("the worker import is SQLite's")
    source_url, target_url = store_url_factory(), store_url_factory()
    with open_store(source_url) as source:
        history = record_history(source, per_run=40)
        bundles = []
        for run in history.runs:
            bundle = tmp_path / f"{run.run_id}.jsonl"
            assert _invoke("export", run.run_id, "--out", str(bundle), "--store", source_url)
            bundles.append(bundle)
        with open_store(target_url) as target:  # part of run-a already there
            target.create_run(history.runs[0], [], [])
            target.record_attempts(source.attempts("run-a")[:15])
    if through_worker:
        monkeypatch.setattr("routelens.store.jsonl_pipeline.PIPELINE_MIN_BYTES", 1)
    result = _invoke("import", *map(str, bundles), "--store", target_url)
    assert "15 already present" in result.stdout
    with open_store(target_url) as target:
        assert_rollups_current(target)
        assert sum(attempts_per_hour(target.engine).values()) == 4 * 40
    # importing again adds nothing, and counts nothing twice
    _invoke("import", *map(str, bundles), "--store", target_url)
    with open_store(target_url) as target:
        assert sum(attempts_per_hour(target.engine).values()) == 4 * 40


def test_a_merge_with_present_and_conflicting_attempts(store: Store) -> None:
    run = make_run()
    store.create_run(run, [], [])
    store.record_attempts([_attempt("a", HOUR), _attempt("b", HOUR + timedelta(minutes=3))])
    offered = [
        _attempt("a", HOUR),  # already there
        _attempt("b", HOUR, verdict=Verdict.FAIL),  # a conflict: the stored one is kept
        _attempt("c", HOUR + timedelta(hours=1, minutes=1)),
        _attempt("d", HOUR + timedelta(minutes=7), run_id="run-2"),
    ]
    summary = store.merge([run, make_run("run-2")], offered)
    assert (summary.attempts_added, len(summary.conflicts)) == (2, 1)
    assert_rollups_current(store)
    assert attempts_per_hour(store.engine) == {
        ("run-1", "2025-03-04 09"): 2,
        ("run-1", "2025-03-04 10"): 1,
        ("run-2", "2025-03-04 09"): 1,
    }


def _rollup_run_ids(store: Store) -> set[str]:
    found: set[str] = set()
    with store.engine.connect() as connection:
        for table in ROLLUP_TABLES:
            found |= set(connection.execute(select(table.c.run_id).distinct()).scalars())
    return found


def test_runs_delete_and_prune_take_their_rollups_with_them(
    store_url_factory: Callable[[], str],
) -> None:
    url = store_url_factory()
    # the history's runs start in 2025; this one long before, so only it is pruned
    old_start = datetime(2023, 6, 1, tzinfo=UTC)
    prune_days = (datetime.now(UTC) - datetime(2024, 1, 1, tzinfo=UTC)).days
    with open_store(url) as store:
        record_history(store, per_run=30, clear_logs=False)
        store.create_run(make_run("run-old", started_at=old_start), [], [])
        store.record_attempt(_attempt("a", HOUR, run_id="run-old"))
        assert _rollup_run_ids(store) == {"run-a", "run-b", "run-c", "run-d", "run-old"}
    _invoke("runs", "delete", "run-b", "--store", url, "--json")
    with open_store(url) as store:
        assert_rollups_current(store)
        assert _rollup_run_ids(store) == {"run-a", "run-c", "run-d", "run-old"}
    _invoke("runs", "prune", "--older-than", f"{prune_days}d", "--store", url)
    with open_store(url) as store:
        assert_rollups_current(store)
        assert _rollup_run_ids(store) == {"run-a", "run-c", "run-d"}


def test_an_experiments_two_runs_keep_the_rollups(tmp_path: Path) -> None:
    control = write_small_skills(tmp_path / "control")
    treatment = write_small_skills(tmp_path / "treatment", improved=True)
    cases = tmp_path / "cases.yaml"
    cases.write_text(SMALL_CASES, encoding="utf-8")
    store = str(tmp_path / "store.sqlite")
    router = "tests.experiments.routers:keyword_router"
    _invoke(
        "experiment", "create", "sharper", "--control", str(control), "--treatment",
        str(treatment), "--cases", str(cases), "--router", router, "--repeat", "5",
        "--seed", "3", "--store", store,
    )  # fmt: skip
    _invoke("experiment", "run", "sharper", "--store", store)
    with open_store(store) as opened:
        assert_rollups_current(opened)
        assert len(opened.list_runs()) == 2
        assert sum(attempts_per_hour(opened.engine).values()) == 2 * 4 * 5


def test_a_v7_store_gains_rollups_of_the_attempts_it_holds(
    store_url_factory: Callable[[], str],
) -> None:
    url = store_url_factory()
    with open_store(url) as store:
        record_history(store, per_run=40)
        with store.engine.begin() as connection:  # turn it back into a v7 store
            for table in reversed(ROLLUP_TABLES):
                connection.execute(text(f"DROP TABLE {table.name}"))
            connection.execute(
                tables.schema_version.delete().where(tables.schema_version.c.version >= 8)
            )
    with open_store(url) as store:
        assert_rollups_current(store)
        assert sum(attempts_per_hour(store.engine).values()) == 4 * 40
        # and the migrated store keeps them current
        store.record_attempts([random_attempt(random.Random(1), "run-a", 500, HOUR)])
        assert_rollups_current(store)
