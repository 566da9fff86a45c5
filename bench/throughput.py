"""Riding a rate limit: the share of the allowed rate used, 429s, losses, and caching.

Part 1. A loopback Messages API (`tests/fakes/api_server.py`) enforces requests per minute (a
token bucket of `burst` requests), input tokens per minute and requests in flight (and in one
scenario accepts connections through a queue of 5, http.server's default), and answers
429 `rate_limit_error` with `retry-after` and `anthropic-ratelimit-*` headers past any of them.
Its buckets are drained before each side starts, so every side meets the sustained rate. The
example suite runs, at several concurrencies, through:

- routelens: the runner and the `anthropic` router (adaptive limiter, full-jitter retries);
- sdk-retries: a plain script with a fixed number of workers and the SDK's own retries
  (`max_retries=8`), which honour `retry-after`;
- plain-backoff: the same workers, the SDK's retries off, exponential backoff (0.5 s x 2^n)
  that ignores `retry-after`.

For each: the share of the allowed rate used (requests a minute over the request limit, or
input tokens a minute over the token limit, whichever budget binds), the share of requests
that got a 429, attempts lost, and connection errors. Targets: routelens >= 0.95 at every
concurrency, 429s <= 2%, 0 lost.

Part 2. N processes share one limit, each running the same router; once with one schedule
in Redis (router option `limiter_url`, a `redis-server` started on loopback), once with
each process pacing on its own. Skipped without `redis-server`.

Part 3. Billed input tokens per attempt with the skills block marked for prompt caching
against without. Target once the cache is warm: at most 0.2 of the uncached figure.

Run: `make bench` (or `PYTHONPATH=. python bench/throughput.py --quick`).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import anthropic
from tests.fakes.api_server import FakeApiServer, LimiterCounts
from tests.redis_server import REDIS_SERVER_BINARY, RedisServer

from routelens.routers.anthropic_router import AnthropicRouter
from routelens.routers.api_call import ApiCaller
from routelens.routers.base import RouteRequest
from routelens.routers.limits import AdaptiveLimiter, LimiterSettings
from routelens.routers.registry import RouterContext, make_router
from routelens.routers.retry import RetryPolicy
from routelens.runner.session import RunSettings, create_run, execute_run
from routelens.store import Verdict, open_store
from routelens.suite.cases import load_case_suite
from routelens.suite.models import CaseSuite, SkillSet
from routelens.suite.skills import load_skill_set

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "jira"
MODEL = "claude-sonnet-4-6"
KEY = "bench-key"
MAX_RETRIES = 8


@dataclass(frozen=True)
class Scenario:
    """The limits the loopback API enforces, and the work sent at it."""

    name: str
    rpm: int
    burst: int
    input_tokens_per_minute: int
    max_in_flight: int
    repeat: int
    concurrencies: tuple[int, ...]
    prompt_cache: bool = True
    listen_backlog: int = 128

    def server(self) -> FakeApiServer:
        """A loopback API enforcing these limits."""
        return FakeApiServer(
            requests_per_minute=self.rpm,
            burst=self.burst,
            input_tokens_per_minute=self.input_tokens_per_minute,
            max_concurrent=self.max_in_flight,
            listen_backlog=self.listen_backlog,
        )


SCENARIOS = (
    # the setup issue 15 measured on: 600 rpm, burst 20, 200k input tokens/min, 6 in flight
    Scenario("600 rpm", 600, 20, 200_000, 6, 3, (4, 8, 16, 32)),
    # the high end: 6000 rpm, 1,050 calls
    Scenario("6000 rpm", 6000, 100, 4_000_000, 64, 15, (16, 32)),
    # no prompt cache: about 1,500 input tokens a call, so the token limit binds (~670/min)
    Scenario("tokens bind", 6000, 100, 1_000_000, 64, 3, (8, 32), prompt_cache=False),
    # the 6000 rpm setup behind http.server's default accept queue of 5: where connection
    # errors come from when many connections open at once
    Scenario("backlog 5", 6000, 100, 4_000_000, 64, 15, (32, 64), listen_backlog=5),
)


@dataclass(frozen=True)
class Outcome:
    """One side's run against one scenario."""

    attempts: int
    completed: int
    lost: int
    connection_errors: int
    elapsed_s: float
    counts: LimiterCounts

    def share_of_allowed(self, scenario: Scenario) -> float:
        """The binding budget's use: completed requests, or counted input tokens, a minute."""
        per_minute = 60 / self.elapsed_s
        requests = self.completed * per_minute / scenario.rpm
        tokens = self.counts.input_tokens * per_minute / scenario.input_tokens_per_minute
        return max(requests, tokens)

    @property
    def throttled_share(self) -> float:
        """Requests answered 429, as a share of all requests sent."""
        sent = self.counts.admitted + self.counts.refused
        return self.counts.refused / sent if sent else 0.0


