"""Exact latency percentiles per group, computed in SQL (a run's summary, the runs page).

The latencies of each group are numbered in order by a window function, and only the few
around each percentile's position come back (numpy's "linear" method).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, literal_column, or_, select

from routelens.store import schema


def latency_percentiles_by(
    connection: Connection,
    key: ColumnElement[Any],
    conditions: Sequence[ColumnElement[bool]],
    percentiles: Sequence[float],
    *,
    join_runs: bool = False,
) -> dict[str, tuple[float | None, ...]]:
    """Per value of `key`, numpy's linear percentiles of `attempts.latency_s` where
    `conditions` hold.

    The latencies of each group are numbered in order by a window function, and only the
    few around each percentile's position h = (n - 1) p come back; the value is
    x[⌊h⌋] + (h - ⌊h⌋) (x[⌊h⌋ + 1] - x[⌊h⌋]).
    """
    attempts = schema.attempts.c
    position = func.row_number().over(
        partition_by=key, order_by=attempts.latency_s
    ) - literal_column("1")
    joined: Any = schema.attempts
    if join_runs:
        joined = joined.join(schema.runs, attempts.run_id == schema.runs.c.run_id)
    numbered = (
        select(
            key.label("key"),
            attempts.latency_s.label("latency"),
            position.label("position"),
            func.count().over(partition_by=key).label("size"),
        )
        .select_from(joined)
        .where(and_(*conditions))
        .subquery("numbered")
    )
    # ⌊(n - 1) p⌋ in integer arithmetic; float rounding may put numpy's ⌊h⌋ one lower,
    # so one more row is kept on each side.
    near = []
    for percentile in percentiles:
        floor = (numbered.c.size - 1) * round(percentile * 100) // 10_000
        near.append(and_(numbered.c.position >= floor - 1, numbered.c.position <= floor + 2))
    query = select(numbered.c.key, numbered.c.latency, numbered.c.position, numbered.c.size).where(
        or_(*near)
    )
    values: defaultdict[str, dict[int, float]] = defaultdict(dict)
    sizes: dict[str, int] = {}
    for group, latency, index, count in connection.execute(query):
        values[str(group)][int(index)] = float(latency)
        sizes[str(group)] = int(count)
    return {
        group: tuple(_linear(values[group], sizes[group], p) for p in percentiles)
        for group in sizes
    }


def _linear(values: dict[int, float], size: int, percentile: float) -> float | None:
    if size == 0:
        return None
    position = (size - 1) * (percentile / 100.0)
    below = math.floor(position)
    low = values[below]
    high = values.get(below + 1, low)
    return low + (position - below) * (high - low)
