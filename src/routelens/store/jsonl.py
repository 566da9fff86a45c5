"""A run as JSON Lines (one attempt per line, with its run's fields), and back into a store.

Export then import into an empty store then export again gives the same bytes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import fields
from datetime import MAXYEAR, MINYEAR, UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, FiniteFloat, ValidationError

from routelens.errors import InputError
from routelens.store.jsonl_pipeline import SqliteLineBinder, merge_in_worker, worker_would_help
from routelens.store.records import AttemptRecord, RetryEvent, RunRecord, RunStatus, Verdict
from routelens.store.sqlstore import ImportSummary, MergeBatch, Store
from routelens.suite.hashing import input_hash

__all__ = ["AttemptLine", "ImportSummary", "export_run_jsonl", "import_jsonl"]

# The store's integer columns are 32-bit and token counts 64-bit (PostgreSQL enforces this).
_Int32 = Annotated[int, Field(ge=0, le=2**31 - 1)]
_Int64 = Annotated[int, Field(ge=0, le=2**63 - 1)]
_NonNegativeFloat = Annotated[FiniteFloat, Field(ge=0)]
# Lines are validated and written this many at a time, inside the import's one transaction.
_BATCH_LINES = 10_000


class RetryLine(BaseModel):
    """One retry inside an attempt line."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    error_type: str
    http_status: _Int32 | None = None
    wait_s: _NonNegativeFloat


class AttemptLine(BaseModel):
    """One line of a run's JSONL export: an attempt, with the fields of the run it belongs to."""

    # Strict: "1" is not a number and 1 is not true; unknown keys are ignored so that files
    # from newer versions, which may carry more fields, still import.
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

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
    worker_id: _Int32
    sequence_number: _Int32 = 0
    confidence: FiniteFloat | None = None
    options_score: FiniteFloat | None = None
    commands_score: FiniteFloat | None = None
    response_text: str = ""
    response_model: str | None = None
    expected_skill_hash: str | None = None
    actual_skill_hash: str | None = None

    def to_run(self) -> RunRecord:
        """The run this line belongs to."""
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

    def to_attempt(self) -> AttemptRecord:
        """The attempt this line records; a missing finish time is start plus latency."""
        started_at = _utc(self.started_at)
        finished_at = (
            started_at + timedelta(seconds=self.latency_s)
            if self.finished_at is None
            else _utc(self.finished_at)
        )
        return AttemptRecord(
            run_id=self.run_id,
            case_id=self.case_id,
            repeat_index=self.repeat_index,
            category=self.category,
            input=self.input,
            expected_skill=self.expected_skill,
            actual_skill=self.actual_skill,
            verdict=self.verdict,
            asked_clarification=self.asked_clarification,
            started_at=started_at,
            finished_at=finished_at,
            latency_s=self.latency_s,
            worker_id=self.worker_id,
            sequence_number=self.sequence_number,
            error_type=self.error_type,
            error_message=self.error_message,
            http_status=self.http_status,
            retries=self.retries,
            retry_wait_s=self.retry_wait_s,
            retry_log=tuple(
                RetryEvent(e.error_type, e.http_status, e.wait_s) for e in self.retry_log
            ),
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cache_read_tokens=self.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens,
            cost_usd=self.cost_usd,
            confidence=self.confidence,
            options_score=self.options_score,
            commands_score=self.commands_score,
            response_text=self.response_text,
            response_model=self.response_model,
            expected_skill_hash=self.expected_skill_hash,
            actual_skill_hash=self.actual_skill_hash,
        )


_FIELD_NAMES = tuple(AttemptLine.model_fields)
# The fields of an attempt line that go into the attempt's row as they are.
_ATTEMPT_ROW_FIELDS = tuple(
    f.name for f in fields(AttemptRecord) if f.name in AttemptLine.model_fields
)
_EDGE_YEARS = (MINYEAR, MAXYEAR)
# `AttemptLine.model_validate_json` without the wrapper that checks options we never pass
# (about 0.4 of the 8 to 11 µs a line's validation takes).
_validate_line_json = AttemptLine.__pydantic_validator__.validate_json
_Row = TypeVar("_Row")
_TIME_FIELDS = ("run_started_at", "run_finished_at", "started_at", "finished_at")


