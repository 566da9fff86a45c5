"""`routelens run --executor redis://...` and `routelens worker` as separate processes on a real
Redis: a worker killed mid-attempt, a submitter interrupted or out of patience."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from typer.testing import CliRunner

from routelens.cli import app
from routelens.runner.engine import plan_work
from routelens.runner.queue_broker import KEY_NAMESPACE, QUEUE_NAME
from routelens.store import RunStatus, open_store
from routelens.suite.cases import load_case_suite
from routelens.suite.skills import load_skill_set
from tests.conftest import CLAUDE_TEST_KEY
from tests.fakes.api_server import FakeApiServer
from tests.fakes.exchange import slow
from tests.runner.conftest import start_routelens

runner = CliRunner()
DEADLINE_S = 120.0
ATTEMPT_LINE = re.compile(r": (pass|fail|error)$", re.MULTILINE)


@contextmanager
def workers(
    count: int, redis_url: str, store_url: str, tmp_path: Path, *extra: str, **env: str
) -> Iterator[list[subprocess.Popen[str]]]:
    """`count` worker processes, stopped with SIGINT (then SIGKILL) when the block ends."""
    arguments = ("worker", redis_url, "--store", store_url, *extra)
    started = [
        start_routelens(*arguments, cwd=tmp_path, log=tmp_path / f"worker-{index}.log", **env)
        for index in range(count)
    ]
    try:
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for(condition: Callable[[], bool], what: str, timeout_s: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _stored(store_url: str) -> int:
    with open_store(store_url, access="read") as store:
        return sum(len(store.attempts(run.run_id)) for run in store.list_runs())


def _store_exists(store_url: str) -> bool:
    try:
        with open_store(store_url, access="read") as store:
            return bool(store.list_runs())
    except Exception:
        return False


def _suite(skills_dir: Path, cases_file: Path, store_url: str, *extra: str) -> list[str]:
    files = ("--skills", str(skills_dir), "--cases", str(cases_file))
    return ["run", *files, "--store", store_url, "--json", *extra]


def test_three_workers_one_killed_mid_attempt_store_every_attempt_once(
    skills_dir: Path,
    cases_file: Path,
    shared_store_url: str,
    redis_url: str,
    server: FakeApiServer,
    tmp_path: Path,
) -> None:
    repeat = 6
    # every answer takes 0.3 s, so a worker is nearly always waiting on the API
    server.script(lambda request: slow(server.default_response(request), 0.3))
    api = ("--router", "anthropic", "--router-option", f"base_url={server.base_url}")
    gate = ("--min-accuracy", "0.99")
    run_args = _suite(skills_dir, cases_file, shared_store_url, *api, "--repeat", str(repeat))
    run_args += ["--concurrency", "8"]  # for the local reference run; workers have their own

    with workers(
        3, redis_url, shared_store_url, tmp_path, "--concurrency", "2",
        "--heartbeat-timeout", "2", ANTHROPIC_API_KEY=CLAUDE_TEST_KEY,
    ) as started:  # fmt: skip
        # the submitter has no API key: the workers route, with their own
        submitter = start_routelens(
            *run_args, "--executor", redis_url, "--max-wait", "100", *gate, cwd=tmp_path
        )
        # kill a worker once it is at work: it has stored an attempt and, as items remain,
        # has taken the next ones (one of them in flight to the API)
        victim, victim_log = started[0], tmp_path / "worker-0.log"
        _wait_for(lambda: ATTEMPT_LINE.search(victim_log.read_text()) is not None, "an attempt")
        assert _stored(shared_store_url) < repeat * 4 - 6
        victim.send_signal(signal.SIGKILL)
        out, err = submitter.communicate(timeout=DEADLINE_S)
    assert victim.wait() == -signal.SIGKILL
    assert "Traceback" not in err, err
    queued_requests = len(server.requests)
    report = json.loads(out)

    plan = plan_work(load_case_suite(cases_file, load_skill_set(skills_dir)).cases, repeat, set())
    with open_store(shared_store_url, access="read") as store:
        run = store.get_run(report["run_id"])
        attempts = store.attempts(report["run_id"])
    assert run is not None
    assert run.status is RunStatus.COMPLETED
    assert "ANTHROPIC_API_KEY" not in json.dumps(run.settings)
    # every (case, repeat) exactly once, numbered by its place in the plan
    assert sorted((a.sequence_number, a.case_id, a.repeat_index) for a in attempts) == [
        (n, item.case.id, item.repeat_index) for n, item in enumerate(plan)
    ]
    # the killed worker had requests in flight: they were sent again, and stored once
    assert queued_requests > len(plan)
    assert len({a.worker_id for a in attempts}) == 3

    # the gate as a single process would apply it to the same answers
    local = runner.invoke(
        app,
        [*run_args, *gate],
        env={"ANTHROPIC_API_KEY": CLAUDE_TEST_KEY},
    )
    reference = json.loads(local.stdout)
    assert submitter.returncode == local.exit_code == 1
    for key in ("attempts", "passed", "failed", "errors", "accuracy", "gate", "status"):
        assert report[key] == reference[key], key
    with open_store(shared_store_url, access="read") as store:
        by_key = {(a.case_id, a.repeat_index): a for a in store.attempts(reference["run_id"])}
    for attempt in attempts:
        twin = by_key[(attempt.case_id, attempt.repeat_index)]
        assert (attempt.verdict, attempt.actual_skill) == (twin.verdict, twin.actual_skill)


def test_a_busy_worker_keeps_its_items_while_attempts_outlast_the_heartbeat_timeout(
    skills_dir: Path,
    cases_file: Path,
    redis_url: str,
    server: FakeApiServer,
    tmp_path: Path,
) -> None:
    store_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    # each answer takes longer than the heartbeat timeout: only a worker that goes on
    # beating while it waits keeps its items from being delivered to the other
    server.script(lambda request: slow(server.default_response(request), 4.0))
    api = ("--router", "anthropic", "--router-option", f"base_url={server.base_url}")
    with workers(
        2, redis_url, store_url, tmp_path, "--concurrency", "4",
        "--heartbeat-timeout", "2.5", ANTHROPIC_API_KEY=CLAUDE_TEST_KEY,
    ):  # fmt: skip
        args = _suite(skills_dir, cases_file, store_url, *api, "--executor", redis_url)
        result = runner.invoke(app, [*args, "--max-wait", "60"])
    assert json.loads(result.stdout)["attempts"] == 4, result.stderr
    assert len(server.requests) == 4  # no item was attempted twice


def test_ctrl_c_on_the_submitter_stops_the_workers_and_resume_finishes_the_run(
    skills_dir: Path, cases_file: Path, redis_url: str, tmp_path: Path
) -> None:
    store_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    slow_router = ("--router", "tests.support_routers:slow_router", "--router-option")
    run_args = _suite(skills_dir, cases_file, store_url, *slow_router, "delay_s=0.2")
    with workers(1, redis_url, store_url, tmp_path, "--concurrency", "2"):
        submitter = start_routelens(
            *run_args, "--repeat", "6", "--executor", redis_url, cwd=tmp_path
        )
        _wait_for(lambda: _store_exists(store_url) and _stored(store_url) >= 4, "4 attempts")
        submitter.send_signal(signal.SIGINT)
        _, err = submitter.communicate(timeout=DEADLINE_S)
        assert submitter.returncode == 130, err
        # the worker finishes what it had started, then drops the rest of the submission
        time.sleep(1.0)
        settled = _stored(store_url)
        time.sleep(1.0)
        assert _stored(store_url) == settled < 24
        log = (tmp_path / "worker-0.log").read_text()
        assert "skipped (run is interrupted)" in log

        hint = err.split("continue with: ", 1)[1].strip()
        assert f"--executor {redis_url}" in hint
        resumed = start_routelens(*shlex.split(hint)[1:], "--json", cwd=tmp_path)
        out, err = resumed.communicate(timeout=DEADLINE_S)
    assert resumed.returncode == 0, err
    report = json.loads(out)
    assert (report["status"], report["attempts"]) == ("completed", 24)
    with open_store(store_url, access="read") as store:
        keys = [(a.case_id, a.repeat_index) for a in store.attempts(report["run_id"])]
    assert len(keys) == len(set(keys)) == 24


def test_max_wait_gives_up_and_workers_drop_the_abandoned_orders(
    skills_dir: Path, cases_file: Path, redis_url: str, tmp_path: Path
) -> None:
    store_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    args = _suite(skills_dir, cases_file, store_url, "--executor", redis_url)
    result = runner.invoke(app, [*args, "--max-wait", "0.5"])
    assert result.exit_code == 128 + signal.SIGALRM, result.stderr
    assert "stopped waiting for the workers (--max-wait)" in result.stderr
    run_id = json.loads(result.stdout)["run_id"]
    with open_store(store_url, access="read") as store:
        run = store.get_run(run_id)
    assert run is not None
    assert run.status is RunStatus.INTERRUPTED
    client = redis.Redis.from_url(redis_url)
    queue = f"{KEY_NAMESPACE}:{QUEUE_NAME}"
    assert client.llen(queue) == 4  # the four orders wait on the queue

    with workers(1, redis_url, store_url, tmp_path):
        _wait_for(lambda: client.llen(queue) == 0 and client.hlen(f"{queue}.msgs") == 0, "drain")
    client.close()
    assert _stored(store_url) == 0  # none was attempted: the run had been given up
    assert "skipped (run is interrupted)" in (tmp_path / "worker-0.log").read_text()


def test_an_unreachable_queue_is_bad_input_before_anything_is_recorded(
    skills_dir: Path, cases_file: Path, tmp_path: Path
) -> None:
    from tests.redis_server import free_port

    store_path = tmp_path / "store.sqlite"
    url = f"redis://127.0.0.1:{free_port()}/0"
    args = _suite(skills_dir, cases_file, f"sqlite:///{store_path}", "--executor", url)
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"routelens: error: {url}: executor: cannot reach Redis")
    assert not store_path.exists()


@pytest.mark.skipif(os.environ.get("CI") is None, reason="checks .ci/run; CI installs redis")
def test_ci_runs_the_queue_tests_with_a_real_redis() -> None:
    import shutil

    assert shutil.which("redis-server"), ".ci/run must install redis-server"
