"""Store fixtures for the summary tests: the store tests' own (SQLite, and PostgreSQL when set)."""

from tests.store.conftest import backend, store, store_factory, store_url_factory

__all__ = ["backend", "store", "store_factory", "store_url_factory"]