def export_run_jsonl(store: Store, run_id: str, out: Path) -> int:
    """Write a run's attempts to `out`, one JSON object a line; returns the line count."""
    run = store.get_run(run_id)
    if run is None:
        raise InputError(store.display_url, f"no run {run_id!r} in this store", field="run_id")
    lines = [_dump_line(attempt_line_dict(run, attempt)) for attempt in store.attempts(run_id)]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes("".join(lines).encode("utf-8"))
    return len(lines)


def attempt_line_dict(run: RunRecord, attempt: AttemptRecord) -> dict[str, Any]:
    """The JSON object for one attempt of `run`, as `export_run_jsonl` writes it."""
    return {
        "run_id": run.run_id,
        "run_started_at": _iso(run.started_at),
        "run_finished_at": None if run.finished_at is None else _iso(run.finished_at),
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
        "case_id": attempt.case_id,
        "category": attempt.category,
        "input": attempt.input,
        "expected_skill": attempt.expected_skill,
        "actual_skill": attempt.actual_skill,
        "asked_clarification": attempt.asked_clarification,
        "verdict": str(attempt.verdict),
        "repeat_index": attempt.repeat_index,
        "started_at": _iso(attempt.started_at),
        "finished_at": _iso(attempt.finished_at),
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
        "response_text": attempt.response_text,
        "response_model": attempt.response_model,
        "expected_skill_hash": attempt.expected_skill_hash,
        "actual_skill_hash": attempt.actual_skill_hash,
    }


def import_jsonl(store: Store, path: Path) -> ImportSummary:
    """Add the runs and attempts in a JSONL file to `store`; re-importing adds nothing.

    The file is read in batches, all written in one transaction that a bad line rolls back,
    so a bad line writes nothing: it raises an InputError naming the file, the line and the
    field. A big file going into SQLite is validated in a worker process while this one
    writes (see `jsonl_pipeline`); the outcome is the same.
    """
    if worker_would_help(store, path):
        return merge_in_worker(store, path, _bound_batches)
    return store.merge_batches(_merge_batches(path))


def read_attempt_lines(path: Path) -> list[AttemptLine]:
    """Every line of a JSONL file, validated; blank lines are skipped."""
    return [attempt_line for _, attempt_line in _validated_lines(path)]


def _merge_batches(path: Path) -> Iterator[MergeBatch]:
    """The file's runs and attempt rows (`schema.attempt_to_row`'s form), a batch at a time."""
    for runs, rows in _batches(path, _attempt_row):
        yield MergeBatch(runs, rows)


def _bound_batches(path: Path, bind: SqliteLineBinder) -> Iterator[MergeBatch]:
    """`_merge_batches` with each attempt already bound for SQLite: the worker's batches."""

    def bound_row(path: Path, line_number: int, attempt_line: AttemptLine) -> tuple[Any, ...]:
        started_at, finished_at = _attempt_times(path, line_number, attempt_line)
        return bind(attempt_line, started_at, finished_at)

    for runs, rows in _batches(path, bound_row):
        yield MergeBatch(runs, (), rows)


def _batches(
    path: Path, make_row: Callable[[Path, int, AttemptLine], _Row]
) -> Iterator[tuple[list[RunRecord], list[_Row]]]:
    # A batch at a time keeps memory flat however long the file is.
    seen_runs: set[str] = set()
    runs: list[RunRecord] = []
    rows: list[_Row] = []
    for line_number, attempt_line in _validated_lines(path):
        row = make_row(path, line_number, attempt_line)  # first: it checks the run's times too
        if attempt_line.run_id not in seen_runs:
            # The first line that names a run describes it; later lines only add attempts.
            seen_runs.add(attempt_line.run_id)
            runs.append(attempt_line.to_run())
        rows.append(row)
        if len(rows) == _BATCH_LINES:
            yield runs, rows
            runs, rows = [], []
    if runs or rows:
        yield runs, rows


def _validated_lines(path: Path) -> Iterator[tuple[int, AttemptLine]]:
    """Each non-blank line's number and its validated, storable attempt line."""
    # Lines of one run repeat its settings: equal settings were already found storable
    # (a NaN equals nothing, and an equal string holds the same characters).
    storable_settings: dict[str, Any] | None = None
    try:
        with path.open("rb") as lines:
            # Only "\n" ends a line: str.splitlines would also split on U+2028 and friends,
            # which JSON allows unescaped inside strings. No byte of a multi-byte UTF-8
            # character is "\n", so each line can be decoded on its own.
            for line_number, raw_line in enumerate(lines, start=1):
                try:
                    text = raw_line.decode("utf-8-sig" if line_number == 1 else "utf-8")
                except UnicodeDecodeError:
                    raise InputError(path, "not UTF-8 text", line=line_number) from None
                line = text.removesuffix("\n").removesuffix("\r")
                if not line.strip():
                    continue
                attempt_line = _parse_line(path, line_number, line)
                if attempt_line.settings != storable_settings:
                    _check_storable(path, line_number, "settings", attempt_line.settings)
                    storable_settings = attempt_line.settings
                yield line_number, attempt_line
    except OSError as error:
        raise InputError(path, f"cannot read: {error.strerror or error}") from None


