"""Fixtures for runs shared by several processes: a store many processes open, a real Redis,
and `routelens` started as a separate process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.redis_server import MISSING_REASON, REDIS_SERVER_BINARY, RedisServer
from tests.store.conftest import backend, store_url_factory

__all__ = ["backend", "store_url_factory"]

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shared_store_url(store_url_factory: Callable[[], str]) -> str:
    """A fresh store URL that several processes open at once: a SQLite file, and a
    PostgreSQL schema when ROUTELENS_TEST_POSTGRES_URL is set."""
    return store_url_factory()


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """The URL of a real redis-server on a free loopback port, for this test only."""
    if REDIS_SERVER_BINARY is None:
        pytest.skip(MISSING_REASON)
    folder = tmp_path / "redis"
    folder.mkdir()
    with RedisServer(folder) as url:
        yield url


def routelens_command(*args: str) -> list[str]:
    """`routelens ARGS` as a separate Python process (this checkout's code)."""
    return [sys.executable, "-m", "routelens.cli", *args]


def process_env(**extra: str) -> dict[str, str]:
    """The environment for a `routelens` process: tests' routers importable, no API key
    unless given."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANTHROPIC_")}
    return {**env, "PYTHONPATH": str(REPO_ROOT), **extra}


def start_routelens(
    *args: str, cwd: Path, log: Path | None = None, **env: str
) -> subprocess.Popen[str]:
    """Start `routelens ARGS`; stdout is piped, stderr goes to `log` (else piped)."""
    if log is None:
        return subprocess.Popen(
            routelens_command(*args),
            cwd=cwd,
            env=process_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    with log.open("w") as stderr:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            routelens_command(*args),
            cwd=cwd,
            env=process_env(**env),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
