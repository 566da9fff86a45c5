"""Rows the store keeps: runs, the skills and cases of a run, and attempts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class RetryEvent:
    """One retry of an API call: what failed, its HTTP status, and how long we waited."""

    error_type: str
    http_status: int | None
    wait_s: float


class RunStatus(StrEnum):
    """Where a run stands; only `running` and `interrupted` runs are resumed."""

    RUNNING = "running"
    COMPLETED = "completed"
    INTERRUPTED = "interrupted"
    FAILED = "failed"
    STOPPED_BY_BUDGET = "stopped-by-budget"


class Verdict(StrEnum):
    """How one attempt ended. Every (case, repeat) of a run ends as one of these."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"


@dataclass(frozen=True)
class RunRecord:
    """One execution of a suite against a skills folder through one router."""

    run_id: str
    started_at: datetime
    router: str
    model: str | None
    skills_hash: str
    suite_hash: str
    suite_name: str
    suite_version: str | None = None
    skills_dir: str | None = None
    cases_path: str | None = None
    git_commit: str | None = None
    git_branch: str | None = None
    environment: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    status: RunStatus = RunStatus.RUNNING
    finished_at: datetime | None = None


@dataclass(frozen=True)
class RunSkillRecord:
    """A skill as it was when a run tested it."""

    run_id: str
    name: str
    folder_name: str
    content_hash: str
    description: str
    path: str


@dataclass(frozen=True)
class RunCaseRecord:
    """A case as it was when a run tested it (its full definition, for resume and analytics)."""

    run_id: str
    case_id: str
    category: str
    position: int
    definition: dict[str, Any]


@dataclass(frozen=True)
class AttemptRecord:
    """One (case, repeat) of a run: what was asked, what the router did, and the verdict."""

    run_id: str
    case_id: str
    repeat_index: int
    category: str
    input: str
    expected_skill: str | None
    actual_skill: str | None
    verdict: Verdict
    asked_clarification: bool
    started_at: datetime
    finished_at: datetime
    latency_s: float
    worker_id: int = 0
    sequence_number: int = 0
    error_type: str | None = None
    error_message: str | None = None
    http_status: int | None = None
    retries: int = 0
    retry_wait_s: float = 0.0
    retry_log: tuple[RetryEvent, ...] = ()
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    confidence: float | None = None
    options_score: float | None = None
    commands_score: float | None = None
    response_text: str = ""
    response_model: str | None = None
    expected_skill_hash: str | None = None
    actual_skill_hash: str | None = None
    confirmation_score: float | None = None
    nul_replaced: bool = False
    """A NUL character in the attempt's text (the response, an error message) was replaced
    by U+FFFD before storing: PostgreSQL cannot hold NUL, and both backends keep the same."""
