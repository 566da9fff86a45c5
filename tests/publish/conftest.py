"""Fixtures the exporter tests share: an empty store on SQLite, and on PostgreSQL when
ROUTELENS_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from routelens.store import Store, open_store
from tests.store.conftest import POSTGRES_URL_VARIABLE, postgres_schema_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store's URL: SQLite, and PostgreSQL when ROUTELENS_TEST_POSTGRES_URL is set."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    base = os.environ.get(POSTGRES_URL_VARIABLE)
    if not base:
        pytest.skip(f"PostgreSQL exporter tests need {POSTGRES_URL_VARIABLE}")
    with postgres_schema_url(base) as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """The store behind `store_url`, open for writing test data."""
    with open_store(store_url) as opened:
        yield opened