def _delta(after: LimiterCounts, before: LimiterCounts) -> LimiterCounts:
    return LimiterCounts(
        after.admitted - before.admitted,
        after.refused - before.refused,
        after.input_tokens - before.input_tokens,
    )


def _measure(server: FakeApiServer, side: Callable[[], tuple[int, int, int, int]]) -> Outcome:
    server.drain_rate_limit()
    before = server.rate_limit_counts()
    started = time.perf_counter()
    attempts, completed, lost, connection_errors = side()
    elapsed = time.perf_counter() - started
    counts = _delta(server.rate_limit_counts(), before)
    return Outcome(attempts, completed, lost, connection_errors, elapsed, counts)


def run_routelens(
    server: FakeApiServer, skills: SkillSet, suite: CaseSuite, scenario: Scenario, workers: int
) -> Outcome:
    """The example suite through the runner and the anthropic router."""
    router = AnthropicRouter(
        MODEL,
        api_key=KEY,
        base_url=server.base_url,
        prompt_cache=scenario.prompt_cache,
        caller=ApiCaller(
            retry_policy=RetryPolicy(max_retries=MAX_RETRIES),
            limiter=AdaptiveLimiter(LimiterSettings(max_concurrency=workers)),
        ),
    )
    with tempfile.TemporaryDirectory() as folder, open_store(Path(folder) / "b.sqlite") as store:
        settings = RunSettings(
            router="anthropic", model=MODEL, repeat=scenario.repeat, concurrency=workers
        )
        run = create_run(store, skills, suite, settings)

        def side() -> tuple[int, int, int, int]:
            execute_run(store, run, skills, suite.cases, router, settings)
            attempts = store.attempts(run.run_id)
            lost = sum(1 for a in attempts if a.verdict is Verdict.ERROR)
            connection = sum(
                1 for a in attempts for e in a.retry_log if e.error_type == "connection_error"
            )
            return len(attempts), len(attempts) - lost, lost, connection

        return _measure(server, side)


def _requests(skills: SkillSet, suite: CaseSuite, repeat: int) -> list[RouteRequest]:
    return [
        RouteRequest(c.id, c.input, skills, c.context_facts, c.context_messages)
        for _ in range(repeat)
        for c in suite.cases
    ]


async def _plain_script(
    server: FakeApiServer,
    requests: list[RouteRequest],
    workers: int,
    *,
    prompt_cache: bool,
    sdk_retries: bool,
) -> tuple[int, int, int, int]:
    client = anthropic.AsyncAnthropic(
        api_key=KEY, base_url=server.base_url, max_retries=MAX_RETRIES if sdk_retries else 0
    )
    shaper = AnthropicRouter(
        MODEL, api_key=KEY, base_url=server.base_url, prompt_cache=prompt_cache
    )
    queue = list(reversed(requests))
    completed = lost = connection_errors = 0
    retried = (
        anthropic.RateLimitError,
        anthropic.InternalServerError,
        anthropic.APIConnectionError,
    )

    async def worker() -> None:
        nonlocal completed, lost, connection_errors
        while queue:
            body = shaper.request_body(queue.pop())
            for retry in range(1 if sdk_retries else MAX_RETRIES + 1):
                try:
                    await client.messages.create(**body)
                    completed += 1
                    break
                except retried as error:
                    connection_errors += isinstance(error, anthropic.APIConnectionError)
                    if sdk_retries or retry == MAX_RETRIES:
                        lost += 1
                        break
                    await asyncio.sleep(0.5 * 2**retry)

    await asyncio.gather(*(worker() for _ in range(workers)))
    await client.close()
    await shaper.aclose()
    return len(requests), completed, lost, connection_errors


