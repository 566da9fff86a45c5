"""Spend: all-time counters, today's spend against the budget, the month's projection, anomaly.

* Today is the UTC day of the scrape's "now"; today's spend counts attempts started today.
* Monthly projection: this calendar month's spend so far, plus the mean daily spend of the
  last 7 UTC days (today included, `analytics.cost.monthly_projection`) for each day left.
* Anomaly: the modified z-score of today's spend against the previous 28 days, days without
  attempts counting as $0 (`analytics.cost.robust_scale`: median and MAD).
"""

from __future__ import annotations

import calendar
import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func

from routelens.analytics.cost import budget_burn, monthly_projection, robust_scale
from routelens.analytics.window import AttemptFilter
from routelens.commands.cost import daily_spend
from routelens.publish import catalogue as c
from routelens.publish.exporter_support import (
    Families,
    ScrapeContext,
    add_sample,
    ensure,
    label_or_none,
)
from routelens.store import schema
from routelens.store.reads import attempts_select

ANOMALY_BASELINE_DAYS = 28
"""Today's spend is compared with this many days before it."""


def total_families(context: ScrapeContext) -> Families:
    """All-time attempts by outcome, spend and tokens, by router and model (one GROUP BY)."""
    attempts, runs = schema.attempts.c, schema.runs.c
    keys = [runs.router, runs.model, attempts.verdict]
    query = attempts_select(
        [
            *keys,
            func.count(),
            func.sum(attempts.cost_usd),
            func.sum(attempts.input_tokens),
            func.sum(attempts.output_tokens),
            func.sum(attempts.cache_read_tokens),
            func.sum(attempts.cache_write_tokens),
        ],
        AttemptFilter(),
    ).group_by(*keys)
    spend: dict[tuple[str, str], float] = defaultdict(float)
    tokens: dict[tuple[str, str], float] = defaultdict(float)
    families: Families = {}
    for router, model, verdict, count, cost, *token_sums in context.connection.execute(query):
        model_label = label_or_none(model)
        add_sample(
            families,
            c.ATTEMPTS_TOTAL,
            int(count),
            router=str(router),
            model=model_label,
            outcome=str(verdict),
        )
        spend[(str(router), model_label)] += float(cost or 0.0)
        for token_type, value in zip(c.TOKEN_TYPES, token_sums, strict=True):
            tokens[(model_label, token_type)] += float(value or 0)
    for (router, model), usd in spend.items():
        add_sample(families, c.COST_TOTAL, usd, router=router, model=model)
    for (model, token_type), count in tokens.items():
        add_sample(families, c.TOKENS_TOTAL, count, model=model, token_type=token_type)
    return ensure(families, c.ATTEMPTS_TOTAL, c.COST_TOTAL, c.TOKENS_TOTAL)


def projected_month_usd(
    spend_by_day: dict[date, float], today: date, mean_daily_usd: float
) -> float:
    """This month's spend so far plus `mean_daily_usd` for each day of the month left."""
    first = today.replace(day=1)
    so_far = math.fsum(usd for day, usd in spend_by_day.items() if first <= day <= today)
    days_left = calendar.monthrange(today.year, today.month)[1] - today.day
    return so_far + mean_daily_usd * days_left


def daily_cost_anomaly(spend_by_day: dict[date, float], today: date) -> float:
    """Modified z-score of today's spend against the previous 28 days ($0 for missing days)."""
    baseline = [
        spend_by_day.get(today - timedelta(days=back), 0.0)
        for back in range(1, ANOMALY_BASELINE_DAYS + 1)
    ]
    return robust_scale(baseline).z(spend_by_day.get(today, 0.0))


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
