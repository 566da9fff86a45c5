"""Web fixtures: one store filled by real runs per test session, and clients of the app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("starlette", reason="the web tests need the web extra")

from starlette.testclient import TestClient

from routelens.config import RoutelensConfig
from routelens.store import Store, open_store
from routelens.web.app import create_app
from tests.fakes.api_server import FakeApiServer
from tests.store.conftest import backend, store_url_factory
from tests.web.history import FilledStore, build_filled_store

__all__ = ["backend", "store_url_factory"]


@pytest.fixture(scope="session")
def filled(tmp_path_factory: pytest.TempPathFactory) -> FilledStore:
    """The store of tests/web/history.py, built once per session (per xdist worker)."""
    with FakeApiServer() as api:
        return build_filled_store(tmp_path_factory.mktemp("web"), api)


@pytest.fixture
def read_only(filled: FilledStore) -> Iterator[Store]:
    """The filled store opened as `routelens serve` opens it."""
    with open_store(filled.url, access="read") as opened:
        yield opened


@pytest.fixture
def client(read_only: Store) -> Iterator[TestClient]:
    """The app over the filled store, with the default config and no page cache."""
    with TestClient(create_app(read_only, RoutelensConfig(), cache_seconds=0)) as test_client:
        yield test_client
