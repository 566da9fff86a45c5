"""The rollup tables (schema v8): attempts summed per UTC hour and run, kept current by every
write path (`store/rollup_writes.py`) and read by the analytics (`store/rollup_reads.py`).

Each table's key is an hour (`utc_hour`: `YYYY-MM-DD HH` text), a run and a few attributes of
its attempts; its other columns are sums, counts, minimums or maximums over the attempts with
that key. A key column may be NULL (an attempt without an expected skill, a retry without
an HTTP status), so the unique index that upserts find a row by holds `coalesce(column, '')`
and `column IS NULL` for such columns: NULL and the empty text stay two keys.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    func,
    literal_column,
)
from sqlalchemy.sql.elements import Grouping

from routelens.store.schema import UTCDateTime, metadata


def _run_id() -> Column[str]:
    return Column("run_id", String, ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False)


attempt_rollups = Table(
    "attempt_rollups",
    metadata,
    Column("hour", String, nullable=False),
    _run_id(),
    Column("category", String, nullable=False),
    Column("expected_skill", String, nullable=True),
    Column("expected_skill_hash", String, nullable=True),
    Column("actual_skill", String, nullable=True),
    Column("asked_clarification", Boolean, nullable=False),
    Column("verdict", String, nullable=False),
    Column("attempts", BigInteger, nullable=False),
    Column("retries", BigInteger, nullable=False),
    Column("retry_wait_s", Double, nullable=False),
    Column("cost_usd", Double, nullable=False),
    # token sums are floats: a store may hold counts whose integer sum would overflow
    Column("input_tokens", Double, nullable=False),
    Column("output_tokens", Double, nullable=False),
    Column("cache_read_tokens", Double, nullable=False),
    Column("cache_write_tokens", Double, nullable=False),
    # errors that ended with HTTP 429 or 529, and with another 5xx status
    Column("rate_limited_errors", BigInteger, nullable=False),
    Column("server_errors", BigInteger, nullable=False),
    Column("busy_s", Double, nullable=False),  # the sum of finished - started, in seconds
    Column("options_score_sum", Double, nullable=False),
    Column("options_scored", BigInteger, nullable=False),  # attempts with an options score
    Column("first_started_at", UTCDateTime, nullable=False),
    Column("last_finished_at", UTCDateTime, nullable=False),
)

cost_rollups = Table(
    "cost_rollups",
    metadata,
    Column("hour", String, nullable=False),
    _run_id(),
    # round(cost_usd x 1e8): per-attempt costs to 1e-8 USD, for the median and MAD of `cost`
    Column("cost_units", Double, nullable=False),
    Column("attempts", BigInteger, nullable=False),
)

latency_rollups = Table(
    "latency_rollups",
    metadata,
    Column("hour", String, nullable=False),
    _run_id(),
    Column("decided", Boolean, nullable=False),  # pass or fail (not an error)
    # the exporter's histogram: latency less retry waits, in its buckets (`rollups.api_bucket`)
    Column("api_bucket", Integer, nullable=False),
    Column("api_seconds", Double, nullable=False),  # the sum of latency less retry waits
    # the SRE view's percentiles: latency in log buckets (`sql_functions.log_bucket`)
    Column("log_bucket", Integer, nullable=False),
    Column("min_s", Double, nullable=False),
    Column("max_s", Double, nullable=False),
    Column("attempts", BigInteger, nullable=False),
)

retry_rollups = Table(
    "retry_rollups",
    metadata,
    Column("hour", String, nullable=False),
    _run_id(),
    Column("http_status", Integer, nullable=True),
    Column("error_type", String, nullable=True),
    # False: attempts stored before schema v2 counted `retries` without a log
    Column("logged", Boolean, nullable=False),
    # whether the attempt's own `retries` count is above 0 (the SRE view counts only those)
    Column("attempt_retried", Boolean, nullable=False),
    Column("retries", BigInteger, nullable=False),
)


disambiguation_rollups = Table(
    "disambiguation_rollups",
    metadata,
    # attempts of disambiguation cases, per case: how often they asked, and the
    # options-named scores of all of them and of those that asked
    Column("hour", String, nullable=False),
    _run_id(),
    Column("case_id", String, nullable=False),
    Column("decided", Boolean, nullable=False),  # pass or fail (not an error)
    Column("attempts", BigInteger, nullable=False),
    Column("clarified", BigInteger, nullable=False),
    Column("options_score_sum", Double, nullable=False),
    Column("options_scored", BigInteger, nullable=False),
    Column("clarified_options_score_sum", Double, nullable=False),
    Column("clarified_options_scored", BigInteger, nullable=False),
)


def key_elements(table: Table, keys: tuple[str, ...]) -> list[ColumnElement[object]]:
    """The unique index's elements for these key columns (NULL-safe for nullable ones)."""
    elements: list[ColumnElement[object]] = []
    for name in keys:
        column = table.c[name]
        if not column.nullable:
            elements.append(column)
            continue
        # written out, not bound: PostgreSQL matches ON CONFLICT's elements to the index's
        empty: ColumnElement[object] = literal_column(
            "''" if isinstance(column.type, String) else "0"
        )
        # PostgreSQL wants an index expression that is not a function call in parentheses
        is_null: ColumnElement[object] = Grouping(column.is_(None))  # type: ignore[arg-type]
        elements += [func.coalesce(column, empty), is_null]
    return elements


ROLLUP_KEYS: dict[str, tuple[str, ...]] = {
    attempt_rollups.name: (
        "run_id",
        "hour",
        "category",
        "expected_skill",
        "expected_skill_hash",
        "actual_skill",
        "asked_clarification",
        "verdict",
    ),
    cost_rollups.name: ("run_id", "hour", "cost_units"),
    latency_rollups.name: ("run_id", "hour", "decided", "api_bucket", "log_bucket"),
    disambiguation_rollups.name: ("run_id", "hour", "case_id", "decided"),
    retry_rollups.name: (
        "run_id",
        "hour",
        "http_status",
        "error_type",
        "logged",
        "attempt_retried",
    ),
}
"""Each rollup table's key, run first (the index also serves a run's rows)."""

ROLLUP_TABLES = (
    attempt_rollups,
    cost_rollups,
    latency_rollups,
    retry_rollups,
    disambiguation_rollups,
)

for _table in ROLLUP_TABLES:
    Index(
        f"ux_{_table.name}_key",
        *key_elements(_table, ROLLUP_KEYS[_table.name]),
        unique=True,
    )
    Index(f"ix_{_table.name}_hour", _table.c.hour)
