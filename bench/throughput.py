"""Riding a rate limit: completed attempts per minute as a share of the limit, and caching.

Part 1. A loopback Messages API enforces R requests per minute (token bucket, drained before
each side starts, so both see the sustained rate) and at most C requests in flight. The
example suite runs through routelens (adaptive limiter, retry-after, full-jitter retries)
and through a baseline (fixed concurrency, plain exponential backoff that ignores
retry-after), one after the other in the same run. For each: attempts completed per minute
÷ R, and attempts lost (no answer after all retries). Target: routelens ≥ 0.9 of R, 0 lost.

Part 2. Billed input tokens per attempt (input + 1.25 x cache writes + 0.1 x cache reads, the
Anthropic multipliers) with the skills block marked for prompt caching against without.
Target once the cache is warm: at most 0.2 of the uncached figure.

Run: `make bench` (or `PYTHONPATH=. python bench/throughput.py --rpm 240`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import anthropic
from tests.fakes.api_server import FakeApiServer

from routelens.routers.anthropic_router import AnthropicRouter
from routelens.routers.api_call import ApiCaller
from routelens.routers.base import RouteRequest
from routelens.routers.limits import AdaptiveLimiter, LimiterSettings
from routelens.routers.retry import RetryPolicy
from routelens.runner.session import RunSettings, create_run, execute_run
from routelens.store import Verdict, open_store
from routelens.suite.cases import load_case_suite
from routelens.suite.models import CaseSuite, SkillSet
from routelens.suite.skills import load_skill_set

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "jira"
MODEL = "claude-sonnet-4-6"
KEY = "bench-key"


@dataclass(frozen=True)
class Throughput:
    """One side's outcome."""

    attempts: int
    completed: int
    lost: int
    elapsed_s: float

    def share_of_limit(self, rpm: int) -> float:
        """Completed attempts per minute as a fraction of the limit."""
        return self.completed / self.elapsed_s * 60 / rpm


def run_routelens(
    server: FakeApiServer, skills: SkillSet, suite: CaseSuite, workers: int, repeat: int
) -> Throughput:
    """The example suite through the runner and the anthropic router."""
    router = AnthropicRouter(
        MODEL,
        api_key=KEY,
        base_url=server.base_url,
        caller=ApiCaller(
            retry_policy=RetryPolicy(max_retries=8),
            limiter=AdaptiveLimiter(LimiterSettings(max_concurrency=workers)),
        ),
    )
    with tempfile.TemporaryDirectory() as folder, open_store(Path(folder) / "b.sqlite") as store:
        settings = RunSettings(router="anthropic", model=MODEL, repeat=repeat, concurrency=workers)
        run = create_run(store, skills, suite, settings)
        server.drain_rate_limit()
        started = time.perf_counter()
        execute_run(store, run, skills, suite.cases, router, settings)
        elapsed = time.perf_counter() - started
        attempts = store.attempts(run.run_id)
    lost = sum(1 for a in attempts if a.verdict is Verdict.ERROR)
    return Throughput(len(attempts), len(attempts) - lost, lost, elapsed)


async def _baseline(
    server: FakeApiServer, requests: list[RouteRequest], workers: int, max_retries: int
) -> tuple[int, int]:
    client = anthropic.AsyncAnthropic(api_key=KEY, base_url=server.base_url, max_retries=0)
    shaper = AnthropicRouter(MODEL, api_key=KEY, base_url=server.base_url)
    queue: asyncio.Queue[RouteRequest] = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)
    completed = lost = 0

    async def worker() -> None:
        nonlocal completed, lost
        while not queue.empty():
            body = shaper.request_body(queue.get_nowait())
            for retry in range(max_retries + 1):
                try:
                    await client.messages.create(**body)
                    completed += 1
                    break
                except (
                    anthropic.RateLimitError,
                    anthropic.InternalServerError,
                    anthropic.APIConnectionError,
                ):
                    if retry == max_retries:
                        lost += 1
                    else:
                        await asyncio.sleep(0.5 * 2**retry)

    await asyncio.gather(*(worker() for _ in range(workers)))
    await client.close()
    await shaper.aclose()
    return completed, lost


def run_baseline(
    server: FakeApiServer, skills: SkillSet, suite: CaseSuite, workers: int, repeat: int
) -> Throughput:
    """Fixed concurrency and plain exponential backoff (0.5 s x 2^n), retry-after ignored."""
    requests = [
        RouteRequest(c.id, c.input, skills, c.context_facts, c.context_messages)
        for _ in range(repeat)
        for c in suite.cases
    ]
    server.drain_rate_limit()
    started = time.perf_counter()
    completed, lost = asyncio.run(_baseline(server, requests, workers, max_retries=8))
    return Throughput(len(requests), completed, lost, time.perf_counter() - started)


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


def main() -> None:
    """Run both parts and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rpm", type=int, default=240, help="requests per minute allowed")
    parser.add_argument("--max-concurrent", type=int, default=4, help="requests in flight allowed")
    parser.add_argument("--workers", type=int, default=8, help="concurrency both sides ask for")
    parser.add_argument("--repeat", type=int, default=1, help="repeats of the 70-case suite")
    args = parser.parse_args()
    os.environ.pop("ANTHROPIC_BASE_URL", None)
    skills = load_skill_set(EXAMPLE / "skills")
    suite = load_case_suite(EXAMPLE / "cases.yaml", skills)

    print(
        f"limit: {args.rpm} requests/min, {args.max_concurrent} in flight; "
        f"{len(suite.cases) * args.repeat} attempts a side, {args.workers} workers"
    )
    with FakeApiServer(requests_per_minute=args.rpm, max_concurrent=args.max_concurrent) as server:
        ours = run_routelens(server, skills, suite, args.workers, args.repeat)
        base = run_baseline(server, skills, suite, args.workers, args.repeat)
    for name, side in (("routelens", ours), ("baseline", base)):
        print(
            f"{name:9}: {side.completed}/{side.attempts} completed, {side.lost} lost, "
            f"{side.elapsed_s:.1f} s, {side.share_of_limit(args.rpm):.2f} of the limit"
        )
    print(
        f"ratio routelens/baseline throughput: "
        f"{ours.share_of_limit(args.rpm) / base.share_of_limit(args.rpm):.2f}"
    )

    uncached = billed_input_per_attempt(skills, suite, cache=False, attempts=20)
    cached = billed_input_per_attempt(skills, suite, cache=True, attempts=20)
    warm = sum(cached[1:]) / len(cached[1:])
    cold = sum(uncached) / len(uncached)
    print(
        f"billed input tokens per attempt: {cold:.0f} uncached, {cached[0]:.0f} first cached "
        f"(cache write), {warm:.0f} warm cached"
    )
    print(f"ratio warm cached/uncached: {warm / cold:.2f} (target <= 0.20)")


if __name__ == "__main__":
    main()
