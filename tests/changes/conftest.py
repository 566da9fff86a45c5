"""Fixtures of the change-history tests: the known git history and an empty store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from routelens.store import Store, open_store
from tests.changes.history import GitRepo, build_known_history


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """The known history."""
    return build_known_history(tmp_path / "repo")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh SQLite store."""
    with open_store(tmp_path / "store.sqlite") as opened:
        yield opened
