"""Schema versioning: fresh stores are current, steps apply once, newer stores are refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, inspect, select, text

from routelens.errors import InputError
from routelens.routers.base import RetryEvent
from routelens.store import Store, open_store
from routelens.store import schema as tables
from routelens.store.migrations import (
    LATEST_VERSION,
    MIGRATIONS,
    Migration,
    check_ordered,
    current_version,
    migrate,
)
from routelens.suite.hashing import input_hash


def _add_notes_table(connection: Connection) -> None:
    connection.execute(text("CREATE TABLE notes (note_id INTEGER PRIMARY KEY, body TEXT)"))


def _fail_halfway(connection: Connection) -> None:
    connection.execute(text("CREATE TABLE half_done (x INTEGER)"))
    raise RuntimeError("migration broke")


def _versions(store: Store) -> list[int]:
    with store.engine.connect() as connection:
        rows = connection.execute(select(tables.schema_version.c.version)).scalars()
        return sorted(rows)


def test_fresh_store_is_at_the_latest_version_with_every_table(store: Store) -> None:
    with store.engine.connect() as connection:
        inspector = inspect(connection)
        table_names = set(inspector.get_table_names())
        attempt_indexes = {tuple(ix["column_names"]) for ix in inspector.get_indexes("attempts")}
        attempt_unique = [uq["column_names"] for uq in inspector.get_unique_constraints("attempts")]

    assert _versions(store) == [m.version for m in MIGRATIONS]
    assert {"runs", "run_skills", "run_cases", "attempts", "experiments", "schema_version"} <= (
        table_names
    )
    assert {("run_id", "sequence_number"), ("case_id", "started_at"), ("started_at",)} <= (
        attempt_indexes
    )
    assert ["run_id", "case_id", "repeat_index"] in attempt_unique


def test_reopening_applies_nothing_again(store_url_factory: Callable[[], str]) -> None:
    url = store_url_factory()
    with open_store(url):
        pass

    with open_store(url) as reopened:
        assert _versions(reopened) == list(range(1, LATEST_VERSION + 1))


def test_pending_migrations_apply_in_order_and_are_recorded(store: Store) -> None:
    newer = (*MIGRATIONS, Migration(LATEST_VERSION + 1, "notes", _add_notes_table))

    with store.engine.begin() as connection:
        assert migrate(connection, store.display_url, newer) == LATEST_VERSION + 1
    with store.engine.begin() as connection:
        assert migrate(connection, store.display_url, newer) == LATEST_VERSION + 1
        assert current_version(connection) == LATEST_VERSION + 1
        assert inspect(connection).has_table("notes")

    assert _versions(store) == list(range(1, LATEST_VERSION + 2))


def test_a_failing_migration_leaves_the_store_as_it_was(store: Store) -> None:
    broken = (*MIGRATIONS, Migration(LATEST_VERSION + 1, "broken", _fail_halfway))

    with pytest.raises(RuntimeError, match="migration broke"), store.engine.begin() as connection:
        migrate(connection, store.display_url, broken)

    with store.engine.connect() as connection:
        assert current_version(connection) == LATEST_VERSION
        assert not inspect(connection).has_table("half_done")


def test_a_store_newer_than_the_code_is_refused(store_url_factory: Callable[[], str]) -> None:
    url = store_url_factory()
    with open_store(url) as store, store.engine.begin() as connection:
        connection.execute(
            tables.schema_version.insert().values(
                version=LATEST_VERSION + 1,
                description="from the future",
                applied_at=datetime.now(UTC),
            )
        )
        shown_url = store.display_url

    with pytest.raises(InputError) as raised:
        open_store(url)

    assert raised.value.field == "schema_version"
    assert raised.value.source == shown_url
    assert f"version {LATEST_VERSION + 1}" in raised.value.message
    assert "upgrade routelens" in raised.value.message


def test_an_empty_database_is_version_zero(store: Store) -> None:
    with store.engine.begin() as connection:
        connection.execute(tables.schema_version.delete())
        assert current_version(connection) == 0


@pytest.mark.parametrize("versions", [[2], [1, 3], [1, 1], [2, 1]])
def test_migration_versions_must_be_contiguous_from_one(versions: list[int]) -> None:
    migrations = [Migration(v, f"v{v}", _add_notes_table) for v in versions]

    with pytest.raises(ValueError, match="migration versions"):
        check_ordered(migrations)


def test_released_migrations_are_contiguous() -> None:
    check_ordered(MIGRATIONS)
    assert len(MIGRATIONS) == LATEST_VERSION


def test_a_v1_store_gains_the_retry_log_and_keeps_its_attempts(
    store_url_factory: Callable[[], str], make_run: Any, make_attempt: Any
) -> None:
    url = store_url_factory()
    with open_store(url) as store:
        store.create_run(make_run(), [], [])
        store.record_attempt(make_attempt())
        with store.engine.begin() as connection:  # turn it back into a v1 store
            connection.execute(text("ALTER TABLE attempts DROP COLUMN retry_log"))
            connection.execute(text("DROP TABLE experiments"))
            connection.execute(
                tables.schema_version.delete().where(tables.schema_version.c.version >= 2)
            )
    with open_store(url) as store:
        assert _versions(store) == list(range(1, LATEST_VERSION + 1))
        with store.engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("attempts")}
        assert "retry_log" in columns
        (attempt,) = store.attempts("run-1")
        assert attempt.retry_log == ()
        retried = replace(
            make_attempt(case_id="case-2"), retry_log=(RetryEvent("rate_limit_error", 429, 1.5),)
        )
        store.record_attempt(retried)
        by_case = {a.case_id: a for a in store.attempts("run-1")}
        assert by_case["case-2"].retry_log == (RetryEvent("rate_limit_error", 429, 1.5),)


def test_a_v2_store_gains_the_experiments_table_and_keeps_its_runs(
    store_url_factory: Callable[[], str], make_run: Any
) -> None:
    url = store_url_factory()
    with open_store(url) as store:
        store.create_run(make_run(), [], [])
        with store.engine.begin() as connection:  # turn it back into a v2 store
            connection.execute(text("DROP TABLE change_events"))
            connection.execute(text("DROP TABLE experiments"))
            connection.execute(
                tables.schema_version.delete().where(tables.schema_version.c.version >= 3)
            )
    with open_store(url) as store:
        assert _versions(store) == list(range(1, LATEST_VERSION + 1))
        assert LATEST_VERSION >= 4
        with store.engine.connect() as connection:
            inspector = inspect(connection)
            columns = {c["name"] for c in inspector.get_columns("experiments")}
            keys = inspector.get_foreign_keys("experiments")
        assert {"name", "status", "control", "treatment", "seed", "summary"} <= columns
        assert {"control_run_id", "treatment_run_id"} <= columns
        assert {tuple(k["constrained_columns"]) for k in keys} == {
            ("control_run_id",),
            ("treatment_run_id",),
        }
        assert store.get_run("run-1") is not None


def test_the_v3_step_leaves_an_existing_experiments_table_alone(store: Store) -> None:
    row = {
        "name": "kept",
        "status": "draft",
        "control": {"kind": "folder"},
        "treatment": {"kind": "folder"},
        "cases_path": "cases.yaml",
        "router": "local",
        "repeat": 3,
        "concurrency": 4,
        "seed": 7,
        "created_at": datetime(2024, 5, 1, tzinfo=UTC),
    }
    with store.engine.begin() as connection:
        connection.execute(tables.experiments.insert(), row)
    with store.engine.begin() as connection:
        MIGRATIONS[2].apply(connection)
        assert inspect(connection).has_table("experiments")
        kept = connection.execute(tables.experiments.select()).mappings().all()
    # a v3 step that dropped and recreated the table would have lost the experiment
    assert [(r["name"], r["seed"], r["control"]) for r in kept] == [("kept", 7, {"kind": "folder"})]


def test_a_v4_store_gains_input_hashes_for_its_attempts_and_the_flaky_index(
    store_url_factory: Callable[[], str], make_run: Any, make_attempt: Any
) -> None:
    url = store_url_factory()
    inputs = ["deploy the api", "déploie l'API ✓", ""]
    with open_store(url) as store:
        store.create_run(make_run(), [], [])
        for index, text_ in enumerate(inputs):
            store.record_attempt(make_attempt(case_id=f"case-{index}", input=text_))
        with store.engine.begin() as connection:  # turn it back into a v4 store
            connection.execute(text(f"DROP INDEX {tables.FLAKY_HISTORY_INDEX}"))
            connection.execute(text("ALTER TABLE attempts DROP COLUMN input_hash"))
            connection.execute(
                tables.schema_version.delete().where(tables.schema_version.c.version >= 5)
            )
    with open_store(url) as store:
        assert _versions(store) == list(range(1, LATEST_VERSION + 1))
        with store.engine.connect() as connection:
            hashes = dict(
                connection.execute(
                    select(tables.attempts.c.input, tables.attempts.c.input_hash)
                ).all()
            )
            indexes = {ix["name"] for ix in inspect(connection).get_indexes("attempts")}
        assert hashes == {text_: input_hash(text_) for text_ in inputs}
        assert tables.FLAKY_HISTORY_INDEX in indexes
        store.record_attempt(make_attempt(case_id="case-new", input="later"))
        with store.engine.connect() as connection:
            later = connection.execute(
                select(tables.attempts.c.input_hash).where(tables.attempts.c.input == "later")
            ).scalar_one()
        assert later == input_hash("later")


def test_a_v6_store_gains_the_v7_columns_and_keeps_its_rows(
    store_url_factory: Callable[[], str], make_run: Any, make_attempt: Any
) -> None:
    url = store_url_factory()
    with open_store(url) as store:
        store.create_run(make_run(), [], [])
        store.record_attempt(make_attempt())
        with store.engine.begin() as connection:  # turn it back into a v6 store
            for table, column in (
                ("attempts", "confirmation_score"),
                ("attempts", "nul_replaced"),
                ("change_events", "committed_utc_offset_s"),
                ("change_events", "new_has_front_matter"),
            ):
                connection.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
            connection.execute(
                tables.schema_version.delete().where(tables.schema_version.c.version >= 7)
            )
    with open_store(url) as store:
        assert _versions(store) == list(range(1, LATEST_VERSION + 1))
        (attempt,) = store.attempts("run-1")
        assert (attempt.confirmation_score, attempt.nul_replaced) == (None, False)
        store.record_attempt(
            make_attempt(case_id="case-2", confirmation_score=1.0, response_text="a\x00")
        )
        by_case = {a.case_id: a for a in store.attempts("run-1")}
        assert (by_case["case-2"].confirmation_score, by_case["case-2"].nul_replaced) == (1.0, True)
        with store.engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("change_events")}
        assert {"committed_utc_offset_s", "new_has_front_matter"} <= columns
