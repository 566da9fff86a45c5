"""Fixtures the exporter tests share: an empty store on SQLite, and on PostgreSQL when
ROUTELENS_TEST_POSTGRES_URL is set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from routelens.store import Store, open_store
from tests.store.conftest import backend, store_url, store_url_factory

__all__ = ["backend", "store_url", "store_url_factory"]


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """The store behind `store_url`, open for writing test data."""
    with open_store(store_url) as opened:
        yield opened
