"""A run as a bundle of JSON Lines (see `bundle_lines`), and bundles back into a store.

Export then import into an empty store then export again gives the same bytes. An import
is idempotent, streams in batches inside one transaction, and writes nothing when any line
is bad; files of attempt lines only (bundle version 1) import as before.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import MAXYEAR, MINYEAR, UTC, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from routelens.errors import InputError
from routelens.store.bundle_lines import (
    ATTEMPT_ROW_FIELDS,
    BUNDLE_VERSION,
    KIND_BUNDLE,
    KIND_CASE,
    KIND_RUN,
    KIND_SKILL,
    RUN_IDENTITY_FIELDS,
    AttemptLine,
    BundleHeader,
    CaseLine,
    RetryLine,
    RunFields,
    RunLine,
    SkillLine,
    attempt_line_dict,
    case_line,
    dump_attempt_line,
    header_line,
    run_fields_dict,
    run_line,
    skill_line,
)
from routelens.store.jsonl_pipeline import SqliteLineBinder, merge_in_worker, worker_would_help
from routelens.store.merge import ImportSummary, MergeBatch
from routelens.store.nul_text import NUL, replace_nul
from routelens.store.records import RunCaseRecord, RunRecord, RunSkillRecord
from routelens.store.run_progress import SHARDS_SETTING
from routelens.store.sqlstore import Store
from routelens.suite.hashing import input_hash

__all__ = ["AttemptLine", "ImportSummary", "attempt_line_dict", "export_run_jsonl", "import_jsonl"]

# Lines are validated and written this many at a time, inside the import's one transaction.
_BATCH_LINES = 10_000
_EDGE_YEARS = (MINYEAR, MAXYEAR)
# `AttemptLine.model_validate_json` without the wrapper that checks options we never pass
# (about 0.4 of the 8 to 11 µs a line's validation takes).
_validate_line_json = AttemptLine.__pydantic_validator__.validate_json
_run_identity = itemgetter(*RUN_IDENTITY_FIELDS)
_Row = TypeVar("_Row")
_TIME_FIELDS = ("run_started_at", "run_finished_at", "started_at", "finished_at")
_RECORD_LINES: dict[str, type[BaseModel]] = {
    KIND_BUNDLE: BundleHeader,
    KIND_RUN: RunLine,
    KIND_SKILL: SkillLine,
    KIND_CASE: CaseLine,
}
# a run's fields as a stored run record names them, for comparing a file with the store
_RUN_RECORD_FIELDS = {"run_started_at": "started_at"}


def export_run_jsonl(store: Store, run_id: str, out: Path) -> int:
    """Write a run as a bundle to `out` (folders are created); returns its attempt count."""
    run = store.get_run(run_id)
    if run is None:
        raise InputError(store.display_url, f"no run {run_id!r} in this store", field="run_id")
    if out.is_dir():
        raise InputError(out, "a folder, not a file: name the bundle to write", field="out")
    out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with out.open("wb") as bundle:
        bundle.write(header_line().encode("utf-8"))
        bundle.write(run_line(run).encode("utf-8"))
        for skill in store.run_skills(run_id):
            bundle.write(skill_line(skill).encode("utf-8"))
        for case in store.run_cases(run_id):
            bundle.write(case_line(case).encode("utf-8"))
        for attempt in store.attempts(run_id):
            bundle.write(dump_attempt_line(attempt_line_dict(run, attempt)).encode("utf-8"))
            count += 1
    return count


def import_jsonl(store: Store, path: Path) -> ImportSummary:
    """Add the runs, skills, cases and attempts of a bundle to `store`; re-importing adds
    nothing, and an attempt offered again with another verdict is reported as a conflict.

    The file is read in batches, all written in one transaction that a bad line rolls back,
    so a bad line writes nothing: it raises an InputError naming the file, the line and the
    field. So does a run described two ways (in the file, or against the store). A big
    file going into SQLite is validated in a worker process while this one writes (see
    `jsonl_pipeline`); the outcome is the same.
    """

    def checked(batches: Iterable[MergeBatch]) -> Iterator[MergeBatch]:
        return _checked_against_store(store, path, batches)

    if worker_would_help(store, path):
        return merge_in_worker(store, path, _bound_batches, checked)
    return store.merge_batches(checked(_merge_batches(path)))


def read_attempt_lines(path: Path) -> list[AttemptLine]:
    """Every attempt line of a JSONL file, validated; blank lines are skipped."""
    return [line for _, line in _validated_lines(path) if isinstance(line, AttemptLine)]


def _merge_batches(path: Path) -> Iterator[MergeBatch]:
    """The file's runs, skills, cases and attempt rows (`schema.attempt_to_row`'s form)."""
    yield from _batches(path, _attempt_row, lambda pending: pending.batch(bound=False))


def _bound_batches(path: Path, bind: SqliteLineBinder) -> Iterator[MergeBatch]:
    """`_merge_batches` with each attempt already bound for SQLite: the worker's batches."""

    def bound_row(path: Path, line_number: int, attempt_line: AttemptLine) -> tuple[Any, ...]:
        started_at, finished_at = _attempt_times(path, line_number, attempt_line)
        return bind(attempt_line, started_at, finished_at)

    yield from _batches(path, bound_row, lambda pending: pending.batch(bound=True))


