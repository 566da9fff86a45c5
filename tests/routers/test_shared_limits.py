"""A rate schedule shared through a real Redis: scripts, and N processes on one API limit."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from routelens.errors import InputError
from routelens.routers.registry import RouterContext, make_router
from routelens.routers.shared_limits import (
    KEY_PREFIX,
    RedisRateSchedule,
    schedule_key,
    shared_schedule,
)
from tests.fakes.api_server import FakeApiServer
from tests.redis_server import MISSING_REASON, REDIS_SERVER_BINARY, RedisServer, free_port

pytestmark = pytest.mark.skipif(REDIS_SERVER_BINARY is None, reason=MISSING_REASON)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with RedisServer(tmp_path) as url:
        yield url


def test_two_schedules_on_one_key_share_pace_and_pauses(redis_url: str) -> None:
    async def scenario() -> tuple[list[float], float, float]:
        first = shared_schedule(redis_url, name="test:a")
        second = RedisRateSchedule(redis_url, key="test:a")
        await first.set_interval(0.5)
        waits = [await first.try_start(), await second.try_start(), await first.try_start()]
        await second.pause(5.0)
        paused = await first.try_start()
        other_key = await RedisRateSchedule(redis_url, key="test:b").try_start()
        await first.aclose()
        await second.aclose()
        return waits, paused, other_key

    waits, paused, other_key = asyncio.run(scenario())
    assert waits[0] == 0.0  # the first start goes at once
    assert 0.4 < waits[1] <= 0.5  # the other process must wait the shared interval
    assert 0.4 < waits[2] <= 0.5  # and nothing was booked by asking
    assert 4.5 < paused <= 5.0  # one process's pause holds the other
    assert other_key == 0.0  # another key is another budget


def test_the_key_names_router_and_model_but_only_a_digest_of_the_api_key() -> None:
    key = schedule_key("anthropic", "claude-sonnet-4-6", "sk-ant-secret-value")
    assert key.startswith(f"{KEY_PREFIX}anthropic:claude-sonnet-4-6:")
    assert "secret" not in key
    assert key != schedule_key("anthropic", "claude-sonnet-4-6", "sk-ant-other-value")


def test_a_limiter_url_that_is_not_redis_is_an_input_error() -> None:
    with pytest.raises(InputError, match="expected a redis://") as raised:
        make_router(
            "anthropic",
            None,
            {"api_key": "k", "limiter_url": "http://user:pw@host"},
            RouterContext(),
        )
    assert raised.value.field == "limiter_url"
    assert "pw" not in raised.value.one_line()


def test_an_unreachable_limiter_is_an_input_error_before_the_run() -> None:
    port = free_port()
    with pytest.raises(InputError, match="cannot reach the shared limiter") as raised:
        shared_schedule(f"redis://user:s3cret@127.0.0.1:{port}/0", name="test:c")
    assert f"redis://127.0.0.1:{port}/0" in raised.value.one_line()
    assert "s3cret" not in raised.value.one_line()


RPM = 1200  # 20 requests a second
PROCESSES = 4
REQUESTS_EACH = 30


def test_four_processes_on_one_limit_use_it_together_without_429s(
    redis_url: str, tmp_path: Path
) -> None:
    with FakeApiServer(requests_per_minute=RPM, burst=10) as server:
        start_at = time.time() + 4.0  # after every process has imported the SDK
        children = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.routers.shared_limit_worker",
                    redis_url,
                    server.base_url,
                    str(REQUESTS_EACH),
                    str(start_at),
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(PROCESSES)
        ]
        time.sleep(max(0.0, start_at - time.time()))
        server.drain_rate_limit()  # measure the sustained rate, not the first burst
        outputs = [child.communicate(timeout=120)[0] for child in children]
        requests = server.requests

    assert all(child.returncode == 0 for child in children), outputs
    outcomes = [json.loads(output.strip().splitlines()[-1]) for output in outputs]
    completed = sum(o["completed"] for o in outcomes)
    throttled = sum(o["throttled"] for o in outcomes)
    assert completed == PROCESSES * REQUESTS_EACH
    assert sum(o["lost"] for o in outcomes) == 0
    assert len(requests) == completed + throttled  # every request was answered or refused
    arrivals = sorted(r.arrived_at for r in requests)
    elapsed = arrivals[-1] - min(arrivals)
    # completed starts over the time they took, against the limit's sustained rate
    share = (completed - 1) / elapsed * 60 / RPM
    assert share >= 0.9, (share, outcomes)
    assert throttled / len(requests) <= 0.05, outcomes
