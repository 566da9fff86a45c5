"""The lines of a run bundle (JSONL): what each line holds, how it is checked and written.

A bundle (version 2) is a header line, then per run a run line, its skills, its cases and
its attempts, one JSON object a line:

    {"kind":"bundle","format":"routelens-run-bundle","version":2}
    {"kind":"run","run_id":"...","run_started_at":"...","router":"local",...}
    {"kind":"skill","run_id":"...","name":"jira-search","content_hash":"...",...}
    {"kind":"case","run_id":"...","case_id":"TC031","definition":{...},...}
    {"actual_skill":"jira-search","case_id":"TC031","run_id":"...",...}

An attempt line carries its run's fields too, so any attempt line can be read alone: a file
of attempt lines only (what `export` wrote before bundles) is still a valid import.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    FiniteFloat,
)

from routelens.store.records import (
    AttemptRecord,
    RetryEvent,
    RunCaseRecord,
    RunRecord,
    RunSkillRecord,
    RunStatus,
    Verdict,
)

BUNDLE_FORMAT = "routelens-run-bundle"
BUNDLE_VERSION = 2
"""The newest bundle version this code writes and reads (1: attempt lines only, no header)."""
KIND_BUNDLE, KIND_RUN, KIND_SKILL, KIND_CASE = "bundle", "run", "skill", "case"

# The store's integer columns are 32-bit and token counts 64-bit (PostgreSQL enforces this).
_Int32 = Annotated[int, Field(ge=0, le=2**31 - 1)]
_Int64 = Annotated[int, Field(ge=0, le=2**63 - 1)]
_NonNegativeFloat = Annotated[FiniteFloat, Field(ge=0)]
_XDIST_WORKER = re.compile(r"gw(\d+)")


def _worker_index(value: Any) -> Any:
    """`"gw3"` (how pytest-xdist names its workers) is worker 3; other values pass through."""
    if isinstance(value, str):
        match = _XDIST_WORKER.fullmatch(value)
        if match is None:
            raise ValueError("a worker id is an integer or 'gw' and an integer (pytest-xdist)")
        return int(match.group(1))
    return value


WorkerId = Annotated[_Int32, BeforeValidator(_worker_index)]


class _Line(BaseModel):
    # Strict: "1" is not a number and 1 is not true; unknown keys are ignored so that files
    # from newer versions, which may carry more fields, still import.
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class BundleHeader(_Line):
    """The first line of a bundle: its format and version."""

    kind: Literal["bundle"]
    format: Literal["routelens-run-bundle"]
    version: int = Field(ge=1)


class RunFields(_Line):
    """A run's fields, as a run line and every attempt line carry them."""

    run_id: str = Field(min_length=1)
    run_started_at: AwareDatetime
    run_finished_at: AwareDatetime | None = None
    run_status: RunStatus = RunStatus.COMPLETED
    router: str
    model: str | None
    skills_hash: str
    suite_hash: str = ""
    suite_name: str = ""
    suite_version: str | None = None
    skills_dir: str | None = None
    cases_path: str | None = None
    git_commit: str | None = None
    git_branch: str | None = None
    environment: str | None = None
    labels: dict[str, str]
    settings: dict[str, Any] = Field(default_factory=dict)

    def to_run(self) -> RunRecord:
        """The run these fields describe."""
        return RunRecord(
            run_id=self.run_id,
            started_at=_utc(self.run_started_at),
            router=self.router,
            model=self.model,
            skills_hash=self.skills_hash,
            suite_hash=self.suite_hash,
            suite_name=self.suite_name,
            suite_version=self.suite_version,
            skills_dir=self.skills_dir,
            cases_path=self.cases_path,
            git_commit=self.git_commit,
            git_branch=self.git_branch,
            environment=self.environment,
            labels=dict(self.labels),
            settings=dict(self.settings),
            status=self.run_status,
            finished_at=None if self.run_finished_at is None else _utc(self.run_finished_at),
        )


