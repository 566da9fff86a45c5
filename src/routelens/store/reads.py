"""Read paths for analytics: one filtered SELECT over attempts joined with their runs.

Analytics read only the columns they need, and aggregate in SQL where a million attempts
would otherwise cross into Python; the statistics themselves stay pure functions over the
rows these queries return.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, literal_column, select, type_coerce

from routelens.analytics.window import AttemptFilter
from routelens.store import schema


def filter_conditions(
    attempt_filter: AttemptFilter, *, sqlite_time_index: bool = True
) -> list[ColumnElement[bool]]:
    """WHERE conditions for a filter, over `attempts` joined with `runs`.

    `sqlite_time_index=False` (SQLite only) keeps SQLite from reading the window through
    the start-time index, so that it can read through an index that orders a GROUP BY.
    """
    conditions: list[ColumnElement[bool]] = []
    since = attempt_filter.since
    started_at: ColumnElement[Any] = schema.attempts.c.started_at
    if not sqlite_time_index:
        # SQLite's unary plus: the same value, but no longer a column an index can serve.
        started_at = type_coerce(literal_column("+attempts.started_at"), started_at.type)
    if since is not None:
        conditions.append(started_at >= since)
        conditions.append(started_at <= attempt_filter.now)
    if attempt_filter.run_ids:
        conditions.append(schema.attempts.c.run_id.in_(attempt_filter.run_ids))
    return conditions + label_conditions(attempt_filter)


def label_conditions(attempt_filter: AttemptFilter) -> list[ColumnElement[bool]]:
    """WHERE conditions on `runs` for the filter's labels."""
    return [
        schema.runs.c.labels[key].as_string() == value
        for key, value in attempt_filter.labels.items()
    ]


def attempts_select(
    columns: Sequence[Any],
    attempt_filter: AttemptFilter,
    *,
    attempts_only: bool = False,
    sqlite_time_index: bool = True,
) -> Select[Any]:
    """SELECT `columns` FROM attempts JOIN runs WHERE the filter holds.

    With `attempts_only` (the columns name only `attempts`) runs are joined only when the
    filter has labels: every attempt has its run, so the join would filter nothing, and on
    SQLite it costs a lookup per attempt.
    """
    joined: Any = schema.attempts
    if not attempts_only or attempt_filter.labels:
        joined = joined.join(schema.runs, schema.attempts.c.run_id == schema.runs.c.run_id)
    query = select(*columns).select_from(joined)
    conditions = filter_conditions(attempt_filter, sqlite_time_index=sqlite_time_index)
    return query.where(and_(*conditions)) if conditions else query
