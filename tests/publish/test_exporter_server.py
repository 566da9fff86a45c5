"""The exporter as a service: an unreadable store, the scrape cache, and `routelens exporter`."""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from typer.testing import CliRunner

from routelens.cli import app
from routelens.config import RoutelensConfig
from routelens.publish.exporter import StoreCollector, start_exporter
from routelens.store import Verdict, open_store
from routelens.store.migrations import LATEST_VERSION
from tests.factories import make_run
from tests.publish.test_exporter import NOW, attempt, scrape

UNREACHABLE_POSTGRES = "postgresql://routelens:s3cret-pw@127.0.0.1:1/routelens"
"""Nothing listens on port 1: connecting fails at once. The password must never be shown."""


def _sqlite_store(path: Path) -> str:
    url = f"sqlite:///{path}"
    with open_store(url) as store:
        store.create_run(make_run(), [], [])
        store.record_attempts([attempt("a", Verdict.PASS, NOW - timedelta(hours=1))])
    return url


def test_an_unreadable_store_is_store_up_0_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"this is not a SQLite database, just some text\n" * 100)
    with caplog.at_level(logging.WARNING, logger="routelens.publish.exporter"):
        result = scrape(f"sqlite:///{broken}")
    assert result.value("routelens_exporter_store_up") == 0
    assert result.value("routelens_exporter_scrape_duration_seconds") >= 0
    served = {sample.name for family in result.families.values() for sample in family.samples}
    assert served == {"routelens_exporter_store_up", "routelens_exporter_scrape_duration_seconds"}
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1
    assert "cannot read the store" in warnings[0]
    assert str(broken) in warnings[0]
    assert "\n" not in warnings[0]


def test_a_missing_store_is_store_up_0_and_is_never_created(tmp_path: Path) -> None:
    missing = tmp_path / "later" / "store.sqlite"
    result = scrape(f"sqlite:///{missing}")
    assert result.value("routelens_exporter_store_up") == 0
    assert not missing.parent.exists()


def test_an_old_schema_is_store_up_0_and_is_not_migrated(tmp_path: Path) -> None:
    url = _sqlite_store(tmp_path / "old.sqlite")
    with open_store(url) as store, store.engine.begin() as connection:
        connection.execute(
            text("DELETE FROM schema_version WHERE version = :v"), {"v": LATEST_VERSION}
        )
    assert scrape(url).value("routelens_exporter_store_up") == 0
    with open_store(url, access="write") as store:  # untouched until someone migrates it
        pass
    assert scrape(url).value("routelens_exporter_store_up") == 1


def test_a_store_password_never_reaches_logs_or_metrics(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="routelens.publish.exporter"):
        result = scrape(UNREACHABLE_POSTGRES)
    assert result.value("routelens_exporter_store_up") == 0
    assert "s3cret-pw" not in caplog.text
    assert "s3cret-pw" not in result.text
    assert "routelens:***@127.0.0.1:1" in caplog.text


def test_the_store_is_read_again_once_it_is_readable(tmp_path: Path) -> None:
    path = tmp_path / "later.sqlite"
    path.write_bytes(b"garbage" * 1000)
    clock_seconds = [0.0]
    collector = StoreCollector(
        f"sqlite:///{path}",
        RoutelensConfig(),
        clock=lambda: NOW,
        monotonic=lambda: clock_seconds[0],
    )

    def store_up() -> float:
        families = {family.name: family for family in collector.collect()}
        return float(families["routelens_exporter_store_up"].samples[0].value)

    assert store_up() == 0
    path.unlink()
    _sqlite_store(path)
    assert store_up() == 0  # still the cached computation
    clock_seconds[0] += 16
    assert store_up() == 1
    collector.close()