def run_plain_script(
    server: FakeApiServer,
    skills: SkillSet,
    suite: CaseSuite,
    scenario: Scenario,
    workers: int,
    *,
    sdk_retries: bool,
) -> Outcome:
    """A fixed number of workers calling the SDK: its own retries, or backoff without them."""
    requests = _requests(skills, suite, scenario.repeat)
    return _measure(
        server,
        lambda: asyncio.run(
            _plain_script(
                server,
                requests,
                workers,
                prompt_cache=scenario.prompt_cache,
                sdk_retries=sdk_retries,
            )
        ),
    )


def _print_outcome(side: str, workers: int, outcome: Outcome, scenario: Scenario) -> None:
    print(
        f"  {side:13} c={workers:<3} {outcome.completed:>4}/{outcome.attempts} done, "
        f"{outcome.lost} lost, {outcome.elapsed_s:6.1f} s, "
        f"{outcome.share_of_allowed(scenario):.3f} of allowed, "
        f"429s {outcome.throttled_share:.1%} ({outcome.counts.refused}), "
        f"connection errors {outcome.connection_errors}"
    )


def part_one(skills: SkillSet, suite: CaseSuite, scenarios: tuple[Scenario, ...]) -> None:
    """Every scenario at every concurrency, routelens and both plain scripts."""
    for scenario in scenarios:
        calls = len(suite.cases) * scenario.repeat
        print(
            f"{scenario.name}: {scenario.rpm} requests/min (burst {scenario.burst}), "
            f"{scenario.input_tokens_per_minute:,} input tokens/min, {scenario.max_in_flight} "
            f"in flight; {calls} calls a side; prompt cache "
            f"{'on' if scenario.prompt_cache else 'off'}"
        )
        with scenario.server() as server:
            for workers in scenario.concurrencies:
                ours = run_routelens(server, skills, suite, scenario, workers)
                _print_outcome("routelens", workers, ours, scenario)
                for side, sdk_retries in (("sdk-retries", True), ("plain-backoff", False)):
                    outcome = run_plain_script(
                        server, skills, suite, scenario, workers, sdk_retries=sdk_retries
                    )
                    _print_outcome(side, workers, outcome, scenario)


