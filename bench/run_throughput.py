"""Runner overhead: attempts per second through the full runner vs. calling the router directly.

Both sides use the same instant router on the same cases in the same process; the ratio is
what the runner's scheduling, verdicts and store writes (SQLite, WAL) cost per attempt.
Run: `make bench` or `python bench/run_throughput.py [--attempts N]`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from routelens.routers.base import RouteRequest, RouteResult
from routelens.routers.function import FunctionRouter
from routelens.routers.local import LocalRouter
from routelens.runner.session import RunSettings, create_run, execute_run
from routelens.store import open_store
from routelens.suite.cases import load_case_suite
from routelens.suite.skills import load_skill_set

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "jira"


def main() -> None:
    """Print attempts/s for the baseline and the runner, and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    skills = load_skill_set(EXAMPLE / "skills")
    suite = load_case_suite(EXAMPLE / "cases.yaml", skills)
    local = LocalRouter()

    def answer(request: RouteRequest) -> RouteResult:
        return local.route_now(request)

    requests = [
        RouteRequest(c.id, c.input, skills, c.context_facts, c.context_messages)
        for c in suite.cases
    ]
    total = len(requests) * args.repeat
    started = time.perf_counter()
    for _ in range(args.repeat):
        for request in requests:
            answer(request)
    baseline_s = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as folder, open_store(Path(folder) / "b.sqlite") as store:
        settings = RunSettings(router="function", repeat=args.repeat, concurrency=4)
        run = create_run(store, skills, suite, settings)
        started = time.perf_counter()
        execute_run(store, run, skills, suite.cases, FunctionRouter(answer), settings)
        runner_s = time.perf_counter() - started

    print(f"attempts: {total}")
    print(f"baseline (local router called directly): {total / baseline_s:,.0f} attempts/s")
    print(f"runner (schedule + judge + store):        {total / runner_s:,.0f} attempts/s")
    print(f"ratio runner/baseline time: {runner_s / baseline_s:.2f}x")


if __name__ == "__main__":
    main()
