"""Start-up time of the `routelens` command against importing typer and rich alone.

Each command runs as a fresh process, as a user types it; rounds interleave the baseline and
every command so that load on the machine touches them alike. The baseline is
`python -c "import typer, rich.console"`: the floor any typer command with rich output pays.
Targets (issue: the command line a person enjoys): `routelens --help` and `routelens run
--help` within 2x the baseline, `routelens validate` on the example within 3x.

Run: `python bench/startup.py [--rounds 30]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "jira"
BIN = Path(sys.executable).parent

COMMANDS: dict[str, tuple[list[str], float | None]] = {
    "baseline: import typer, rich.console": (
        [sys.executable, "-c", "import typer, rich.console"],
        None,
    ),
    "routelens --help": ([str(BIN / "routelens"), "--help"], 2.0),
    "routelens run --help": ([str(BIN / "routelens"), "run", "--help"], 2.0),
    "routelens validate (example)": (
        [
            str(BIN / "routelens"),
            "validate",
            "--skills",
            str(EXAMPLE / "skills"),
            "--cases",
            str(EXAMPLE / "cases.yaml"),
        ],
        3.0,
    ),
}


def _time_once(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "")
    for argv, _ in COMMANDS.values():  # warm the file cache and .pyc files
        _time_once(argv)
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.rounds):
        for name, (argv, _) in COMMANDS.items():
            samples[name].append(_time_once(argv))
    base = statistics.median(samples["baseline: import typer, rich.console"])
    print(f"{'command':34} {'median':>8} {'min':>8} {'ratio':>6} {'target':>7}")
    for name, (_, target) in COMMANDS.items():
        median = statistics.median(samples[name])
        ratio = median / base
        verdict = "" if target is None else ("ok" if ratio <= target else "MISS")
        target_text = "" if target is None else f"<= {target:g}x"
        print(
            f"{name:34} {median * 1000:6.0f}ms {min(samples[name]) * 1000:6.0f}ms "
            f"{ratio:5.2f}x {target_text:>7} {verdict}"
        )
    print(f"({args.rounds} rounds, medians; load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