def _parse_line(path: Path, line_number: int, line: str) -> AttemptLine:
    try:
        attempt_line: AttemptLine = _validate_line_json(line)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        message = first["msg"]
        if first["type"] == "json_invalid":
            message = f"not valid JSON ({first['ctx']['error']})" if "ctx" in first else message
        raise InputError(path, message, line=line_number, field=field) from None
    # A NUL can only come from a raw NUL or the escape \u0000 (a backslash is rare, and
    # searching for one character is cheap), and every float field but the free-form
    # settings (which the caller checks) is already checked finite.
    if "\x00" in line or ("\\" in line and "\\u0000" in line):
        for name in _FIELD_NAMES:
            _check_storable(path, line_number, name, getattr(attempt_line, name))
    return attempt_line


def _check_storable(path: Path, line_number: int, name: str, value: object) -> None:
    problem = _unstorable(value)
    if problem:
        raise InputError(path, problem, line=line_number, field=name)


def _attempt_row(path: Path, line_number: int, attempt_line: AttemptLine) -> dict[str, Any]:
    """`schema.attempt_to_row(attempt_line.to_attempt())`, without the record in between."""
    started_at, finished_at = _attempt_times(path, line_number, attempt_line)
    values = attempt_line.__dict__
    row = {name: values[name] for name in _ATTEMPT_ROW_FIELDS}
    row["verdict"] = str(attempt_line.verdict)
    row["input_hash"] = input_hash(attempt_line.input)
    row["started_at"] = _utc(started_at)
    row["finished_at"] = _utc(finished_at)
    row["retry_log"] = [
        {"error_type": e.error_type, "http_status": e.http_status, "wait_s": e.wait_s}
        for e in attempt_line.retry_log
    ]
    return row


def _attempt_times(
    path: Path, line_number: int, attempt_line: AttemptLine
) -> tuple[datetime, datetime]:
    """The attempt's start and finish (start plus latency if missing), in any zone.

    Every time of the line is first checked to stay within datetime's range (years 1 to
    9999) once converted to UTC.
    """
    values = attempt_line.__dict__
    # A zone moves a moment by less than a day, so only the first and last years can leave
    # the range: the other lines skip the conversion.
    for name in _TIME_FIELDS:
        moment = values[name]
        if moment is not None and moment.year in _EDGE_YEARS:
            _in_utc(path, line_number, name, moment)
    started_at: datetime = values["started_at"]
    finished_at: datetime | None = values["finished_at"]
    if finished_at is not None:
        return started_at, finished_at
    try:
        return started_at, _utc(started_at) + timedelta(seconds=attempt_line.latency_s)
    except OverflowError:
        raise InputError(
            path, "started_at plus latency_s is out of range", line=line_number, field="latency_s"
        ) from None


def _in_utc(path: Path, line_number: int, name: str, moment: datetime) -> datetime:
    try:
        return _utc(moment)
    except OverflowError:
        raise InputError(
            path, "out of range once converted to UTC", line=line_number, field=name
        ) from None


def _unstorable(value: object) -> str | None:
    # PostgreSQL text and json cannot hold NUL, nor json a NaN; refuse them on every backend
    # so a file imports the same everywhere.
    if value is None or type(value) is int or type(value) is bool:
        return None  # the common settings values, answered before the isinstance chain
    if isinstance(value, str):
        return "contains a NUL character" if "\x00" in value else None
    if isinstance(value, float):
        return None if math.isfinite(value) else "not a finite number"
    if isinstance(value, dict):
        for key, item in value.items():
            problem = _unstorable(key) or _unstorable(item)
            if problem:
                return problem
    if isinstance(value, list):
        for item in value:
            problem = _unstorable(item)
            if problem:
                return problem
    return None


def _dump_line(value: dict[str, Any]) -> str:
    text = json.dumps(
        value, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    )
    return text + "\n"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
