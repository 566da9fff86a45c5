"""Spend: all-time counters, today's spend against the budget, the month's projection, anomaly.

* Today is the UTC day of the scrape's "now"; today's spend counts attempts started today.
* Monthly projection: this calendar month's spend so far, plus the mean daily spend of the
  last 7 UTC days (today included, `analytics.cost.monthly_projection`) for each day left.
* Anomaly: the modified z-score of today's spend against the previous 28 days, days without
  attempts counting as $0 (`analytics.cost.robust_scale`: median and MAD).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from routelens.analytics.cost import (
    ANOMALY_BASELINE_DAYS,
    budget_burn,
    daily_cost_anomaly,
    monthly_projection,
    projected_month_usd,
)
from routelens.analytics.window import AttemptFilter
from routelens.publish import catalogue as c
from routelens.publish.exporter_support import (
    Families,
    ScrapeContext,
    add_sample,
    ensure,
    label_or_none,
)
from routelens.store import Verdict, schema
from routelens.store.period_reads import daily_spend
from routelens.store.rollup_reads import Period, rollup_rows
from routelens.store.rollups import ATTEMPTS
from routelens.store.sql_functions import sum_if

_SUMMED = (
    "cost_usd",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
)  # in the order of c.TOKEN_TYPES after the cost


def total_families(context: ScrapeContext) -> Families:
    """All-time attempts by outcome, spend and tokens, by router and model: the attempt
    rollups summed per run, then joined with the runs and summed again."""
    rows = rollup_rows(context.dialect, ATTEMPTS, Period())
    runs = schema.runs.c
    outcomes = [str(verdict) for verdict in Verdict]
    per_run = (
        select(
            rows.c.run_id.label("run_id"),
            *(
                sum_if(rows.c.verdict == outcome, rows.c.attempts).label(outcome)
                for outcome in outcomes
            ),
            *(func.sum(rows.c[column]).label(column) for column in _SUMMED),
        )
        .group_by(rows.c.run_id)
        .subquery("per_run")
    )
    keys = [runs.router, runs.model]
    query = (
        select(*keys, *(func.sum(column) for column in list(per_run.c)[1:]))
        .select_from(per_run.join(schema.runs, per_run.c.run_id == runs.run_id))
        .group_by(*keys)
    )
    spend: dict[tuple[str, str], float] = defaultdict(float)
    tokens: dict[tuple[str, str], float] = defaultdict(float)
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for router, model, *sums in context.connection.execute(query):
        model_label = label_or_none(model)
        outcome_counts, (cost, *token_sums) = sums[: len(outcomes)], sums[len(outcomes) :]
        for outcome, count in zip(outcomes, outcome_counts, strict=True):
            counts[(str(router), model_label, outcome)] += int(count or 0)
        spend[(str(router), model_label)] += float(cost or 0.0)
        for token_type, value in zip(c.TOKEN_TYPES, token_sums, strict=True):
            tokens[(model_label, token_type)] += float(value or 0)
    families: Families = {}
    for (router, model, outcome), count in sorted(counts.items()):
        if count:  # as a GROUP BY would: only the outcomes that occurred
            add_sample(
                families, c.ATTEMPTS_TOTAL, count, router=router, model=model, outcome=outcome
            )
    for (router, model), usd in spend.items():
        add_sample(families, c.COST_TOTAL, usd, router=router, model=model)
    for (model, token_type), count in tokens.items():
        add_sample(families, c.TOKENS_TOTAL, count, model=model, token_type=token_type)
    return ensure(families, c.ATTEMPTS_TOTAL, c.COST_TOTAL, c.TOKENS_TOTAL)


def daily_cost_families(context: ScrapeContext) -> Families:
    """Today's spend, the budget, burn, the monthly projection and today's anomaly score."""
    today = context.now.astimezone(UTC).date()
    earliest = min(today.replace(day=1), today - timedelta(days=ANOMALY_BASELINE_DAYS))
    start = datetime(earliest.year, earliest.month, earliest.day, tzinfo=UTC)
    days = daily_spend(
        context.store.engine, AttemptFilter(window=context.now - start, now=context.now)
    )
    spend_by_day = {item.day: item.cost_usd for item in days}
    budget = context.config.daily_budget_usd
    burn = budget_burn(days, today, budget)
    projection = monthly_projection(days, today)
    families: Families = {}
    add_sample(families, c.DAILY_COST, burn.today_usd)
    add_sample(families, c.DAILY_BUDGET, budget)
    add_sample(families, c.BUDGET_BURN, burn.burn_rate)
    add_sample(
        families,
        c.MONTHLY_PROJECTED_COST,
        projected_month_usd(spend_by_day, today, projection.mean_daily_usd),
    )
    add_sample(families, c.DAILY_COST_ANOMALY, daily_cost_anomaly(spend_by_day, today))
    return families
