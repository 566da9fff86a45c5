"""Store fixtures: a fresh store per test on SQLite, and on PostgreSQL when one is configured.

Set ROUTELENS_TEST_POSTGRES_URL (for example to the URL `.ci/postgres.sh` prints) to run every
store test against PostgreSQL too; each store gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from routelens.store import (
    AttemptRecord,
    RunCaseRecord,
    RunRecord,
    RunSkillRecord,
    RunStatus,
    Store,
    open_store,
)
from routelens.store.sqlstore import parse_store_url
from tests import factories

POSTGRES_URL_VARIABLE = "ROUTELENS_TEST_POSTGRES_URL"
T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)

StoreFactory = Callable[[], Store]


@contextmanager
def postgres_schema_url(base_url: str) -> Iterator[str]:
    """A URL whose connections see only a new, uniquely named schema; dropped on exit."""
    url = parse_store_url(base_url)
    schema_name = f"routelens_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema_name}"'))
        scoped = url.update_query_dict({"options": f"-csearch_path={schema_name}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """Which database the store tests run on; PostgreSQL only when it is configured."""
    if request.param == "postgresql" and not os.environ.get(POSTGRES_URL_VARIABLE):
        pytest.skip(f"PostgreSQL store tests need {POSTGRES_URL_VARIABLE} (see .ci/postgres.sh)")
    return str(request.param)


@pytest.fixture
def store_url_factory(backend: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes URLs of fresh, empty databases on the test's backend."""
    with ExitStack() as cleanup:

        def new_url() -> str:
            if backend == "sqlite":
                return f"sqlite:///{tmp_path / uuid.uuid4().hex / 'routelens.sqlite'}"
            base_url = os.environ[POSTGRES_URL_VARIABLE]
            return cleanup.enter_context(postgres_schema_url(base_url))

        yield new_url


@pytest.fixture
def store_url(store_url_factory: Callable[[], str]) -> str:
    """The URL of a fresh, empty database on the test's backend (no store made yet)."""
    return store_url_factory()


@pytest.fixture
def store_factory(store_url_factory: Callable[[], str]) -> Iterator[StoreFactory]:
    """Makes fresh, empty stores on the test's backend; all closed after the test."""
    with ExitStack() as cleanup:

        def new_store() -> Store:
            return cleanup.enter_context(open_store(store_url_factory()))

        yield new_store


@pytest.fixture
def store(store_factory: StoreFactory) -> Store:
    """A fresh, empty store."""
    return store_factory()


def build_run(run_id: str = "run-1", **changes: Any) -> RunRecord:
    """A still-running run with every optional field filled in; `changes` override fields."""
    fields: dict[str, Any] = {
        "started_at": T0,
        "router": "function",
        "skills_hash": "skills-hash",
        "suite_hash": "suite-hash",
        "suite_name": "golden",
        "suite_version": "1.0",
        "skills_dir": "examples/skills",
        "cases_path": "examples/cases.yaml",
        "git_commit": "abc123",
        "git_branch": "main",
        "environment": "ci",
        "labels": {"team": "routing", "ticket": "RL-1"},
        "settings": {"repeats": 3, "temperature": 0.1, "nested": {"a": [1, 2.5, None]}},
        "status": RunStatus.RUNNING,
    }
    return factories.make_run(run_id, **(fields | changes))


def build_attempt(
    case_id: str = "case-1", repeat_index: int = 0, run_id: str = "run-1", **changes: Any
) -> AttemptRecord:
    """A passing `deploy` attempt with every optional field filled in; `changes` override fields.

    Unlike `factories.make_attempt`, the routed skill stays `deploy` whatever the verdict.
    """
    fields: dict[str, Any] = {
        "category": "direct",
        "input": "deploy the app to staging",
        "actual_skill": "deploy",
        "started_at": T0 + timedelta(seconds=1),
        "finished_at": T0 + timedelta(seconds=2, microseconds=345678),
        "latency_s": 1.345678,
        "worker_id": 1,
        "retries": 1,
        "retry_wait_s": 0.5,
        "input_tokens": 1200,
        "output_tokens": 34,
        "cache_read_tokens": 1000,
        "cost_usd": 0.0012345,
        "confidence": 0.9,
        "response_text": "I'll use the deploy skill.",
        "response_model": "claude-test-2024",
        "expected_skill_hash": "h-deploy",
        "actual_skill_hash": "h-deploy",
    }
    return factories.make_attempt(
        case_id, repeat_index=repeat_index, run_id=run_id, **(fields | changes)
    )


def build_skill(name: str, run_id: str = "run-1") -> RunSkillRecord:
    """A skill record named `name`."""
    return RunSkillRecord(
        run_id=run_id,
        name=name,
        folder_name=f"{name}-skill",
        content_hash=f"h-{name}",
        description=f"Use for {name}.",
        path=f"skills/{name}-skill/SKILL.md",
    )


def build_case(case_id: str, position: int, run_id: str = "run-1") -> RunCaseRecord:
    """A case record with a small definition."""
    definition = {"id": case_id, "category": "direct", "input": "hi", "expected_skill": "deploy"}
    return RunCaseRecord(run_id, case_id, "direct", position, definition)


@pytest.fixture
def make_run() -> Callable[..., RunRecord]:
    """`build_run`, for tests (conftest modules are not imported directly)."""
    return build_run


@pytest.fixture
def make_attempt() -> Callable[..., AttemptRecord]:
    """`build_attempt`, for tests."""
    return build_attempt


@pytest.fixture
def make_skill() -> Callable[..., RunSkillRecord]:
    """`build_skill`, for tests."""
    return build_skill


@pytest.fixture
def make_case() -> Callable[..., RunCaseRecord]:
    """`build_case`, for tests."""
    return build_case
