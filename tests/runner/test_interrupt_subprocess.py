"""A real Ctrl-C (SIGINT) or SIGTERM to `routelens run`, then `--resume`: nothing lost, nothing
twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from routelens.store import RunStatus, open_store

REPO_ROOT = Path(__file__).resolve().parents[2]


def _routelens(*args: str) -> list[str]:
    return [sys.executable, "-m", "routelens.cli", *args]


def _start_run(
    skills_dir: Path, cases_file: Path, tmp_path: Path, options: list[str]
) -> subprocess.Popen[str]:
    """`routelens run` in the background into `tmp_path`'s store.sqlite, output captured."""
    store_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    command = ["run", "--skills", str(skills_dir), "--cases", str(cases_file)]
    return subprocess.Popen(
        _routelens(*command, "--store", store_url, *options),
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_attempts(store_url: str, count: int) -> None:
    """Until the store's run holds `count` attempts (a minute at most)."""
    deadline = time.monotonic() + 60
    recorded = 0
    while recorded < count and time.monotonic() < deadline:
        time.sleep(0.05)
        with open_store(store_url) as store:
            runs = store.list_runs()
            recorded = len(store.attempts(runs[0].run_id)) if runs else 0


@pytest.mark.parametrize(
    ("sent", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_a_signal_leaves_a_consistent_store_and_resume_completes_it(
    skills_dir: Path, cases_file: Path, tmp_path: Path, sent: signal.Signals, exit_code: int
) -> None:
    store_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    router = ["--router", "tests.support_routers:slow_router", "--router-option", "delay_s=0.1"]
    process = _start_run(
        skills_dir, cases_file, tmp_path, [*router, "--repeat", "10", "--concurrency", "2"]
    )
    _wait_for_attempts(store_url, 6)
    process.send_signal(sent)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == exit_code, stderr
    assert "Traceback" not in stderr
    assert "--resume" in stderr

    with open_store(store_url) as store:
        (run,) = store.list_runs()
        assert run.status is RunStatus.INTERRUPTED
        before = {(a.case_id, a.repeat_index): a for a in store.attempts(run.run_id)}
    assert 6 <= len(before) < 40

    resumed = subprocess.run(
        _routelens(
            "run",
            "--resume",
            run.run_id,
            "--store",
            store_url,
            "--json",
            "--router-option",
            "delay_s=0",
        ),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    with open_store(store_url) as store:
        after = store.attempts(run.run_id)
        final = store.get_run(run.run_id)
    assert final is not None
    assert final.status is RunStatus.COMPLETED
    keys = [(a.case_id, a.repeat_index) for a in after]
    assert len(keys) == 40
    assert len(set(keys)) == 40
    for attempt in after:
        if (attempt.case_id, attempt.repeat_index) in before:
            assert attempt == before[(attempt.case_id, attempt.repeat_index)]


@pytest.mark.parametrize(
    ("sent", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_a_signal_while_a_task_runs_stops_the_run_without_a_traceback(
    skills_dir: Path, cases_file: Path, tmp_path: Path, sent: signal.Signals, exit_code: int
) -> None:
    store_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    router = ["--router", "tests.support_routers:blocking_router", "--router-option", "block_s=0.4"]
    process = _start_run(skills_dir, cases_file, tmp_path, [*router, "--concurrency", "1"])
    _wait_for_attempts(store_url, 2)
    time.sleep(0.2)  # inside the next attempt's 0.4 s block: the loop is running a task
    process.send_signal(sent)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == exit_code, stderr
    assert "Traceback" not in stderr
    assert "exception" not in stderr.lower()
    with open_store(store_url) as store:
        (run,) = store.list_runs()
        assert run.status is RunStatus.INTERRUPTED