RUN_FIELD_NAMES = tuple(RunFields.model_fields)
RUN_IDENTITY_FIELDS = tuple(
    name for name in RUN_FIELD_NAMES if name not in ("run_status", "run_finished_at")
)
"""The run fields every line of one run must agree on (status and finish time may advance
between two exports of a run that was still going)."""


class RunLine(RunFields):
    """A run of a bundle (before its skills, cases and attempts)."""

    kind: Literal["run"]


class SkillLine(_Line):
    """A skill as its run tested it."""

    kind: Literal["skill"]
    run_id: str = Field(min_length=1)
    name: str
    folder_name: str
    content_hash: str
    description: str
    path: str

    def to_record(self) -> RunSkillRecord:
        """The `run_skills` record of this line."""
        return RunSkillRecord(
            self.run_id, self.name, self.folder_name, self.content_hash, self.description, self.path
        )


class CaseLine(_Line):
    """A case as its run tested it: its full definition."""

    kind: Literal["case"]
    run_id: str = Field(min_length=1)
    case_id: str = Field(min_length=1)
    category: str
    position: _Int32
    definition: dict[str, Any]

    def to_record(self) -> RunCaseRecord:
        """The `run_cases` record of this line."""
        return RunCaseRecord(
            self.run_id, self.case_id, self.category, self.position, dict(self.definition)
        )


class RetryLine(_Line):
    """One retry inside an attempt line."""

    error_type: str
    http_status: _Int32 | None = None
    wait_s: _NonNegativeFloat


class AttemptLine(RunFields):
    """One attempt, with the fields of the run it belongs to."""

    case_id: str = Field(min_length=1)
    category: str
    input: str
    expected_skill: str | None
    actual_skill: str | None
    asked_clarification: bool
    verdict: Verdict
    repeat_index: _Int32
    started_at: AwareDatetime
    finished_at: AwareDatetime | None = None
    latency_s: _NonNegativeFloat
    retries: _Int32
    retry_wait_s: _NonNegativeFloat = 0.0
    retry_log: list[RetryLine] = Field(default_factory=list)
    error_type: str | None
    error_message: str | None = None
    http_status: _Int32 | None = None
    input_tokens: _Int64
    output_tokens: _Int64
    cache_read_tokens: _Int64
    cache_write_tokens: _Int64
    cost_usd: _NonNegativeFloat
    worker_id: WorkerId
    sequence_number: _Int32 = 0
    confidence: FiniteFloat | None = None
    options_score: FiniteFloat | None = None
    commands_score: FiniteFloat | None = None
    confirmation_score: FiniteFloat | None = None
    response_text: str = ""
    response_model: str | None = None
    expected_skill_hash: str | None = None
    actual_skill_hash: str | None = None
    nul_replaced: bool = False

    def to_attempt(self) -> AttemptRecord:
        """The attempt this line records; a missing finish time is start plus latency."""
        started_at = _utc(self.started_at)
        finished_at = (
            started_at + timedelta(seconds=self.latency_s)
            if self.finished_at is None
            else _utc(self.finished_at)
        )
        values = {name: getattr(self, name) for name in ATTEMPT_ROW_FIELDS}
        values.update(
            verdict=self.verdict,
            started_at=started_at,
            finished_at=finished_at,
            retry_log=tuple(
                RetryEvent(e.error_type, e.http_status, e.wait_s) for e in self.retry_log
            ),
        )
        return AttemptRecord(**values)


ATTEMPT_ROW_FIELDS = tuple(
    name for name in AttemptRecord.__dataclass_fields__ if name in AttemptLine.model_fields
)
"""The fields of an attempt line that go into the attempt's row as they are."""
ATTEMPT_FIELD_NAMES = tuple(AttemptLine.model_fields)


