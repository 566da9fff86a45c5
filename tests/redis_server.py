"""A real Redis (Debian's `redis-server`) on a free loopback port, in a temporary folder.

>>> with RedisServer(tmp_path) as redis_url:  # "redis://127.0.0.1:<port>/0"
...     ...

No persistence, no other interface; stopped (and waited for) when the block ends.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

REDIS_SERVER_BINARY = shutil.which("redis-server")
MISSING_REASON = "redis-server is not installed (apt-get install redis-server; .ci/run does)"


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """`redis-server` on 127.0.0.1 with its files in `workdir`; the context yields its URL."""

    def __init__(self, workdir: Path) -> None:
        if REDIS_SERVER_BINARY is None:
            raise RuntimeError(MISSING_REASON)
        self.workdir = workdir
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """`redis://127.0.0.1:<port>/0`."""
        return f"redis://127.0.0.1:{self.port}/0"

    def __enter__(self) -> str:
        assert REDIS_SERVER_BINARY is not None
        self._process = subprocess.Popen(
            [
                REDIS_SERVER_BINARY,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.workdir),
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self._process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as probe:
                    probe.sendall(b"PING\r\n")
                    if probe.recv(16).startswith(b"+PONG"):
                        return self.url
            except OSError:
                time.sleep(0.05)
        self.__exit__(None, None, None)
        raise RuntimeError("redis-server did not answer PING within 10 s")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None
