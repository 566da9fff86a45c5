"""SQL expressions the read paths share, written once for SQLite and PostgreSQL."""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Integer,
    String,
    Table,
    case,
    func,
    literal_column,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from routelens.store import schema
from routelens.store.records import Verdict


class utc_day(FunctionElement[str]):  # lower case: it reads as a SQL function
    """The UTC calendar day of a timestamp as `YYYY-MM-DD` text, on SQLite and PostgreSQL.

    SQLite keeps naive UTC text, so `date()` is the UTC day; PostgreSQL's `timestamptz`
    is moved to UTC first so the session's time zone cannot shift a day. The SQL has no
    bound parameters, so the same expression can sit in SELECT and GROUP BY.
    """

    type = String()
    name = "utc_day"
    inherit_cache = True


@compiles(utc_day)
def _utc_day_default(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    inner = compiler.process(element.clauses, **kw)
    return f"to_char(({inner}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


def day_of(value: str | date) -> date:
    """A `utc_day` result as a date (drivers may hand back text or a date)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


class epoch_seconds(FunctionElement[float]):  # lower case: it reads as a SQL function
    """Unix seconds of a stored timestamp, on SQLite (naive UTC text) and PostgreSQL."""

    type = Float()
    name = "epoch_seconds"
    inherit_cache = True


@compiles(epoch_seconds)
def _epoch_seconds_sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    # 2440587.5 is the Julian day of 1970-01-01T00:00:00Z.
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


@compiles(epoch_seconds, "postgresql")
def _epoch_seconds_postgresql(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return (
        f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS DOUBLE PRECISION)"
    )


Insert = postgresql.Insert | sqlite.Insert
"""An INSERT that knows its dialect's ON CONFLICT."""


def dialect_insert(connection: Connection, table: Table) -> Insert:
    """An INSERT that knows the connection's dialect's ON CONFLICT."""
    return insert_for(connection.dialect.name, table)


def insert_for(dialect: str, table: Table) -> Insert:
    """An INSERT that knows the dialect's ON CONFLICT (`dialect`: its name)."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def sum_if(condition: ColumnElement[bool], value: Any = 1) -> ColumnElement[Any]:
    """SUM(CASE WHEN condition THEN value ELSE 0 END)."""
    return func.sum(case((condition, value), else_=0))


def verdict_sums(
    verdict: ColumnElement[Any] | None = None, count: Any = 1
) -> list[ColumnElement[Any]]:
    """SUM expressions counting passed, failed and errored attempts, in that order.

    `verdict` defaults to `attempts.verdict`; a subquery passes its own column. `count` is
    what each row counts for (a rollup row: its `attempts`).
    """
    column = schema.attempts.c.verdict if verdict is None else verdict
    return [
        sum_if(column == str(outcome), count)
        for outcome in (Verdict.PASS, Verdict.FAIL, Verdict.ERROR)
    ]


class utc_hour(FunctionElement[str]):  # lower case: it reads as a SQL function
    """The UTC hour of a timestamp as `YYYY-MM-DD HH` text, on SQLite and PostgreSQL.

    Its first ten characters are `utc_day`'s; the text sorts in time order. SQLite keeps
    timestamps as `YYYY-MM-DD HH:MM:SS.ffffff` text in UTC, whose first 13 characters are the
    hour (`strftime` would refuse the last microsecond of 9999).
    """

    type = String()
    name = "utc_hour"
    inherit_cache = True


@compiles(utc_hour)
def _utc_hour_default(element: utc_hour, compiler: SQLCompiler, **kw: Any) -> str:
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 13)"


@compiles(utc_hour, "postgresql")
def _utc_hour_postgresql(element: utc_hour, compiler: SQLCompiler, **kw: Any) -> str:
    inner = compiler.process(element.clauses, **kw)
    return f"to_char(({inner}) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"


def hour_key(moment: datetime) -> str:
    """`utc_hour` of an aware timestamp, computed in Python.

    >>> hour_key(datetime(2025, 3, 1, 7, 59, 59, tzinfo=UTC))
    '2025-03-01 07'
    """
    moment = moment.astimezone(UTC)
    return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} {moment.hour:02d}"


def day_of_hour(hour: ColumnElement[Any]) -> ColumnElement[str]:
    """The `utc_day` text of a `utc_hour` column: its first ten characters.

    The positions are written out, not bound, so PostgreSQL matches it in GROUP BY.
    """
    return func.substr(hour, literal_column("1"), literal_column("10"), type_=String())


class scalar_min(FunctionElement[Any]):  # lower case: it reads as a SQL function
    """The smaller of two values (SQLite's two-argument `min`, PostgreSQL's `LEAST`); NULL
    only when both are."""

    name = "scalar_min"
    inherit_cache = True


class scalar_max(FunctionElement[Any]):  # lower case: it reads as a SQL function
    """The larger of two values (SQLite's two-argument `max`, PostgreSQL's `GREATEST`)."""

    name = "scalar_max"
    inherit_cache = True


@compiles(scalar_min)
def _scalar_min_sqlite(element: scalar_min, compiler: SQLCompiler, **kw: Any) -> str:
    first, second = (compiler.process(clause, **kw) for clause in element.clauses)
    # SQLite's min(a, b) is NULL when either is; coalesce keeps the other value.
    return f"min(coalesce({first}, {second}), coalesce({second}, {first}))"


@compiles(scalar_min, "postgresql")
def _scalar_min_postgresql(element: scalar_min, compiler: SQLCompiler, **kw: Any) -> str:
    return f"LEAST({compiler.process(element.clauses, **kw)})"


@compiles(scalar_max)
def _scalar_max_sqlite(element: scalar_max, compiler: SQLCompiler, **kw: Any) -> str:
    first, second = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"max(coalesce({first}, {second}), coalesce({second}, {first}))"


@compiles(scalar_max, "postgresql")
def _scalar_max_postgresql(element: scalar_max, compiler: SQLCompiler, **kw: Any) -> str:
    return f"GREATEST({compiler.process(element.clauses, **kw)})"


LOG_BUCKETS_PER_DOUBLING = 32
"""Latency histograms in the rollups split each doubling into this many buckets (Prometheus'
native histogram schema 5): a bucket's upper bound is 2^(1/32) = 1.0219 times its lower."""
ZERO_BUCKET = -(2**31)
"""The bucket of latencies that are zero or negative (no logarithm)."""


def log_bucket(value: float) -> int:
    """The log bucket of a latency: ceil(log2(value) x 32), `ZERO_BUCKET` when not positive.

    Bucket i holds the values in (2^((i - 1)/32), 2^(i/32)].
    """
    if not value > 0:
        return ZERO_BUCKET
    return math.ceil(math.log2(value) * LOG_BUCKETS_PER_DOUBLING)


def log_bucket_bounds(bucket: int) -> tuple[float, float]:
    """The (lower, upper] bounds of a log bucket (0, 0 for the zero bucket)."""
    if bucket == ZERO_BUCKET:
        return 0.0, 0.0
    return 2 ** ((bucket - 1) / LOG_BUCKETS_PER_DOUBLING), 2 ** (bucket / LOG_BUCKETS_PER_DOUBLING)


class latency_log_bucket(FunctionElement[int]):  # lower case: it reads as a SQL function
    """`log_bucket` in SQL, on SQLite (whose math functions `register_sqlite_functions`
    supplies where the library lacks them) and PostgreSQL."""

    type = Integer()
    name = "latency_log_bucket"
    inherit_cache = True


@compiles(latency_log_bucket)
def _log_bucket_sqlite(element: latency_log_bucket, compiler: SQLCompiler, **kw: Any) -> str:
    value = compiler.process(element.clauses, **kw)
    return (
        f"CASE WHEN {value} > 0 THEN CAST(ceil(log2({value}) * {LOG_BUCKETS_PER_DOUBLING}) "
        f"AS INTEGER) ELSE {ZERO_BUCKET} END"
    )


@compiles(latency_log_bucket, "postgresql")
def _log_bucket_postgresql(element: latency_log_bucket, compiler: SQLCompiler, **kw: Any) -> str:
    value = compiler.process(element.clauses, **kw)
    return (
        f"CASE WHEN {value} > 0 THEN CAST(ceil(ln({value}) / ln(2.0) * "
        f"{LOG_BUCKETS_PER_DOUBLING}) AS INTEGER) ELSE {ZERO_BUCKET} END"
    )


def register_sqlite_functions(connection: sqlite3.Connection) -> None:
    """Give a SQLite connection the math functions the store's SQL calls (`log2`, `ceil`),
    as Python functions, when its library was built without them. Nothing is written."""
    try:
        connection.execute("SELECT log2(2.0), ceil(0.5)").fetchone()
    except sqlite3.OperationalError:
        connection.create_function("log2", 1, _python_log2, deterministic=True)
        connection.create_function("ceil", 1, _python_ceil, deterministic=True)


def _python_log2(value: float | None) -> float | None:
    return None if value is None or not value > 0 else math.log2(value)


def _python_ceil(value: float | None) -> int | None:
    return None if value is None else math.ceil(value)