@dataclass
class _Pending:
    runs: list[RunRecord] = field(default_factory=list)
    skills: list[RunSkillRecord] = field(default_factory=list)
    cases: list[RunCaseRecord] = field(default_factory=list)
    rows: list[Any] = field(default_factory=list)
    run_lines: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows) + len(self.skills) + len(self.cases)

    def batch(self, *, bound: bool) -> MergeBatch:
        return MergeBatch(
            self.runs,
            () if bound else self.rows,
            self.rows if bound else (),
            skills=self.skills,
            cases=self.cases,
            run_lines=self.run_lines,
        )


_ParsedLine = AttemptLine | RunLine | SkillLine | CaseLine


def _batches(
    path: Path,
    make_row: Callable[[Path, int, AttemptLine], _Row],
    emit: Callable[[_Pending], MergeBatch],
) -> Iterator[MergeBatch]:
    # A batch at a time keeps memory flat however long the file is.
    described: dict[str, tuple[tuple[Any, ...], int]] = {}
    pending = _Pending()
    for line_number, line in _validated_lines(path):
        if isinstance(line, AttemptLine):
            pending.rows.append(make_row(path, line_number, line))  # first: it checks times
            _note_run(described, pending, path, line_number, line)
        elif isinstance(line, RunLine):
            _in_utc(path, line_number, "run_started_at", line.run_started_at)
            if line.run_finished_at is not None:
                _in_utc(path, line_number, "run_finished_at", line.run_finished_at)
            _note_run(described, pending, path, line_number, line)
        else:
            if line.run_id not in described:
                raise InputError(
                    path,
                    f"run {line.run_id!r} is not described before this line (a run line or "
                    "an attempt line of it comes first)",
                    line=line_number,
                    field="run_id",
                )
            if isinstance(line, SkillLine):
                pending.skills.append(line.to_record())
            else:
                pending.cases.append(line.to_record())
        if len(pending) >= _BATCH_LINES:
            yield emit(pending)
            pending = _Pending()
    if pending.runs or len(pending):
        yield emit(pending)


def _note_run(
    described: dict[str, tuple[tuple[Any, ...], int]],
    pending: _Pending,
    path: Path,
    line_number: int,
    line: RunFields,
) -> None:
    """The first line naming a run describes it; every later one must agree (defect: a file
    that mixed two runs under one id was imported with the first line's fields)."""
    identity = _run_identity(line.__dict__)
    first = described.get(line.run_id)
    if first is None:
        described[line.run_id] = (identity, line_number)
        pending.runs.append(line.to_run())
        pending.run_lines[line.run_id] = line_number
        return
    if identity == first[0]:
        return
    for name, here, there in zip(RUN_IDENTITY_FIELDS, identity, first[0], strict=True):
        if here != there:
            raise InputError(
                path,
                f"run {line.run_id!r} has {name} {_shown(here)} here but {_shown(there)} at "
                f"line {first[1]}: one run id, two runs",
                line=line_number,
                field=name,
            )


def _checked_against_store(
    store: Store, path: Path, batches: Iterable[MergeBatch]
) -> Iterator[MergeBatch]:
    """Each batch, after checking that a run the store already holds is the same run."""
    for batch in batches:
        for run in batch.runs:
            stored = store.get_run(run.run_id)
            if stored is None:
                continue
            offered = _shard_part_fields(run_fields_dict(run))
            kept = _shard_part_fields(run_fields_dict(stored))
            for name in RUN_IDENTITY_FIELDS:
                if offered[name] != kept[name]:
                    raise InputError(
                        path,
                        f"run {run.run_id!r} is in the store with {name} {_shown(kept[name])}; "
                        f"this file says {_shown(offered[name])}",
                        line=batch.run_lines.get(run.run_id),
                        field=name,
                    )
        yield batch


def _shard_part_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """A run's fields, less what the parts of one sharded run may disagree on: each shard
    in its own store started the run at its own time and knows only its own completion."""
    record = (fields.get("settings") or {}).get(SHARDS_SETTING)
    if not isinstance(record, dict):
        return fields
    shared = {key: value for key, value in record.items() if key != "finished"}
    settings = {**fields["settings"], SHARDS_SETTING: shared}
    return {**fields, "run_started_at": None, "settings": settings}


