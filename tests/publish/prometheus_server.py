"""A real Prometheus (Debian's `prometheus` binary) on loopback, for tests that evaluate PromQL.

It scrapes the given targets every second and evaluates the given rule files every second, in
a temporary data folder; `query` runs an instant query over the HTTP API and returns the
result vector (raising `PromQLError` when Prometheus refuses the expression).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import yaml

PROMETHEUS_BINARY = shutil.which("prometheus")


class PromQLError(Exception):
    """Prometheus answered an expression with an error (bad syntax, wrong types)."""


@dataclass(frozen=True)
class Sample:
    """One element of an instant vector (or the value of a scalar, with no labels)."""

    labels: dict[str, str]
    value: float


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PrometheusServer:
    """Start with `with PrometheusServer(tmp_path, targets=[...], rule_files=[...]) as prom:`."""

    def __init__(
        self,
        workdir: Path,
        *,
        targets: list[str],
        rule_files: list[Path] = (),  # type: ignore[assignment]
        scrape_interval_s: int = 1,
    ) -> None:
        if PROMETHEUS_BINARY is None:
            raise RuntimeError(
                "the prometheus binary is not installed (apt-get install prometheus)"
            )
        self._workdir = workdir
        self._targets = targets
        self._rule_files = list(rule_files)
        self._interval = f"{scrape_interval_s}s"
        self._port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log = workdir / "prometheus.log"

    @property
    def url(self) -> str:
        """The server's root URL."""
        return f"http://127.0.0.1:{self._port}"

    def __enter__(self) -> PrometheusServer:
        config = {
            "global": {"scrape_interval": self._interval, "evaluation_interval": self._interval},
            "rule_files": [str(path) for path in self._rule_files],
            "scrape_configs": [
                {"job_name": "routelens", "static_configs": [{"targets": self._targets}]}
            ],
        }
        config_path = self._workdir / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(config))
        assert PROMETHEUS_BINARY is not None
        self._process = subprocess.Popen(
            [
                PROMETHEUS_BINARY,
                f"--config.file={config_path}",
                f"--storage.tsdb.path={self._workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self._port}",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=self._log.open("wb"),
        )
        self._wait_ready()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def query(self, expr: str) -> list[Sample]:
        """Evaluate `expr` now; a vector's samples, or one unlabelled sample for a scalar."""
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=30)
        body: dict[str, Any] = response.json()
        if body.get("status") != "success":
            raise PromQLError(f"{body.get('errorType')}: {body.get('error')} in {expr!r}")
        data = body["data"]
        if data["resultType"] == "vector":
            return [Sample(item["metric"], float(item["value"][1])) for item in data["result"]]
        if data["resultType"] == "scalar":
            return [Sample({}, float(data["result"][1]))]
        raise PromQLError(f"unexpected result type {data['resultType']} for {expr!r}")

    def wait_for_scrapes(self, count: int, timeout_s: float = 60.0) -> None:
        """Block until every target has been scraped successfully at least `count` times and
        its latest scrape succeeded (a scrape slower than the 1 s interval, on a busy
        machine, fails without failing the wait)."""
        deadline = time.monotonic() + timeout_s
        # the fewest successful scrapes of any target, when every target is up now
        expr = "min(sum_over_time(up[10m])) and (count(up == 1) == count(up))"
        while time.monotonic() < deadline:
            samples = self.query(expr)
            if samples and samples[0].value >= count:
                return
            time.sleep(0.5)
        raise TimeoutError(f"Prometheus did not scrape {count} times; log: {self._log_tail()}")

    def wait_for_rules(self, timeout_s: float = 60.0) -> None:
        """Block until every loaded rule group has been evaluated without error."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            groups = httpx.get(f"{self.url}/api/v1/rules", timeout=10).json()["data"]["groups"]
            rules = [rule for group in groups for rule in group["rules"]]
            errors = [rule for rule in rules if rule.get("health") == "err"]
            if errors:
                raise PromQLError(f"rule evaluation failed: {errors[0]}")
            if rules and all(rule.get("health") == "ok" for rule in rules):
                return
            time.sleep(0.5)
        raise TimeoutError(f"rules were not evaluated in time; log: {self._log_tail()}")

    def _wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"prometheus exited: {self._log_tail()}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"prometheus not ready: {self._log_tail()}")

    def _log_tail(self) -> str:
        return self._log.read_text(errors="replace")[-2000:] if self._log.exists() else ""
