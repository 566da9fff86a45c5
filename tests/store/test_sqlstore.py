"""Store behaviour: idempotent writes, ordering, exact round trips, and opening errors."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.pool import QueuePool

from routelens.errors import InputError
from routelens.routers.base import RetryEvent
from routelens.store import (
    DEFAULT_STORE_URL,
    AttemptRecord,
    ImportSummary,
    RunCaseRecord,
    RunRecord,
    RunSkillRecord,
    RunStatus,
    Store,
    Verdict,
    open_store,
    schema,
)
from routelens.store.merge import MergeBatch
from routelens.store.sqlstore import parse_store_url, redact_url

MakeRun = Callable[..., RunRecord]
MakeAttempt = Callable[..., AttemptRecord]


def test_create_run_round_trips_run_skills_and_cases(
    store: Store,
    make_run: MakeRun,
    make_skill: Callable[..., RunSkillRecord],
    make_case: Callable[..., RunCaseRecord],
) -> None:
    run = make_run()
    skills = [make_skill("test"), make_skill("deploy")]
    cases = [make_case("c-late", 2), make_case("c-first", 0), make_case("c-mid", 1)]

    store.create_run(run, skills, cases)

    assert store.get_run(run.run_id) == run
    assert [s.name for s in store.run_skills(run.run_id)] == ["deploy", "test"]
    assert store.run_skills(run.run_id)[0] == skills[1]
    assert [c.case_id for c in store.run_cases(run.run_id)] == ["c-first", "c-mid", "c-late"]
    assert store.run_cases(run.run_id)[2] == cases[0]


def test_create_run_twice_is_refused_and_changes_nothing(store: Store, make_run: MakeRun) -> None:
    store.create_run(make_run(router="first"), [], [])

    with pytest.raises(ValueError, match="already exists"):
        store.create_run(make_run(router="second"), [], [])

    run = store.get_run("run-1")
    assert run is not None
    assert run.router == "first"


def test_create_run_is_one_transaction(
    store: Store, make_run: MakeRun, make_skill: Callable[..., RunSkillRecord]
) -> None:
    duplicate_skills = [make_skill("deploy"), make_skill("deploy")]

    with pytest.raises(IntegrityError):
        store.create_run(make_run(), duplicate_skills, [])

    assert store.get_run("run-1") is None
    assert store.run_skills("run-1") == []


def test_get_run_of_unknown_id_is_none(store: Store) -> None:
    assert store.get_run("missing") is None
    assert store.attempts("missing") == []
    assert store.attempt_keys("missing") == set()


def test_record_attempt_is_idempotent(
    store: Store, make_run: MakeRun, make_attempt: MakeAttempt
) -> None:
    store.create_run(make_run(), [], [])
    first = make_attempt()

    assert store.record_attempt(first) is True
    assert store.record_attempt(replace(first, verdict=Verdict.FAIL, actual_skill="x")) is False

    assert store.attempts("run-1") == [first]


def test_record_attempt_replace_overwrites(
    store: Store, make_run: MakeRun, make_attempt: MakeAttempt
) -> None:
    store.create_run(make_run(), [], [])
    store.record_attempt(make_attempt(verdict=Verdict.ERROR, error_type="timeout"))
    retried = make_attempt(verdict=Verdict.PASS, retries=3, error_type=None)

    assert store.record_attempt(retried, replace=True) is True

    assert store.attempts("run-1") == [retried]


def test_record_attempts_counts_only_new_rows(
    store: Store, make_run: MakeRun, make_attempt: MakeAttempt
) -> None:
    store.create_run(make_run(), [], [])
    store.record_attempt(make_attempt("a"))
    batch = [make_attempt("a"), make_attempt("b"), make_attempt("b"), make_attempt("c")]

    assert store.record_attempts(batch) == 2
    assert store.record_attempts(batch) == 0
    assert store.record_attempts(batch, replace=True) == 4
    assert sorted(a.case_id for a in store.attempts("run-1")) == ["a", "b", "c"]


def test_record_attempts_is_one_transaction(
    store: Store, make_run: MakeRun, make_attempt: MakeAttempt
) -> None:
    store.create_run(make_run(), [], [])
    orphan = make_attempt("b", run_id="no-such-run")

    with pytest.raises(IntegrityError):
        store.record_attempts([make_attempt("a"), orphan])

    assert store.attempts("run-1") == []


def test_merge_adds_what_is_missing_and_counts_the_rest(
    store: Store, make_run: MakeRun, make_attempt: MakeAttempt
) -> None:
    store.create_run(make_run(), [], [])
    store.record_attempt(make_attempt("a", input="kept as it was"))
    incoming = [make_attempt("a"), make_attempt("b"), make_attempt("b"), make_attempt("c")]

    summary = store.merge([make_run(), make_run("run-2")], incoming)

    assert summary == ImportSummary(runs_created=1, attempts_added=2, attempts_skipped=2)
    assert [a.input for a in store.attempts("run-1") if a.case_id == "a"] == ["kept as it was"]
    assert store.merge([make_run()], incoming) == ImportSummary(0, 0, 4)


def test_merge_stores_attempts_exactly_as_record_attempt_does(
    store_factory: Callable[[], Store], make_run: MakeRun, make_attempt: MakeAttempt
) -> None:
    # merge writes SQLite rows through its own prepared statement; it must store the same
    # values (times in UTC, the retry log as JSON, NULLs) as the per-attempt path.
    odd_zone = timezone(timedelta(hours=-3, minutes=-30))
    attempts = [
        make_attempt("a", started_at=datetime(2024, 5, 1, 1, 2, 3, 4, tzinfo=odd_zone)),
        make_attempt(
            "b",
            verdict=Verdict.ERROR,
            retry_log=(RetryEvent("RateLimitError", 429, 1.5), RetryEvent("Timeout", None, 0.25)),
            confidence=None,
            http_status=None,
            latency_s=0.1 + 0.2,
        ),
    ]
    merged, recorded = store_factory(), store_factory()
    recorded.create_run(make_run(), [], [])
    recorded.record_attempts(attempts)

    merged.merge([make_run()], attempts)

    assert merged.attempts("run-1") == recorded.attempts("run-1")
    raw = "SELECT * FROM attempts ORDER BY case_id"
    with merged.engine.connect() as ours, recorded.engine.connect() as theirs:
        assert ours.execute(text(raw)).all() == theirs.execute(text(raw)).all()


def test_merge_batches_is_one_transaction_that_a_failing_batch_source_rolls_back(
    store: Store, make_run: MakeRun, make_attempt: MakeAttempt
) -> None:
    def batches() -> Iterator[MergeBatch]:
        yield MergeBatch([make_run()], [schema.attempt_to_row(make_attempt("a"))])
        yield MergeBatch([], [schema.attempt_to_row(make_attempt("b"))])
        raise ValueError("line 3 is bad")

    with pytest.raises(ValueError, match="line 3"):
        store.merge_batches(batches())

    assert store.list_runs() == []


def test_merge_batches_counts_across_batches(
    store: Store, make_run: MakeRun, make_attempt: MakeAttempt
) -> None:
    row = schema.attempt_to_row
    batches = [
        MergeBatch([make_run()], [row(make_attempt("a")), row(make_attempt("b"))]),
        MergeBatch(
            [make_run("run-2")], [row(make_attempt("b")), row(make_attempt("a", run_id="run-2"))]
        ),
        MergeBatch([], []),
    ]

    assert store.merge_batches(batches) == ImportSummary(2, 3, 1)
    assert store.merge_batches(batches) == ImportSummary(0, 0, 4)


def test_attempts_are_ordered_by_sequence_then_case_then_repeat(
    store: Store, make_run: MakeRun, make_attempt: MakeAttempt
) -> None:
    store.create_run(make_run(), [], [])
    store.record_attempts(
        [
            make_attempt("b", 1, sequence_number=2),
            make_attempt("b", 0, sequence_number=2),
            make_attempt("a", 0, sequence_number=2),
            make_attempt("z", 0, sequence_number=1),
            make_attempt("y", 3, sequence_number=10),
        ]
    )

    keys = [(a.sequence_number, a.case_id, a.repeat_index) for a in store.attempts("run-1")]

    assert keys == [(1, "z", 0), (2, "a", 0), (2, "b", 0), (2, "b", 1), (10, "y", 3)]


def test_attempt_keys_filter_by_verdict(
    store: Store, make_run: MakeRun, make_attempt: MakeAttempt
) -> None:
    store.create_run(make_run(), [], [])
    store.create_run(make_run("run-2"), [], [])
    store.record_attempts(
        [
            make_attempt("a", 0, verdict=Verdict.PASS),
            make_attempt("a", 1, verdict=Verdict.FAIL),
            make_attempt("b", 0, verdict=Verdict.ERROR),
            make_attempt("other-run", 0, run_id="run-2"),
        ]
    )

    assert store.attempt_keys("run-1") == {("a", 0), ("a", 1), ("b", 0)}
    assert store.attempt_keys("run-1", {Verdict.PASS, Verdict.FAIL}) == {("a", 0), ("a", 1)}
    assert store.attempt_keys("run-1", [Verdict.ERROR]) == {("b", 0)}
    assert store.attempt_keys("run-1", []) == set()


def test_set_run_status_sets_and_clears_finish_time(store: Store, make_run: MakeRun) -> None:
    store.create_run(make_run(), [], [])
    finished = datetime(2024, 5, 1, 13, 0, 0, 1, tzinfo=UTC)

    store.set_run_status("run-1", RunStatus.INTERRUPTED, finished)
    interrupted = store.get_run("run-1")
    store.set_run_status("run-1", RunStatus.RUNNING)
    resumed = store.get_run("run-1")

    assert interrupted is not None
    assert (interrupted.status, interrupted.finished_at) == (RunStatus.INTERRUPTED, finished)
    assert resumed is not None
    assert (resumed.status, resumed.finished_at) == (RunStatus.RUNNING, None)


def test_set_run_status_of_unknown_run_raises(store: Store) -> None:
    with pytest.raises(LookupError, match="missing"):
        store.set_run_status("missing", RunStatus.COMPLETED)


def test_list_runs_newest_first(store: Store, make_run: MakeRun) -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    for run_id, hours in [("old", 0), ("newest", 48), ("middle", 24)]:
        store.create_run(make_run(run_id, started_at=base + timedelta(hours=hours)), [], [])

    assert [r.run_id for r in store.list_runs()] == ["newest", "middle", "old"]
    assert [r.run_id for r in store.list_runs(limit=2)] == ["newest", "middle"]


def test_datetimes_read_back_as_equal_utc(
    store: Store, make_run: MakeRun, make_attempt: MakeAttempt
) -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    pacific = timezone(timedelta(hours=-8))
    run = make_run(started_at=datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=india))
    attempt = make_attempt(
        started_at=datetime(2024, 3, 1, 0, 0, 0, 1, tzinfo=pacific),
        finished_at=datetime(1999, 12, 31, 23, 59, 59, 500000, tzinfo=UTC),
    )
    store.create_run(run, [], [])
    store.record_attempt(attempt)

    stored_run = store.get_run(run.run_id)
    [stored] = store.attempts(run.run_id)

    assert stored_run is not None
    for written, read in [
        (run.started_at, stored_run.started_at),
        (attempt.started_at, stored.started_at),
        (attempt.finished_at, stored.finished_at),
    ]:
        assert read == written
        assert read.tzinfo is UTC
        assert read.microsecond == written.astimezone(UTC).microsecond


def test_naive_datetimes_are_refused(
    store: Store, make_run: MakeRun, make_attempt: MakeAttempt
) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        store.create_run(make_run(started_at=datetime(2024, 1, 1)), [], [])


@pytest.mark.parametrize(
    "value",
    [0.1 + 0.2, 5e-324, 1.7976931348623157e308, 1 / 3, 123456.78901234567, 0.0],
)
def test_floats_round_trip_exactly(
    store: Store, make_run: MakeRun, make_attempt: MakeAttempt, value: float
) -> None:
    store.create_run(make_run(settings={"value": value}), [], [])
    attempt = make_attempt(latency_s=value, cost_usd=value, confidence=value, retry_wait_s=value)
    store.record_attempt(attempt)

    [stored] = store.attempts("run-1")
    run = store.get_run("run-1")

    assert (stored.latency_s, stored.cost_usd, stored.confidence) == (value, value, value)
    assert stored == attempt
    assert run is not None
    assert run.settings == {"value": value}


def test_optional_fields_round_trip_as_none(
    store: Store, make_run: MakeRun, make_attempt: MakeAttempt
) -> None:
    run = make_run(model=None, suite_version=None, git_commit=None, labels={}, settings={})
    attempt = make_attempt(
        expected_skill=None,
        actual_skill=None,
        confidence=None,
        http_status=None,
        response_text="",
        asked_clarification=True,
    )
    store.create_run(run, [], [])
    store.record_attempt(attempt)

    assert store.get_run("run-1") == run
    assert store.attempts("run-1") == [attempt]


def test_concurrent_writers_do_not_lose_attempts(
    store_url_factory: Callable[[], str], make_run: MakeRun, make_attempt: MakeAttempt
) -> None:
    url = store_url_factory()
    # Two stores on one database behave like two routelens processes sharing it.
    with open_store(url) as first, open_store(url) as second:
        first.create_run(make_run(), [], [])
        errors: list[BaseException] = []

        def write(worker: int, target: Store) -> None:
            try:
                for index in range(25):
                    target.record_attempt(make_attempt(f"case-{index}", worker, worker_id=worker))
            except BaseException as error:  # reported by the assert below
                errors.append(error)

        stores = [first, second]
        threads = [threading.Thread(target=write, args=(n, stores[n % 2])) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == []
        assert len(second.attempt_keys("run-1")) == 100


def test_store_is_a_context_manager(store_url_factory: Callable[[], str]) -> None:
    with open_store(store_url_factory()) as store:
        assert store.list_runs() == []
        pool = store.engine.pool
        assert isinstance(pool, QueuePool)
        assert pool.checkedin() > 0

    assert pool.checkedin() == 0


def test_sqlite_store_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    with open_store(tmp_path / "nested" / "dir" / "store.sqlite") as store:
        with store.engine.connect() as connection:
            journal_mode = connection.execute(text("PRAGMA journal_mode")).scalar()
            foreign_keys = connection.execute(text("PRAGMA foreign_keys")).scalar()
            busy_timeout = connection.execute(text("PRAGMA busy_timeout")).scalar()
        assert store.display_url.endswith("nested/dir/store.sqlite")

    assert (journal_mode, foreign_keys) == ("wal", 1)
    assert busy_timeout is not None
    assert busy_timeout >= 1000


def test_plain_path_string_opens_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    with open_store("runs.sqlite") as store:
        assert store.engine.dialect.name == "sqlite"

    assert (tmp_path / "runs.sqlite").exists()


def test_default_store_url_is_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    with open_store(DEFAULT_STORE_URL):
        pass

    assert (tmp_path / ".routelens" / "routelens.sqlite").exists()


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_postgres_urls_use_psycopg3(scheme: str) -> None:
    url = parse_store_url(f"{scheme}://user:secret@db.example:5432/runs")

    assert url.drivername == "postgresql+psycopg"
    assert url.render_as_string(hide_password=True) == (
        "postgresql+psycopg://user:***@db.example:5432/runs"
    )


def test_redact_url_hides_password() -> None:
    assert redact_url("weird+x://me:p@ss:w0rd@host/db") == "weird+x://me:***@host/db"
    assert redact_url("sqlite:///plain.sqlite") == "sqlite:///plain.sqlite"


@pytest.mark.parametrize(
    "url",
    [
        "mysql://admin:hunter2@db.example/runs",
        "nosuchdb+driver://admin:hunter2@db.example/runs",
        "postgresql://admin:hunter2@127.0.0.1:1/runs",
    ],
)
def test_bad_or_unreachable_store_url_is_an_input_error(url: str) -> None:
    with pytest.raises(InputError) as raised:
        open_store(url)

    message = str(raised.value)
    assert raised.value.field == "store"
    assert "hunter2" not in message
    assert "admin:***@" in raised.value.source
    assert "\n" not in message


def test_file_that_is_not_a_database_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("this is not SQLite\n" * 200)

    with pytest.raises(InputError, match="cannot open the store") as raised:
        open_store(path)

    assert raised.value.field == "store"


def test_sqlite_path_under_a_file_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")

    with pytest.raises(InputError) as raised:
        open_store(tmp_path / "file" / "store.sqlite")

    assert raised.value.field == "store"


def test_public_api() -> None:
    import routelens.store as store_package

    exported = {
        "DEFAULT_STORE_URL", "AttemptRecord", "ImportSummary", "RunCaseRecord", "RunRecord",
        "RunSkillRecord", "RunStatus", "Store", "Verdict", "export_run_jsonl", "import_jsonl",
        "open_store",
    }  # fmt: skip
    assert set(store_package.__all__) == exported
    assert all(hasattr(store_package, name) for name in exported)
