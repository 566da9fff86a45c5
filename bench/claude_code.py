"""The cost of realism: Claude Code processes against API calls in Claude Code's shape.

The same loopback Messages API (`tests/fakes/api_server.py`, streaming, choosing a skill from
the listing) answers both sides, one after the other, at concurrency 1, 2 and 4:

- **claude-code**: the `claude-code` router runs the real `claude -p` per attempt (isolated
  home, early stop at the first tool call, the default);
- **anthropic + captured prompt**: the `anthropic` router sends the request Claude Code sent,
  captured once from the same binary (`prompt=claude-code`).

Each side and concurrency runs in a fresh child Python process, so `getrusage` separates
them: attempts per second, CPU seconds per attempt (the `claude` processes' own for the
first side, the Python process's for the second) and the peak resident memory of one
`claude` process. The ratio of attempts per second sizes how many Claude Code processes one
machine carries for a team-scale run.

Run: `PYTHONPATH=. python bench/claude_code.py --executable PATH` (or set
ROUTELENS_TEST_CLAUDE_EXECUTABLE, as `.ci/run` does).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.fakes.api_server import FakeApiServer

from routelens.routers.anthropic_router import AnthropicRouter
from routelens.routers.base import Router, RouteRequest, RouterError
from routelens.routers.claude_code import ClaudeCodeRouter, ClaudeCodeSettings
from routelens.routers.claude_code_capture import capture_claude_code_request
from routelens.routers.claude_code_prompt import ClaudeCodePrompt, template_from_capture
from routelens.suite.cases import load_case_suite
from routelens.suite.skills import load_skill_set

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "jira"
MODEL = "claude-sonnet-4-5"
KEY = "sk-ant-bench-key-0123456789"
CONCURRENCIES = (1, 2, 4)
SIDES = ("claude-code", "anthropic")


def _router(side: str, executable: str, template: Path) -> Router:
    if side == "claude-code":
        return ClaudeCodeRouter(ClaudeCodeSettings(executable=executable, max_retries=0), MODEL)
    prompt = ClaudeCodePrompt.from_json(json.loads(template.read_text()))
    return AnthropicRouter(claude_code_prompt=prompt)


async def _attempts(router: Router, inputs: list[str], attempts: int, concurrency: int) -> int:
    skills = load_skill_set(EXAMPLE / "skills")
    gate = asyncio.Semaphore(concurrency)
    errors = 0

    async def one(index: int, text: str) -> None:
        nonlocal errors
        async with gate:
            try:
                await router.route(RouteRequest(f"B{index}", text, skills))
            except RouterError:
                errors += 1

    await asyncio.gather(*(one(i, t) for i, t in zip(range(attempts), itertools.cycle(inputs))))
    await router.aclose()
    return errors


def worker(args: argparse.Namespace) -> None:
    """One side at one concurrency, in this process; prints one JSON line."""
    inputs = [
        case.input
        for case in load_case_suite(
            EXAMPLE / "cases.yaml", load_skill_set(EXAMPLE / "skills")
        ).cases
        if case.input.strip()
    ]
    router = _router(args.side, args.executable, Path(args.template))
    started = time.perf_counter()
    errors = asyncio.run(_attempts(router, inputs, args.attempts, args.concurrency))
    elapsed = time.perf_counter() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "elapsed_s": elapsed,
                "errors": errors,
                "children_cpu_s": children.ru_utime + children.ru_stime,
                "children_peak_rss_kib": children.ru_maxrss,
                "own_cpu_s": own.ru_utime + own.ru_stime,
            }
        )
    )


def _measure(
    side: str, concurrency: int, attempts: int, executable: str, template: Path, base_url: str
) -> dict[str, Any]:
    environment = {
        **os.environ,
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": KEY,
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    command = [
        sys.executable,
        __file__,
        "--worker",
        side,
        "--concurrency",
        str(concurrency),
        "--attempts",
        str(attempts),
        "--executable",
        executable,
        "--template",
        str(template),
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=environment, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executable", default=os.environ.get("ROUTELENS_TEST_CLAUDE_EXECUTABLE"))
    parser.add_argument("--claude-attempts", type=int, default=12, help="per worker slot")
    parser.add_argument("--api-attempts", type=int, default=100, help="per worker slot")
    parser.add_argument("--worker", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--side", dest="side", help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--attempts", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--template", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.executable:
        parser.error("pass --executable or set ROUTELENS_TEST_CLAUDE_EXECUTABLE")
    if args.worker:
        args.side = args.worker
        worker(args)
        return
    skills = load_skill_set(EXAMPLE / "skills")
    prompt = template_from_capture(
        capture_claude_code_request(args.executable, skills, model=MODEL), skills
    )
    load_before = os.getloadavg()
    rows = []
    with FakeApiServer() as server, tempfile.TemporaryDirectory() as folder:
        template = Path(folder) / "template.json"
        template.write_text(json.dumps(prompt.to_json()))
        for concurrency in CONCURRENCIES:
            for side, per_slot in (
                ("claude-code", args.claude_attempts),
                ("anthropic", args.api_attempts),
            ):
                attempts = per_slot * concurrency
                figures = _measure(
                    side, concurrency, attempts, args.executable, template, server.base_url
                )
                rows.append(
                    {"side": side, "concurrency": concurrency, "attempts": attempts, **figures}
                )
    load_after = os.getloadavg()
    print(f"Claude Code {prompt.claude_code_version}, model {MODEL}, {os.cpu_count()} CPUs")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    print()
    print(
        "| side | concurrency | attempts | errors | attempts/s | CPU s/attempt | peak RSS/process |"
    )
    print("|---|---|---|---|---|---|---|")
    per_second: dict[tuple[str, int], float] = {}
    for row in rows:
        rate = row["attempts"] / row["elapsed_s"]
        per_second[(row["side"], row["concurrency"])] = rate
        claude = row["side"] == "claude-code"
        cpu = (row["children_cpu_s"] if claude else row["own_cpu_s"]) / row["attempts"]
        rss = f"{row['children_peak_rss_kib'] / 1024:.0f} MiB" if claude else "-"
        print(
            f"| {row['side']} | {row['concurrency']} | {row['attempts']} | {row['errors']} | "
            f"{rate:.2f} | {cpu:.3f} | {rss} |"
        )
    print()
    for concurrency in CONCURRENCIES:
        ratio = per_second[("anthropic", concurrency)] / per_second[("claude-code", concurrency)]
        print(f"concurrency {concurrency}: the API in Claude Code's shape is {ratio:.0f}x faster")


if __name__ == "__main__":
    main()
