"""The read paths of `routelens cost` (also the SRE view's spend by model): spend groups and the
per-attempt cost distribution from the rollups, the few outlying attempts from the attempts."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

from sqlalchemy import Engine, func, or_, select

from routelens.analytics.cost import AttemptCost, CostCount, SpendGroup
from routelens.analytics.summary import TokenTotals, expectation_label
from routelens.analytics.window import AttemptFilter
from routelens.store import schema
from routelens.store.reads import attempts_select
from routelens.store.rollup_reads import Period, rollup_rows
from routelens.store.rollups import ATTEMPTS, COST_UNITS_PER_USD, COSTS, SPEND_DECIMALS
from routelens.store.sql_functions import verdict_sums

NO_MODEL_LABEL = "(none)"
WORST_ATTEMPTS = 10
_TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


def spend_groups(
    engine: Engine,
    attempt_filter: AttemptFilter,
    key: Literal["expected_skill", "run_id"],
    missing: str,
) -> list[SpendGroup]:
    """Attempts, passes, spend and tokens by type per value of `key` (None → `missing`)."""
    return _spend_groups(
        engine, attempt_filter, (key,), lambda values: missing if values[0] is None else values[0]
    )


def spend_by_expectation(engine: Engine, attempt_filter: AttemptFilter) -> list[SpendGroup]:
    """Spend groups per expectation: the expected skill, or for a case without one what it
    expects by its category ("(ask)", "(negative)", "(workflow)", ...: `expectation_label`)."""
    return _spend_groups(
        engine,
        attempt_filter,
        ("category", "expected_skill"),
        lambda values: expectation_label(str(values[0]), values[1]),
    )


def spend_by_model(engine: Engine, attempt_filter: AttemptFilter) -> list[SpendGroup]:
    """Spend groups per run model: grouped by run, then by the runs' models here."""
    runs = schema.runs.c
    with engine.connect() as connection:
        models = {row[0]: row[1] for row in connection.execute(select(runs.run_id, runs.model))}
    return _spend_groups(
        engine,
        attempt_filter,
        ("run_id",),
        lambda values: NO_MODEL_LABEL if (model := models.get(values[0])) is None else model,
    )


def _spend_groups(
    engine: Engine,
    attempt_filter: AttemptFilter,
    keys: tuple[str, ...],
    label: Callable[[tuple[str | None, ...]], str],
) -> list[SpendGroup]:
    """Spend groups per `label` of the values of the attempt rollup's `keys` (grouped by
    the keys in SQL, then the groups sharing a label pooled here)."""
    rows = rollup_rows(engine.dialect.name, ATTEMPTS, Period.of(attempt_filter))
    passed = verdict_sums(rows.c.verdict, rows.c.attempts)[0]
    columns = [rows.c[key] for key in keys]
    query = select(
        *columns,
        func.sum(rows.c.attempts),
        passed,
        func.sum(rows.c.cost_usd),
        *(func.sum(rows.c[name]) for name in _TOKENS),
    ).group_by(*columns)
    with engine.connect() as connection:
        found = connection.execute(query).all()
    pooled: dict[str, list[Any]] = {}
    for row in found:
        pooled.setdefault(label(tuple(row[: len(keys)])), []).append(row[len(keys) :])
    return [
        SpendGroup(
            key=key,
            attempts=sum(int(sums[0]) for sums in groups),
            passed=sum(int(sums[1] or 0) for sums in groups),
            cost_usd=round(math.fsum(float(sums[2] or 0.0) for sums in groups), SPEND_DECIMALS),
            tokens=TokenTotals(
                *(sum(int(sums[3 + index] or 0) for sums in groups) for index in range(4))
            ),
        )
        for key, groups in pooled.items()
    ]


def cost_counts(engine: Engine, attempt_filter: AttemptFilter) -> list[CostCount]:
    """Per-attempt costs grouped to 1e-8 USD, with how many attempts cost each."""
    rows = rollup_rows(engine.dialect.name, COSTS, Period.of(attempt_filter))
    query = select(rows.c.cost_units, func.sum(rows.c.attempts)).group_by(rows.c.cost_units)
    with engine.connect() as connection:
        found = connection.execute(query).all()
    return [CostCount(float(row[0]) / COST_UNITS_PER_USD, int(row[1])) for row in found]


def costliest_outliers(
    engine: Engine,
    attempt_filter: AttemptFilter,
    low: float,
    high: float,
    median: float,
    limit: int = WORST_ATTEMPTS,
) -> list[AttemptCost]:
    """The attempts whose cost lies outside (low, high), furthest from the median first."""
    attempts = schema.attempts.c
    query = (
        attempts_select(
            [attempts.run_id, attempts.case_id, attempts.repeat_index, attempts.cost_usd],
            attempt_filter,
            attempts_only=True,
        )
        .where(or_(attempts.cost_usd < low, attempts.cost_usd > high))
        .order_by(func.abs(attempts.cost_usd - median).desc(), attempts.run_id, attempts.case_id)
        .limit(limit)
    )
    with engine.connect() as connection:
        found = connection.execute(query).all()
    return [AttemptCost(row[0], row[1], int(row[2]), float(row[3])) for row in found]