def _shared_process(
    redis_url: str | None,
    base_url: str,
    calls: int,
    start_at: float,
    queue: multiprocessing.Queue[int],
) -> None:
    """One of the N processes: `calls` attempts with 4 workers, from `start_at` on."""
    skills = load_skill_set(EXAMPLE / "skills")
    suite = load_case_suite(EXAMPLE / "cases.yaml", skills)
    options: dict[str, object] = {"api_key": KEY, "base_url": base_url, "max_retries": MAX_RETRIES}
    if redis_url:
        options["limiter_url"] = redis_url
    router = make_router("anthropic", MODEL, options, RouterContext(concurrency=4))
    requests = _requests(skills, suite, 1 + calls // len(suite.cases))[:calls]

    async def go() -> int:
        lost = 0

        async def worker() -> None:
            nonlocal lost
            while requests:
                try:
                    await router.route(requests.pop())
                except Exception:
                    lost += 1

        await asyncio.sleep(max(0.0, start_at - time.time()))
        await asyncio.gather(*(worker() for _ in range(4)))
        await router.aclose()
        return lost

    queue.put(asyncio.run(go()))


def shared_limit(
    server: FakeApiServer, redis_url: str | None, processes: int, calls: int
) -> Outcome:
    """N processes on one API limit; paced together through Redis, or each on its own."""
    context = multiprocessing.get_context("spawn")
    lost_queue: multiprocessing.Queue[int] = context.Queue()
    start_at = time.time() + 15.0  # after every process has imported the SDK, on a busy machine
    children = [
        context.Process(
            target=_shared_process,
            args=(redis_url, server.base_url, calls, start_at, lost_queue),
        )
        for _ in range(processes)
    ]
    for child in children:
        child.start()
    time.sleep(max(0.0, start_at - time.time()))

    def side() -> tuple[int, int, int, int]:
        lost = sum(lost_queue.get(timeout=600) for _ in children)
        for child in children:
            child.join()
        return processes * calls, processes * calls - lost, lost, 0

    outcome = _measure(server, side)
    # from the first request to the last, as the server saw them: not the processes' start-up
    arrivals = [request.arrived_at for request in server.requests]
    return replace(outcome, elapsed_s=max(arrivals) - min(arrivals))


def part_two(processes: int, calls: int, rpm: int) -> None:
    """N processes sharing one limit, with and without the Redis schedule."""
    if REDIS_SERVER_BINARY is None:
        print("shared limit: skipped, redis-server is not installed")
        return
    scenario = Scenario("shared", rpm, 20, 4_000_000, 64, 1, (4,))
    print(
        f"shared limit: {processes} processes x {calls} calls (4 workers each) on "
        f"{rpm} requests/min, burst 20"
    )
    with tempfile.TemporaryDirectory() as folder, RedisServer(Path(folder)) as redis_url:
        for side, url in (("redis", redis_url), ("per-process", None)):
            with scenario.server() as server:
                outcome = shared_limit(server, url, processes, calls)
            _print_outcome(side, 4 * processes, outcome, scenario)


def billed_input_per_attempt(
    skills: SkillSet, suite: CaseSuite, *, cache: bool, attempts: int
) -> list[float]:
    """Price-weighted input tokens of each attempt, in order."""
    with FakeApiServer() as server:
        router = AnthropicRouter(MODEL, api_key=KEY, base_url=server.base_url, prompt_cache=cache)

        async def go() -> list[float]:
            figures = []
            for case in (suite.cases * 2)[:attempts]:
                result = await router.route(RouteRequest(case.id, case.input, skills))
                t = result.tokens
                figures.append(t.input + 1.25 * t.cache_write + 0.1 * t.cache_read)
            await router.aclose()
            return figures

        return asyncio.run(go())


def part_three(skills: SkillSet, suite: CaseSuite) -> None:
    """Prompt caching: billed input tokens per attempt, cached against uncached."""
    uncached = billed_input_per_attempt(skills, suite, cache=False, attempts=20)
    cached = billed_input_per_attempt(skills, suite, cache=True, attempts=20)
    warm = sum(cached[1:]) / len(cached[1:])
    cold = sum(uncached) / len(uncached)
    print(
        f"billed input tokens per attempt: {cold:.0f} uncached, {cached[0]:.0f} first cached "
        f"(cache write), {warm:.0f} warm cached"
    )
    print(f"ratio warm cached/uncached: {warm / cold:.2f} (target <= 0.20)")


def main() -> None:
    """Run the three parts and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one scenario, fewer calls")
    parser.add_argument("--processes", type=int, default=4, help="processes sharing a limit")
    parser.add_argument("--shared-calls", type=int, default=70, help="calls per process")
    parser.add_argument("--shared-rpm", type=int, default=1200, help="the shared limit")
    parser.add_argument(
        "--part", type=int, choices=(1, 2, 3), action="append", help="run only these parts"
    )
    parser.add_argument(
        "--scenario",
        choices=[scenario.name for scenario in SCENARIOS],
        action="append",
        help="part 1: only these scenarios",
    )
    args = parser.parse_args()
    os.environ.pop("ANTHROPIC_BASE_URL", None)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    skills = load_skill_set(EXAMPLE / "skills")
    suite = load_case_suite(EXAMPLE / "cases.yaml", skills)
    parts = set(args.part or (1, 2, 3))
    scenarios = tuple(s for s in SCENARIOS if s.name in (args.scenario or [s.name]))
    if args.quick:
        scenarios = scenarios[:1]
    if 1 in parts:
        part_one(skills, suite, scenarios)
    if 2 in parts:
        part_two(args.processes, 20 if args.quick else args.shared_calls, args.shared_rpm)
    if 3 in parts:
        part_three(skills, suite)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