def test_scrapes_within_cache_seconds_share_one_computation(tmp_path: Path) -> None:
    url = _sqlite_store(tmp_path / "s.sqlite")
    clock_seconds = [100.0]
    collector = StoreCollector(
        url,
        RoutelensConfig(),
        clock=lambda: NOW,
        cache_seconds=15,
        monotonic=lambda: clock_seconds[0],
    )
    running = start_exporter(collector, port=0)
    try:
        responses: list[httpx.Response] = []
        threads = [
            threading.Thread(target=lambda: responses.append(httpx.get(running.url, timeout=30)))
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [response.status_code for response in responses] == [200] * 4
        assert collector.computations == 1
        clock_seconds[0] += 14
        httpx.get(running.url, timeout=30)
        assert collector.computations == 1
        clock_seconds[0] += 2
        httpx.get(running.url, timeout=30)
        assert collector.computations == 2
    finally:
        running.stop()


PASSED_TOTAL = 'routelens_attempts_total{model="claude-test",outcome="pass",router="anthropic"}'


def _passed_total(metrics_url: str) -> float:
    """The all-time count of passed attempts, as a scrape of the exporter says it."""
    for line in httpx.get(metrics_url, timeout=30).text.splitlines():
        if line.startswith(PASSED_TOTAL + " "):
            return float(line.split(" ")[-1])
    raise AssertionError(f"no {PASSED_TOTAL} in the scrape")


def _record_passes(url: str, *case_ids: str) -> None:
    with open_store(url) as store:
        store.record_attempts(
            [attempt(case_id, Verdict.PASS, NOW - timedelta(minutes=30)) for case_id in case_ids]
        )


def test_a_cached_scrape_does_not_read_the_store(tmp_path: Path) -> None:
    url = _sqlite_store(tmp_path / "s.sqlite")
    clock_seconds = [100.0]
    collector = StoreCollector(
        url, RoutelensConfig(), cache_seconds=15, monotonic=lambda: clock_seconds[0]
    )
    running = start_exporter(collector, port=0)
    try:
        assert _passed_total(running.url) == 1
        _record_passes(url, "b", "c")
        clock_seconds[0] += 14.9  # a second Prometheus, just inside the cache period
        assert _passed_total(running.url) == 1  # the first computation, not the store
        clock_seconds[0] += 0.2
        assert _passed_total(running.url) == 3
        assert collector.computations == 2
    finally:
        running.stop()


@pytest.mark.parametrize(
    ("config_line", "options", "after_recording"),
    [
        ("scrape_cache_seconds = 3600", [], 1),  # the config file's cache serves the scrape
        ("scrape_cache_seconds = 0", [], 3),  # 0: every scrape reads the store
        ("scrape_cache_seconds = 3600", ["--cache-seconds", "0"], 3),  # the option wins
    ],
)
def test_the_command_reads_scrape_cache_seconds_from_the_config(
    tmp_path: Path, config_line: str, options: list[str], after_recording: int
) -> None:
    url = _sqlite_store(tmp_path / "s.sqlite")
    config = tmp_path / "routelens.toml"
    config.write_text(f"[exporter]\n{config_line}\n")
    process, metrics_url, _first_line = _start_cli(
        "--store", url, "--config", str(config), *options
    )
    try:
        assert _passed_total(metrics_url) == 1
        _record_passes(url, "b", "c")
        assert _passed_total(metrics_url) == after_recording
    finally:
        code, _stdout, stderr = _stop_cli(process)
    assert code == 0, stderr


def test_a_negative_scrape_cache_is_a_one_line_error(tmp_path: Path) -> None:
    config = tmp_path / "routelens.toml"
    config.write_text("[exporter]\nscrape_cache_seconds = -1\n")
    result = CliRunner().invoke(app, ["exporter", "--config", str(config)])
    assert result.exit_code == 2
    assert "scrape_cache_seconds" in result.output
    assert f"{config}:2:" in result.output
    assert "Traceback" not in result.output


def test_registering_needs_no_scrape(tmp_path: Path) -> None:
    collector = StoreCollector(_sqlite_store(tmp_path / "s.sqlite"), RoutelensConfig())
    CollectorRegistry().register(collector)
    assert collector.computations == 0
    collector.close()


def _start_cli(*args: str) -> tuple[subprocess.Popen[str], str, str]:
    """Start `routelens exporter --port 0`; the process, its metrics URL and its first line."""
    process = subprocess.Popen(
        [sys.executable, "-m", "routelens.cli", "exporter", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first_line = process.stdout.readline()
    assert "serving http://127.0.0.1:" in first_line, (
        process.stderr.read() if process.stderr else ""
    )
    metrics_url = first_line.split("serving ", 1)[1].split(" ", 1)[0]
    return process, metrics_url, first_line


def _stop_cli(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    return process.returncode, stdout, stderr


def test_the_command_serves_until_ctrl_c_and_exits_0(tmp_path: Path) -> None:
    url = _sqlite_store(tmp_path / "s.sqlite")
    process, metrics_url, _first_line = _start_cli("--store", url, "--cache-seconds", "0")
    try:
        assert metrics_url.endswith("/metrics")
        text = httpx.get(metrics_url, timeout=30).text
        assert "routelens_exporter_store_up 1.0" in text
        passed = 'routelens_attempts_total{model="claude-test",outcome="pass",router="anthropic"}'
        assert f"{passed} 1.0" in text
    finally:
        code, _stdout, stderr = _stop_cli(process)
    assert code == 0, stderr
    assert "Traceback" not in stderr


def test_the_command_hides_the_store_password(tmp_path: Path) -> None:
    process, metrics_url, first_line = _start_cli("--store", UNREACHABLE_POSTGRES)
    try:
        text = httpx.get(metrics_url, timeout=30).text
        assert "routelens_exporter_store_up 0.0" in text
    finally:
        code, stdout, stderr = _stop_cli(process)
    assert code == 0
    assert "routelens:***@" in first_line
    assert "s3cret-pw" not in first_line + stdout + stderr
    assert "cannot read the store" in stderr


def test_bad_input_exits_2_with_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["exporter", "--store", "mysql://u:pw@host/db"])
    assert result.exit_code == 2
    assert "unsupported database" in result.output
    assert "Traceback" not in result.output
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        url = _sqlite_store(tmp_path / "s.sqlite")
        result = runner.invoke(app, ["exporter", "--port", str(port), "--store", url])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
