"""The store's tables (SQLAlchemy Core), and the conversions between their rows and the records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    RowMapping,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.sql.expression import false
from sqlalchemy.types import TypeDecorator

from routelens.store.records import (
    AttemptRecord,
    RetryEvent,
    RunCaseRecord,
    RunRecord,
    RunSkillRecord,
    RunStatus,
    Verdict,
)
from routelens.suite.hashing import input_hash


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware in UTC.

    SQLite has no timestamp type: it keeps naive UTC text, which sorts correctly and which
    this type marks as UTC again on the way out. PostgreSQL keeps `timestamptz`.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalise to UTC; a naive datetime is refused because its instant is unknown."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored; add a tzinfo")
        as_utc = value.astimezone(UTC)
        return as_utc.replace(tzinfo=None) if dialect.name == "sqlite" else as_utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Mark SQLite's naive text as UTC, and convert PostgreSQL's session zone to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


FLAKY_HISTORY_INDEX = "ix_attempts_flaky_history"
"""The covering index (case, input hash, time, run, verdict) that `routelens flaky` reads."""

# Named constraints keep future migrations (and SQLite table rebuilds) predictable.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
_SURROGATE_KEY = BigInteger().with_variant(Integer(), "sqlite")

# Plain JSON (not JSONB) keeps the text as written, so floats and key order round-trip.
_JSON_OBJECT = JSON(none_as_null=True)

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", Text, nullable=False),
    Column("applied_at", UTCDateTime, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", String, primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("status", String, nullable=False),
    Column("router", String, nullable=False),
    Column("model", String, nullable=True),
    Column("skills_hash", String, nullable=False),
    Column("suite_hash", String, nullable=False),
    Column("suite_name", String, nullable=False),
    Column("suite_version", String, nullable=True),
    Column("skills_dir", Text, nullable=True),
    Column("cases_path", Text, nullable=True),
    Column("git_commit", String, nullable=True),
    Column("git_branch", String, nullable=True),
    Column("environment", String, nullable=True),
    Column("labels", _JSON_OBJECT, nullable=False),
    Column("settings", _JSON_OBJECT, nullable=False),
    Index(None, "started_at"),
)

run_skills = Table(
    "run_skills",
    metadata,
    Column(
        "run_id",
        String,
        ForeignKey("runs.run_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # The path is the one thing two skills of a folder can never share.
    Column("path", Text, primary_key=True),
    Column("name", String, nullable=False),
    Column("folder_name", String, nullable=False),
    Column("content_hash", String, nullable=False),
    Column("description", Text, nullable=False),
)

run_cases = Table(
    "run_cases",
    metadata,
    Column(
        "run_id",
        String,
        ForeignKey("runs.run_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("case_id", String, primary_key=True),
    Column("category", String, nullable=False),
    Column("position", Integer, nullable=False),
    Column("definition", _JSON_OBJECT, nullable=False),
)

attempts = Table(
    "attempts",
    metadata,
    Column("attempt_id", _SURROGATE_KEY, primary_key=True, autoincrement=True),
    Column("run_id", String, ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False),
    Column("case_id", String, nullable=False),
    Column("repeat_index", Integer, nullable=False),
    Column("category", String, nullable=False),
    Column("input", Text, nullable=False),
    Column("expected_skill", String, nullable=True),
    Column("actual_skill", String, nullable=True),
    Column("verdict", String, nullable=False),
    Column("asked_clarification", Boolean, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("latency_s", Double, nullable=False),
    Column("worker_id", Integer, nullable=False),
    Column("sequence_number", Integer, nullable=False),
    Column("error_type", String, nullable=True),
    Column("error_message", Text, nullable=True),
    Column("http_status", Integer, nullable=True),
    Column("retries", Integer, nullable=False),
    Column("retry_wait_s", Double, nullable=False),
    # added in schema v2: one {error_type, http_status, wait_s} per retry; NULL before v2
    Column("retry_log", _JSON_OBJECT, nullable=True),
    Column("input_tokens", BigInteger, nullable=False),
    Column("output_tokens", BigInteger, nullable=False),
    Column("cache_read_tokens", BigInteger, nullable=False),
    Column("cache_write_tokens", BigInteger, nullable=False),
    Column("cost_usd", Double, nullable=False),
    Column("confidence", Double, nullable=True),
    Column("options_score", Double, nullable=True),
    Column("commands_score", Double, nullable=True),
    Column("response_text", Text, nullable=False),
    Column("response_model", String, nullable=True),
    Column("expected_skill_hash", String, nullable=True),
    Column("actual_skill_hash", String, nullable=True),
    # added in schema v5: `suite.hashing.input_hash(input)`, so that a case's history can be
    # read in input order from an index instead of sorting the input text
    Column("input_hash", String, nullable=False),
    # added in schema v7: `requires_confirmation` cases' secondary score, and whether a NUL
    # in the attempt's text was replaced (see AttemptRecord.nul_replaced)
    Column("confirmation_score", Double, nullable=True),
    Column("nul_replaced", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("run_id", "case_id", "repeat_index"),
    # (run_id, sequence_number) serves both "one run's attempts" and their replay order.
    Index(None, "run_id", "sequence_number"),
    # Per-case history across runs (flakiness, drift) reads by case, then by time.
    Index(None, "case_id", "started_at"),
    Index(None, "started_at"),
    # added in schema v5: `routelens flaky` reads each (case, input)'s verdicts in time order
    # from this index alone (attempt_id last: the tie-break of equal start times)
    Index(
        FLAKY_HISTORY_INDEX,
        "case_id",
        "input_hash",
        "started_at",
        "sequence_number",
        "attempt_id",
        "run_id",
        "verdict",
    ),
)

experiments = Table(
    "experiments",
    metadata,
    # added in schema v3: an A/B test of two skill versions, run as two interleaved runs
    Column("name", String, primary_key=True),
    Column("status", String, nullable=False),
    Column("control", _JSON_OBJECT, nullable=False),
    Column("treatment", _JSON_OBJECT, nullable=False),
    Column("cases_path", Text, nullable=False),
    Column("router", String, nullable=False),
    Column("model", String, nullable=True),
    Column("repeat", Integer, nullable=False),
    Column("concurrency", Integer, nullable=False),
    Column("seed", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("concluded_at", UTCDateTime, nullable=True),
    Column(
        "control_run_id",
        String,
        ForeignKey("runs.run_id", ondelete="SET NULL"),
        nullable=True,
    ),
    Column(
        "treatment_run_id",
        String,
        ForeignKey("runs.run_id", ondelete="SET NULL"),
        nullable=True,
    ),
    Column("decision", String, nullable=True),
    Column("decision_reason", Text, nullable=True),
    Column("summary", _JSON_OBJECT, nullable=True),
    Index(None, "created_at"),
)

change_events = Table(
    "change_events",
    metadata,
    # added in schema v4: one row per SKILL.md per commit that touched it (`changes scan`)
    Column("event_id", _SURROGATE_KEY, primary_key=True, autoincrement=True),
    # where the history came from: the repository's top-level path as scanned
    Column("repository", Text, nullable=False),
    Column("skill", String, nullable=False),  # front-matter name (folder name if unparsable)
    Column("kind", String, nullable=False),  # added | modified | renamed | deleted
    Column("path", Text, nullable=False),  # SKILL.md path after the commit (before, if deleted)
    Column("old_path", Text, nullable=True),  # before a rename
    Column("commit_sha", String, nullable=False),
    Column("parent_sha", String, nullable=True),
    Column("author", String, nullable=False),
    Column("committed_at", UTCDateTime, nullable=False),
    Column("message", Text, nullable=False),
    Column("old_hash", String, nullable=True),  # the content hash runs record; NULL if added
    Column("new_hash", String, nullable=True),  # NULL if deleted
    Column("old_description", Text, nullable=True),
    Column("new_description", Text, nullable=True),
    Column("description_changed", Boolean, nullable=False),
    Column("lines_added", Integer, nullable=False),
    Column("lines_removed", Integer, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    # added in schema v7: the commit date's own UTC offset (NULL for events scanned before),
    # and whether the SKILL.md after the commit has front matter (NULL when deleted)
    Column("committed_utc_offset_s", Integer, nullable=True),
    Column("new_has_front_matter", Boolean, nullable=True),
    UniqueConstraint("repository", "commit_sha", "path"),
    Index(None, "skill", "committed_at"),
    Index(None, "committed_at"),
)

claude_prompts = Table(
    "claude_prompts",
    metadata,
    # added in schema v6: requests Claude Code sent, captured as templates (`claude-prompt
    # capture`) for API runs with `--router-option prompt=claude-code`
    Column("template_hash", String, primary_key=True),
    Column("claude_code_version", String, nullable=False),
    Column("model", String, nullable=False),
    Column("skills_hash", String, nullable=False),  # the skills installed at capture
    Column("bundled_skills", _JSON_OBJECT, nullable=False),  # names, in listing order
    Column("template", _JSON_OBJECT, nullable=False),
    Column("captured_at", UTCDateTime, nullable=False),
    Index(None, "captured_at"),
)

ATTEMPT_KEY_COLUMNS = ("run_id", "case_id", "repeat_index")
"""The natural key of an attempt: one row per (run, case, repeat)."""


def run_to_row(run: RunRecord) -> dict[str, Any]:
    """The `runs` row for a run record."""
    row = asdict(run)
    row["status"] = str(run.status)
    return row


def run_from_row(row: RowMapping) -> RunRecord:
    """A run record from a `runs` row."""
    values = _record_values(RunRecord, row)
    values["status"] = RunStatus(values["status"])
    return RunRecord(**values)


def skill_to_row(skill: RunSkillRecord) -> dict[str, Any]:
    """The `run_skills` row for a skill record."""
    return asdict(skill)


def skill_from_row(row: RowMapping) -> RunSkillRecord:
    """A skill record from a `run_skills` row."""
    return RunSkillRecord(**_record_values(RunSkillRecord, row))


def case_to_row(case: RunCaseRecord) -> dict[str, Any]:
    """The `run_cases` row for a case record."""
    return asdict(case)


def case_from_row(row: RowMapping) -> RunCaseRecord:
    """A case record from a `run_cases` row."""
    return RunCaseRecord(**_record_values(RunCaseRecord, row))


def attempt_to_row(attempt: AttemptRecord) -> dict[str, Any]:
    """The `attempts` row for an attempt record (without the surrogate key)."""
    row = asdict(attempt)
    row["verdict"] = str(attempt.verdict)
    row["retry_log"] = [asdict(event) for event in attempt.retry_log]
    row["input_hash"] = input_hash(attempt.input)
    return row


def attempt_from_row(row: RowMapping) -> AttemptRecord:
    """An attempt record from an `attempts` row."""
    return attempt_from_values([row[name] for name in _FIELD_NAMES[AttemptRecord]])


def attempt_record_columns() -> list[Column[Any]]:
    """The `attempts` columns of an attempt record, in its fields' order (for
    `attempt_from_values`)."""
    return [attempts.c[name] for name in _FIELD_NAMES[AttemptRecord]]


def attempt_from_values(values: Sequence[Any]) -> AttemptRecord:
    """An attempt record from the values of `attempt_record_columns()`, in that order:
    built by position, a run's thousands of rows without a dict each."""
    fields_in_order = list(values)
    fields_in_order[_VERDICT] = Verdict(fields_in_order[_VERDICT])
    logged = fields_in_order[_RETRY_LOG] or ()
    fields_in_order[_RETRY_LOG] = tuple(RetryEvent(**event) for event in logged)
    return AttemptRecord(*fields_in_order)


def _record_values(record_type: type[Any], row: RowMapping) -> dict[str, Any]:
    # Columns the record does not know (surrogate keys) are dropped here.
    return {name: row[name] for name in _FIELD_NAMES[record_type]}


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {
    record_type: tuple(record_field.name for record_field in fields(record_type))
    for record_type in (RunRecord, RunSkillRecord, RunCaseRecord, AttemptRecord)
}
"""Each record's field names: `fields()` rebuilds its list on every call, and a run page
reads thousands of rows."""
_VERDICT = _FIELD_NAMES[AttemptRecord].index("verdict")
_RETRY_LOG = _FIELD_NAMES[AttemptRecord].index("retry_log")
