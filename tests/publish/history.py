"""A store filled by real runs, the way a team's history looks, for the publish proof tests.

Everything goes through the public CLI: offline runs of the example suite (two releases), an
older run moved back nine days through `export` / `import` (so week-over-week and 7-day
windows both have data), an `anthropic` run through the real SDK against the loopback API
with rate-limit, overload and server errors scripted in (retries, tokens, cost, an error), an
experiment run to its conclusion, and SKILL.md change events scanned from a git repository.
The offline runs also give the disambiguation panels their data: the local router asks on
four of the example's disambiguation cases, naming some of their `disambiguation_options`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routelens.cli import app
from tests.fakes.api_server import (
    FakeApiServer,
    anthropic_api_error,
    anthropic_overloaded_error,
    anthropic_rate_limit_error,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jira"
runner = CliRunner()


def invoke(*args: str, exit_codes: tuple[int, ...] = (0,)) -> str:
    """Run one routelens command; its stdout (fails the test on any other exit code)."""
    result = runner.invoke(app, list(args))
    assert result.exit_code in exit_codes, f"routelens {' '.join(args)}\n{result.output}"
    return result.stdout


def offline_run(store: str, release: str, repeat: int = 3) -> str:
    """One run of the example suite through the local router; its run id."""
    report = invoke(
        "run",
        *("--skills", str(EXAMPLE / "skills"), "--cases", str(EXAMPLE / "cases.yaml")),
        *("--repeat", str(repeat), "--store", store, "--json", "--label", f"release={release}"),
    )
    run_id: str = json.loads(report)["run_id"]
    return run_id


def shift_run_back(store: str, run_id: str, days: int, workdir: Path) -> None:
    """Export a run, move every timestamp `days` back under a new run id, import it again."""
    exported = workdir / f"{run_id}.jsonl"
    invoke("export", run_id, "--out", str(exported), "--store", store)
    shifted = workdir / f"{run_id}-shifted.jsonl"
    lines = []
    for line in exported.read_text().splitlines():
        lines.append(json.dumps(_shift(json.loads(line), days, f"{run_id}-old")))
    shifted.write_text("\n".join(lines) + "\n")
    invoke("import", str(shifted), "--store", store)


def _shift(value: object, days: int, new_run_id: str) -> object:
    if isinstance(value, dict):
        return {
            key: new_run_id if key == "run_id" else _shift(item, days, new_run_id)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_shift(item, days, new_run_id) for item in value]
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            return (moment - timedelta(days=days)).astimezone(UTC).isoformat()
    return value


def wavering_run(store: str, skills: Path, cases: Path) -> None:
    """Twelve repeats through a router that answers each input with the next skill in turn:
    every case passes some repeats and fails others, i.e. flaky cases with a price."""
    invoke(
        "run",
        *("--skills", str(skills), "--cases", str(cases), "--repeat", "12"),
        *("--router", "tests.support_routers:wavering_router", "--concurrency", "1"),
        *("--store", store, "--label", "release=wavering"),
        exit_codes=(0, 1),  # the CI gate fails on such accuracy, which is the point
    )


def api_run(store: str, server: FakeApiServer, skills: Path, cases: Path) -> None:
    """An anthropic run via the real SDK: two retried requests and one attempt that errors."""
    server.enqueue(
        anthropic_rate_limit_error(retry_after=0),
        anthropic_overloaded_error(),
        *(anthropic_api_error() for _ in range(3)),
    )
    environment = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": server.base_url}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in environment.items():
            patch.setenv(key, value)
        result = runner.invoke(
            app,
            [
                "run",
                *("--skills", str(skills), "--cases", str(cases)),
                *("--router", "anthropic", "--model", "claude-sonnet-4-6"),
                *("--concurrency", "1", "--max-retries", "2", "--store", store),
                *("--label", "release=api"),
            ],
        )
    # an attempt that ends in an error makes the run's gate fail (exit 1), which is expected
    assert result.exit_code in (0, 1), result.output


def experiment(store: str, workdir: Path) -> None:
    """An experiment between the example skills and a copy with one description reworded."""
    treatment = workdir / "treatment-skills"
    shutil.copytree(EXAMPLE / "skills", treatment)
    reword_first_description(treatment)
    name = "reworded-description"
    invoke(
        "experiment",
        "create",
        name,
        *("--control", str(EXAMPLE / "skills"), "--treatment", str(treatment)),
        *("--cases", str(EXAMPLE / "cases.yaml"), "--repeat", "2", "--store", store),
    )
    invoke("experiment", "run", name, "--store", store)
    invoke("experiment", "conclude", name, "--store", store)


def reword_first_description(skills: Path) -> Path:
    """Prefix the first skill's description with a sentence; the SKILL.md changed."""
    skill_md = sorted(skills.glob("*/SKILL.md"))[0]
    text = skill_md.read_text()
    skill_md.write_text(text.replace("description: ", "description: Use this for Jira work. ", 1))
    return skill_md


def skills_repository(workdir: Path) -> Path:
    """A git repository holding the example skills, then one commit rewording a description."""
    repo = workdir / "skills-repo"
    shutil.copytree(EXAMPLE / "skills", repo / "skills")
    environment = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Skills Engineer",
        "GIT_AUTHOR_EMAIL": "skills@example.com",
        "GIT_COMMITTER_NAME": "Skills Engineer",
        "GIT_COMMITTER_EMAIL": "skills@example.com",
    }

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, env=environment, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "Add the Jira skills")
    reword_first_description(repo / "skills")
    git("commit", "-q", "-am", "Reword a description")
    return repo


def build_history(workdir: Path, server: FakeApiServer, skills: Path, cases: Path) -> str:
    """Fill a new SQLite store with the whole history above; its path."""
    store = str(workdir / "history.sqlite")
    old = offline_run(store, "v1")
    shift_run_back(store, old, days=9, workdir=workdir)
    offline_run(store, "v2")
    api_run(store, server, skills, cases)
    wavering_run(store, skills, cases)
    experiment(store, workdir)
    invoke("changes", "scan", str(skills_repository(workdir)), "--store", store)
    return store
