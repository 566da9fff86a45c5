"""The read paths of `routelens cost` (also the SRE view's spend by model): spend groups and the
per-attempt cost distribution from the rollups, the few outlying attempts from the attempts."""

from __future__ import annotations

import math
from typing import Literal

from sqlalchemy import Engine, func, or_, select

from routelens.analytics.cost import AttemptCost, CostCount, SpendGroup
from routelens.analytics.summary import TokenTotals
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
    rows = rollup_rows(engine.dialect.name, ATTEMPTS, Period.of(attempt_filter))
    passed = verdict_sums(rows.c.verdict, rows.c.attempts)[0]
    query = select(
        rows.c[key],
        func.sum(rows.c.attempts),
        passed,
        func.sum(rows.c.cost_usd),
        *(func.sum(rows.c[name]) for name in _TOKENS),
    ).group_by(rows.c[key])
    with engine.connect() as connection:
        found = connection.execute(query).all()
    return [
        SpendGroup(
            key=missing if row[0] is None else str(row[0]),
            attempts=int(row[1]),
            passed=int(row[2] or 0),
            cost_usd=round(float(row[3] or 0.0), SPEND_DECIMALS),
            tokens=TokenTotals(*(int(value or 0) for value in row[4:8])),
        )
        for row in found
    ]


def spend_by_model(engine: Engine, attempt_filter: AttemptFilter) -> list[SpendGroup]:
    """Spend groups per run model: grouped by run, then by the runs' models here."""
    per_run = spend_groups(engine, attempt_filter, "run_id", "")
    runs = schema.runs.c
    with engine.connect() as connection:
        models = {row[0]: row[1] for row in connection.execute(select(runs.run_id, runs.model))}
    pooled: dict[str, list[SpendGroup]] = {}
    for group in per_run:
        model = models.get(group.key)
        pooled.setdefault(NO_MODEL_LABEL if model is None else model, []).append(group)
    return [
        SpendGroup(
            key=model,
            attempts=sum(g.attempts for g in groups),
            passed=sum(g.passed for g in groups),
            cost_usd=round(math.fsum(g.cost_usd for g in groups), SPEND_DECIMALS),
            tokens=TokenTotals(
                input=sum(g.tokens.input for g in groups),
                output=sum(g.tokens.output for g in groups),
                cache_read=sum(g.tokens.cache_read for g in groups),
                cache_write=sum(g.tokens.cache_write for g in groups),
            ),
        )
        for model, groups in pooled.items()
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