def run_fields_dict(run: RunRecord) -> dict[str, Any]:
    """A run's fields as every line of the run carries them."""
    return {
        "run_id": run.run_id,
        "run_started_at": iso_time(run.started_at),
        "run_finished_at": None if run.finished_at is None else iso_time(run.finished_at),
        "run_status": str(run.status),
        "router": run.router,
        "model": run.model,
        "skills_hash": run.skills_hash,
        "suite_hash": run.suite_hash,
        "suite_name": run.suite_name,
        "suite_version": run.suite_version,
        "skills_dir": run.skills_dir,
        "cases_path": run.cases_path,
        "git_commit": run.git_commit,
        "git_branch": run.git_branch,
        "environment": run.environment,
        "labels": run.labels,
        "settings": run.settings,
    }


def attempt_line_dict(run: RunRecord, attempt: AttemptRecord) -> dict[str, Any]:
    """The JSON object for one attempt of `run`, as an export writes it."""
    return {
        **run_fields_dict(run),
        "case_id": attempt.case_id,
        "category": attempt.category,
        "input": attempt.input,
        "expected_skill": attempt.expected_skill,
        "actual_skill": attempt.actual_skill,
        "asked_clarification": attempt.asked_clarification,
        "verdict": str(attempt.verdict),
        "repeat_index": attempt.repeat_index,
        "started_at": iso_time(attempt.started_at),
        "finished_at": iso_time(attempt.finished_at),
        "latency_s": attempt.latency_s,
        "retries": attempt.retries,
        "retry_wait_s": attempt.retry_wait_s,
        "retry_log": [
            {"error_type": e.error_type, "http_status": e.http_status, "wait_s": e.wait_s}
            for e in attempt.retry_log
        ],
        "error_type": attempt.error_type,
        "error_message": attempt.error_message,
        "http_status": attempt.http_status,
        "input_tokens": attempt.input_tokens,
        "output_tokens": attempt.output_tokens,
        "cache_read_tokens": attempt.cache_read_tokens,
        "cache_write_tokens": attempt.cache_write_tokens,
        "cost_usd": attempt.cost_usd,
        "worker_id": attempt.worker_id,
        "sequence_number": attempt.sequence_number,
        "confidence": attempt.confidence,
        "options_score": attempt.options_score,
        "commands_score": attempt.commands_score,
        "confirmation_score": attempt.confirmation_score,
        "response_text": attempt.response_text,
        "response_model": attempt.response_model,
        "expected_skill_hash": attempt.expected_skill_hash,
        "actual_skill_hash": attempt.actual_skill_hash,
        "nul_replaced": attempt.nul_replaced,
    }


def header_line() -> str:
    """The bundle's first line."""
    return dump_record_line(
        {"kind": KIND_BUNDLE, "format": BUNDLE_FORMAT, "version": BUNDLE_VERSION}
    )


def run_line(run: RunRecord) -> str:
    """A run line."""
    return dump_record_line({"kind": KIND_RUN, **run_fields_dict(run)})


def skill_line(skill: RunSkillRecord) -> str:
    """A skill line."""
    return dump_record_line(
        {
            "kind": KIND_SKILL,
            "run_id": skill.run_id,
            "name": skill.name,
            "folder_name": skill.folder_name,
            "content_hash": skill.content_hash,
            "description": skill.description,
            "path": skill.path,
        }
    )


def case_line(case: RunCaseRecord) -> str:
    """A case line."""
    return dump_record_line(
        {
            "kind": KIND_CASE,
            "run_id": case.run_id,
            "case_id": case.case_id,
            "category": case.category,
            "position": case.position,
            "definition": case.definition,
        }
    )


def dump_record_line(value: dict[str, Any]) -> str:
    """A run, skill or case line: `kind` first, the rest sorted (one line, UTF-8 as is)."""
    kind = {"kind": value.pop("kind")}
    head = json.dumps(kind, ensure_ascii=False, separators=(",", ":"))
    rest = json.dumps(
        value, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    )
    return head[:-1] + ("," + rest[1:] if value else "}") + "\n"


def dump_attempt_line(value: dict[str, Any]) -> str:
    """An attempt line: keys sorted (one line, UTF-8 as is)."""
    text = json.dumps(
        value, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    )
    return text + "\n"


def iso_time(moment: datetime) -> str:
    """A time as the lines write it: UTC, with microseconds."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