def _shown(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return repr(value)


def _validated_lines(path: Path) -> Iterator[tuple[int, _ParsedLine]]:
    """Each non-blank line's number and its validated, storable content."""
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
                parsed = _parse_line(path, line_number, line)
                if parsed is None:
                    continue  # the bundle header
                if isinstance(parsed, RunFields) and parsed.settings != storable_settings:
                    _check_finite(path, line_number, "settings", parsed.settings)
                    storable_settings = parsed.settings
                yield line_number, parsed
    except OSError as error:
        raise InputError(path, f"cannot read: {error.strerror or error}") from None


def _parse_line(path: Path, line_number: int, line: str) -> _ParsedLine | None:
    try:
        attempt_line: AttemptLine = _validate_line_json(line)
    except ValidationError as error:
        matched, record = _record_line(path, line_number, line)
        if not matched:
            raise _line_error(path, line_number, error) from None
        return record
    # A NUL can only come from a raw NUL or the escape \u0000 (a backslash is rare, and
    # searching for one character is cheap).
    if NUL in line or ("\\" in line and "\\u0000" in line):
        return _without_nul(attempt_line)
    return attempt_line


def _record_line(path: Path, line_number: int, line: str) -> tuple[bool, _ParsedLine | None]:
    """Whether the line is a bundle's header, run, skill or case line, and what it holds
    (None for the header). A line that is none of them is left to its attempt-line error."""
    try:
        data = json.loads(line)
    except ValueError:
        return False, None
    kind = data.get("kind") if isinstance(data, dict) else None
    model = _RECORD_LINES.get(kind) if isinstance(kind, str) else None
    if model is None:
        return False, None
    try:
        record = model.model_validate_json(line)
    except ValidationError as error:
        raise _line_error(path, line_number, error) from None
    if isinstance(record, BundleHeader):
        if line_number != 1:
            raise InputError(path, "a bundle header must be the first line", line=line_number)
        if record.version > BUNDLE_VERSION:
            raise InputError(
                path,
                f"bundle version {record.version} is newer than this routelens reads "
                f"({BUNDLE_VERSION}); upgrade routelens",
                line=line_number,
                field="version",
            )
        return True, None
    if NUL in line or "\\u0000" in line:
        record = _without_nul(record)
    assert isinstance(record, RunLine | SkillLine | CaseLine)
    return True, record


def _line_error(path: Path, line_number: int, error: ValidationError) -> InputError:
    first = error.errors(include_url=False)[0]
    field_name = ".".join(str(part) for part in first["loc"]) or None
    message = first["msg"]
    if first["type"] == "json_invalid":
        message = f"not valid JSON ({first['ctx']['error']})" if "ctx" in first else message
    return InputError(path, message, line=line_number, field=field_name)


_Model = TypeVar("_Model", bound=BaseModel)


def _without_nul(line: _Model) -> _Model:
    """The line with NUL replaced in its text; an attempt is flagged `nul_replaced`."""
    changes: dict[str, Any] = {
        name: _clean(value) for name, value in line.__dict__.items() if _has_nul(value)
    }
    if not changes:
        return line
    if isinstance(line, AttemptLine):
        changes["nul_replaced"] = True
    return line.model_copy(update=changes)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    if isinstance(value, RetryLine):
        return NUL in value.error_type
    return False


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return replace_nul(value)
    if isinstance(value, dict):
        return {_clean(key): _clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if isinstance(value, RetryLine):
        return value.model_copy(update={"error_type": replace_nul(value.error_type)})
    return value


def _check_finite(path: Path, line_number: int, name: str, value: object) -> None:
    if not _all_finite(value):
        raise InputError(path, "not a finite number", line=line_number, field=name)


def _all_finite(value: object) -> bool:
    # JSON columns cannot hold a NaN or an infinity on PostgreSQL; refuse them everywhere so
    # a file imports the same on both backends.
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_all_finite(item) for item in value.values())
    if isinstance(value, list):
        return all(_all_finite(item) for item in value)
    return True


def _attempt_row(path: Path, line_number: int, attempt_line: AttemptLine) -> dict[str, Any]:
    """`schema.attempt_to_row(attempt_line.to_attempt())`, without the record in between."""
    started_at, finished_at = _attempt_times(path, line_number, attempt_line)
    values = attempt_line.__dict__
    row = {name: values[name] for name in ATTEMPT_ROW_FIELDS}
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
    if moment.year not in _EDGE_YEARS:
        return moment
    try:
        return _utc(moment)
    except OverflowError:
        raise InputError(
            path, "out of range once converted to UTC", line=line_number, field=name
        ) from None


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
