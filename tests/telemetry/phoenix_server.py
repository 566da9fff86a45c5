"""A real Arize Phoenix (`phoenix serve`) on loopback, from its own virtualenv.

Phoenix's dependencies never mix with routelens's: `.ci/run` installs `arize-phoenix` into a
virtualenv under the cache folder and names it in `ROUTELENS_TEST_PHOENIX_VENV`. The server
keeps its database in a temporary working folder and is told to reach nothing outside this
machine (no telemetry pixels, no external resources, no assistant).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

from tests.redis_server import free_port

PHOENIX_VENV_VARIABLE = "ROUTELENS_TEST_PHOENIX_VENV"
START_TIMEOUT_S = 180
OFFLINE_ENVIRONMENT = {
    "PHOENIX_TELEMETRY_ENABLED": "false",
    "PHOENIX_ALLOW_EXTERNAL_RESOURCES": "false",
    "PHOENIX_DISABLE_AGENT_ASSISTANT": "true",
    "PHOENIX_AGENTS_DISABLE_WEB_ACCESS": "true",
}


def phoenix_executable() -> Path | None:
    """`phoenix` in the virtualenv the variable names, or None when it is unset."""
    venv = os.environ.get(PHOENIX_VENV_VARIABLE)
    return Path(venv) / "bin" / "phoenix" if venv else None


class PhoenixServer:
    """`with PhoenixServer(tmp_path) as phoenix:` serves on 127.0.0.1 until the block ends."""

    def __init__(self, workdir: Path) -> None:
        executable = phoenix_executable()
        if executable is None or not executable.exists():
            raise RuntimeError(f"{PHOENIX_VENV_VARIABLE} does not name a venv with phoenix")
        self.executable = executable
        self.workdir = workdir
        self.port = free_port()
        self.grpc_port = free_port()
        self._log = workdir / "phoenix.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The web and REST root; OTLP/HTTP is `{url}/v1/traces`."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> PhoenixServer:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PHOENIX_"))},
            **OFFLINE_ENVIRONMENT,
            "PHOENIX_WORKING_DIR": str(self.workdir),
            "PHOENIX_HOST": "127.0.0.1",
            "PHOENIX_PORT": str(self.port),
            "PHOENIX_GRPC_PORT": str(self.grpc_port),
        }
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                [str(self.executable), "serve"],
                cwd=self.workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"phoenix exited: {self._log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2):
                    return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        self.__exit__(None, None, None)
        raise RuntimeError(f"phoenix did not start within {START_TIMEOUT_S} s")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    def get(self, path: str) -> Any:
        """GET a REST path and decode its JSON."""
        with urllib.request.urlopen(f"{self.url}{path}", timeout=10) as response:
            return json.loads(response.read())

    def project_names(self) -> list[str]:
        """Every project Phoenix has."""
        return [project["name"] for project in self.get("/v1/projects")["data"]]

    def spans(self, project: str) -> list[dict[str, Any]]:
        """Every span of one project (REST `/v1/projects/{name}/spans`, all pages)."""
        spans: list[dict[str, Any]] = []
        cursor = ""
        while True:
            page = self.get(
                f"/v1/projects/{quote(project)}/spans?limit=1000"
                + (f"&cursor={quote(cursor)}" if cursor else "")
            )
            spans.extend(page["data"])
            cursor = page.get("next_cursor") or ""
            if not cursor:
                return spans
