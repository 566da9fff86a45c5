"""A real `redis-server` (Debian's package) on a free loopback port, in a temporary folder.

    with RedisServer(tmp_path) as server:
        url = server.url          # redis://127.0.0.1:PORT/0
        server.client().keys("*")

Nothing is persisted (no RDB snapshot, no append-only file); the server stops with the block.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from types import TracebackType

import redis

from tests.publish.prometheus_server import free_port

REDIS_SERVER_BINARY = shutil.which("redis-server")
START_TIMEOUT_S = 10.0


class RedisServer:
    """A throwaway Redis; `url` is where it listens."""

    def __init__(self, workdir: Path) -> None:
        if REDIS_SERVER_BINARY is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self._workdir = workdir
        self._port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """`redis://127.0.0.1:PORT/0`."""
        return f"redis://127.0.0.1:{self._port}/0"

    def client(self) -> redis.Redis:
        """A client of this server (close it when done)."""
        return redis.Redis.from_url(self.url)

    def start(self) -> RedisServer:
        """Start the server and wait until it answers PING."""
        assert REDIS_SERVER_BINARY is not None
        self._workdir.mkdir(parents=True, exist_ok=True)
        options = {
            "port": str(self._port),
            "bind": "127.0.0.1",
            "dir": str(self._workdir),
            "save": "",
            "appendonly": "no",
            "logfile": str(self._workdir / "redis.log"),
        }
        arguments = [word for name, value in options.items() for word in (f"--{name}", value)]
        self._process = subprocess.Popen(
            [REDIS_SERVER_BINARY, *arguments],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        client = self.client()
        try:
            while True:
                try:
                    client.ping()
                    return self
                except redis.ConnectionError:
                    if self._process.poll() is not None or time.monotonic() > deadline:
                        log = (self._workdir / "redis.log").read_text(errors="replace")
                        self.stop()
                        raise RuntimeError(f"redis-server did not start:\n{log}") from None
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after five seconds)."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
