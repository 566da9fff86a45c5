"""Read paths for analytics: one filtered SELECT over attempts joined with their runs.

Analytics read only the columns they need, and aggregate in SQL where a million attempts
would otherwise cross into Python; the statistics themselves stay pure functions over the
rows these queries return.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select

from routelens.analytics.window import AttemptFilter
from routelens.store import schema


def filter_conditions(attempt_filter: AttemptFilter) -> list[ColumnElement[bool]]:
    """WHERE conditions for a filter, over `attempts` joined with `runs`."""
    conditions: list[ColumnElement[bool]] = []
    since = attempt_filter.since
    if since is not None:
        conditions.append(schema.attempts.c.started_at >= since)
        conditions.append(schema.attempts.c.started_at <= attempt_filter.now)
    if attempt_filter.run_ids:
        conditions.append(schema.attempts.c.run_id.in_(attempt_filter.run_ids))
    return conditions + label_conditions(attempt_filter)


def label_conditions(attempt_filter: AttemptFilter) -> list[ColumnElement[bool]]:
    """WHERE conditions on `runs` for the filter's labels."""
    return [
        schema.runs.c.labels[key].as_string() == value
        for key, value in attempt_filter.labels.items()
    ]


def attempts_select(columns: Sequence[Any], attempt_filter: AttemptFilter) -> Select[Any]:
    """SELECT `columns` FROM attempts JOIN runs WHERE the filter holds."""
    joined = schema.attempts.join(schema.runs, schema.attempts.c.run_id == schema.runs.c.run_id)
    query = select(*columns).select_from(joined)
    conditions = filter_conditions(attempt_filter)
    return query.where(and_(*conditions)) if conditions else query
