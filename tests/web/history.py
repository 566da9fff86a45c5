"""A store filled by real runs for the web tests, with hostile text everywhere a user writes.

Everything goes through the CLI, as a user would do it: a git repository of four skills
(one description edited in a second commit; one skill no case expects), two offline runs
labelled by release, `changes scan`, an `anthropic` run against the loopback Messages API
answering 429, 529 and 500 (one attempt ends in an error), and an experiment between the
two commits. Case ids, inputs, run labels and SKILL.md texts carry `<script>`, an
`onerror` image and `{{7*7}}`: pages must show them as text and never run them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from typer.testing import CliRunner

from routelens.cli import app
from tests.changes.history import GitRepo
from tests.fakes.api_server import (
    FakeApiServer,
    FakeResponse,
    RecordedRequest,
    anthropic_api_error,
    anthropic_overloaded_error,
    anthropic_rate_limit_error,
    anthropic_tool_use,
)
from tests.fakes.exchange import last_user_text

SCRIPT = "<script>alert('xss')</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
TEMPLATE = "{{7*7}}"
API_KEY = "sk-ant-test-0123456789abcdef-do-not-show"
XSS_CASE = f"{SCRIPT}-case"
RELEASE_LABEL = "release"


def _skill(name: str, description: str, body: str) -> str:
    return f"---\nname: {name}\ndescription: {json.dumps(description)}\n---\n\n# {name}\n\n{body}\n"


DEPLOY_BODY = f"Run the pipeline. {SCRIPT}\n{IMAGE}\n"
SKILLS_V1 = {
    "deploy-app": _skill(
        "deploy-app", f'Deploy the app to staging {TEMPLATE} "quoted" & more.', DEPLOY_BODY
    ),
    "review-code": _skill(
        "review-code", "Review the code of a pull request and comment on it.", "Read the diff.\n"
    ),
    "triage-bug": _skill(
        "triage-bug", "Triage a bug report: label, prioritise and assign it.", "Ask for logs.\n"
    ),
    "release-notes": _skill(
        "release-notes", "Write release notes from merged changes.", "List the changes.\n"
    ),
}
DEPLOY_V2 = _skill(
    "deploy-app",
    f'Deploy or ship the app to staging or production {TEMPLATE} "quoted" & more.',
    DEPLOY_BODY + "Check the health endpoint after.\n",
)

CASES = f"""\
version: "1.0"
name: web-suite
tests:
  - id: {json.dumps(XSS_CASE)}
    category: direct
    input: {json.dumps("deploy the app to staging " + IMAGE)}
    expected_skill: deploy-app
  - id: C2
    category: direct
    input: {json.dumps("review the code of my pull request " + TEMPLATE)}
    expected_skill: review-code
  - id: C3
    category: direct
    input: "triage this bug report and assign it"
    expected_skill: triage-bug
  - id: C4
    category: negative
    input: "ship the app to production"
    expected_skill: deploy-app
    not_skill: review-code
  - id: C5
    category: disambiguation
    input: "code app"
    expected_skill: null
    disambiguation_options: [deploy-app, review-code]
  - id: C6
    category: edge
    input: "zzz qqq"
    expected_skill: null
  - id: C7
    category: direct
    input: "label the bug and review the code"
    expected_skill: triage-bug
"""


@dataclass
class FilledStore:
    """The store and what went into it."""

    path: Path
    repo: Path
    cases: Path
    local_runs: list[str] = field(default_factory=list)
    anthropic_run: str = ""
    experiment: str = "sharper-deploy"
    event_ids: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The store as a SQLite URL."""
        return f"sqlite:///{self.path}"


def _invoke(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


FLAKY_CASE = "C4"
FLAKY_INPUT = "ship the app to production"


def _flip_c4(api: FakeApiServer) -> Callable[[RecordedRequest], FakeResponse]:
    calls = 0

    def answer(request: RecordedRequest) -> FakeResponse:
        nonlocal calls
        body = request.body if isinstance(request.body, dict) else {}
        if FLAKY_INPUT not in last_user_text(body.get("messages")):
            return api.default_response(request)
        calls += 1
        if calls % 2:
            return api.default_response(request)
        return anthropic_tool_use("review-code", text_before="Reviewing the release first.")

    return answer


def build_filled_store(root: Path, api: FakeApiServer) -> FilledStore:
    """Record everything listed in the module docstring into `root/store.sqlite`."""
    repo = GitRepo(root / "repo")
    repo.root.mkdir(parents=True)
    repo.git("init", "-q", "-b", "main")
    for name, text in SKILLS_V1.items():
        repo.write(f"skills/{name}/SKILL.md", text)
    first = repo.commit("v1", "Add four skills")
    cases = root / "cases.yaml"
    cases.write_text(CASES, encoding="utf-8")
    filled = FilledStore(root / "store.sqlite", repo.root, cases)
    common = ["--skills", str(repo.root / "skills"), "--cases", str(cases), "--store", filled.url]

    def local_run(release: str) -> str:
        output = _invoke(
            "run", *common, "--repeat", "3", "--json",
            "--label", f"{RELEASE_LABEL}={release}", "--label", f"note={SCRIPT}{TEMPLATE}",
        )  # fmt: skip
        return str(json.loads(output)["run_id"])

    filled.local_runs.append(local_run("v1"))
    repo.write("skills/deploy-app/SKILL.md", DEPLOY_V2)
    second = repo.commit("v2", f"deploy-app: name production too {TEMPLATE}")
    filled.local_runs.append(local_run("v2"))
    scan = _invoke("changes", "scan", str(repo.root), "--store", filled.url, "--json")
    filled.event_ids = [int(event["event_id"]) for event in json.loads(scan)["events"]]

    # 429 then 529 on the first attempt (both retried), then a 500 more often than the
    # router retries: that attempt ends in an error with HTTP status 500. The "model"
    # answers C4 right and wrong in turn, so C4 is flaky.
    api.script(_flip_c4(api))
    api.enqueue(
        anthropic_rate_limit_error(retry_after=0.05),
        anthropic_overloaded_error(),
        anthropic_api_error(),
        anthropic_api_error(),
        anthropic_api_error(),
    )
    env = {**os.environ, "ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_BASE_URL": api.base_url}
    output = _invoke(
        "run", *common, "--router", "anthropic", "--model", "claude-sonnet-4-6",
        "--concurrency", "1", "--max-retries", "2", "--repeat", "6", "--json",
        "--label", f"{RELEASE_LABEL}=v2-anthropic",
        env=env,
    )  # fmt: skip
    filled.anthropic_run = str(json.loads(output)["run_id"])
    api.script(None)

    _invoke(
        "experiment", "create", filled.experiment, "--control", first, "--treatment", second,
        "--repo", str(repo.root), "--skills-path", "skills", "--cases", str(cases),
        "--repeat", "3", "--seed", "5", "--store", filled.url,
    )  # fmt: skip
    _invoke("experiment", "run", filled.experiment, "--store", filled.url)
    return filled
