"""Store fixtures for the summary tests: the store tests' own (SQLite, and PostgreSQL when set)."""

from __future__ import annotations

import pytest

from routelens.store import Store
from tests.store.conftest import backend, store, store_factory, store_url_factory
from tests.summaries.history import plant_two_weeks

__all__ = ["backend", "store", "store_factory", "store_url_factory"]


@pytest.fixture
def two_weeks(store: Store) -> Store:
    """Last week everything passed; this week jira-search broke after a change, f1 flips."""
    return plant_two_weeks(store)
