"""SQL expressions the read paths share, written once for SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Float, String, case, func
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


def sum_if(condition: ColumnElement[bool], value: Any = 1) -> ColumnElement[Any]:
    """SUM(CASE WHEN condition THEN value ELSE 0 END)."""
    return func.sum(case((condition, value), else_=0))


def verdict_sums(verdict: ColumnElement[Any] | None = None) -> list[ColumnElement[Any]]:
    """SUM expressions counting passed, failed and errored attempts, in that order.

    `verdict` defaults to `attempts.verdict`; a subquery passes its own column.
    """
    column = schema.attempts.c.verdict if verdict is None else verdict
    return [
        sum_if(column == str(outcome)) for outcome in (Verdict.PASS, Verdict.FAIL, Verdict.ERROR)
    ]
