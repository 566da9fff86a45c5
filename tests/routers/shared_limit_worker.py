"""One of N processes sharing a rate limit through Redis (run by test_shared_limits.py).

    python -m tests.routers.shared_limit_worker REDIS_URL API_BASE_URL REQUESTS START_AT

Builds the `anthropic` router the way `routelens run` does (`limiter_url` router option),
waits until the wall-clock time START_AT, sends REQUESTS attempts with 4 workers, and prints
one JSON line: attempts completed, attempts lost and the 429s its retries met.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from routelens.routers.base import RouteRequest, RouterError
from routelens.routers.registry import RouterContext, make_router
from routelens.suite.models import Skill, SkillSet

WORKERS = 4


def skills() -> SkillSet:
    names = ("jira-issue", "jira-search")
    folder = Path("skills")
    return SkillSet(
        folder,
        tuple(Skill(n, n, f"{n} things", folder / n / "SKILL.md", n) for n in names),
        "hash",
    )


async def main(redis_url: str, base_url: str, requests: int, start_at: float) -> dict[str, int]:
    router = make_router(
        "anthropic",
        "claude-sonnet-4-6",
        {"api_key": "shared-key", "base_url": base_url, "limiter_url": redis_url, "max_retries": 8},
        RouterContext(concurrency=WORKERS),
    )
    queue = list(range(requests))
    outcome = {"completed": 0, "lost": 0, "throttled": 0}
    available = skills()

    async def worker() -> None:
        while queue:
            number = queue.pop()
            try:
                result = await router.route(
                    RouteRequest(f"C{number}", "create an issue", available)
                )
            except RouterError as error:
                outcome["lost"] += 1
                outcome["throttled"] += sum(e.http_status == 429 for e in error.retry_log)
                continue
            outcome["completed"] += 1
            outcome["throttled"] += sum(e.http_status == 429 for e in result.retry_log)

    await asyncio.sleep(max(0.0, start_at - time.time()))
    await asyncio.gather(*(worker() for _ in range(WORKERS)))
    await router.aclose()
    return outcome


if __name__ == "__main__":
    redis_url, base_url, count, start = sys.argv[1:5]
    print(json.dumps(asyncio.run(main(redis_url, base_url, int(count), float(start)))))
