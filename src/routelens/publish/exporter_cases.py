"""Case stability over the last 7 days: class counts, and per-case series under a size limit.

The classes are exactly `routelens flaky`'s (the same SQL aggregate and `classify_flaky`):
one class per case condition (case, input, skills hash, router, model). The per-case series
carry only `case_id`, so a case seen under several conditions shows its most concerning one
(flaky first, then the least stable, as `routelens flaky` orders them). The mean options-named
score of each disambiguation case's clarifying questions is per case too. They exist only
while the window holds at most `max_case_labels` distinct cases, to bound label cardinality.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, func, literal_column, select

from routelens.analytics.flaky import FlakyCase, classify_flaky
from routelens.analytics.window import AttemptFilter
from routelens.publish import catalogue as c
from routelens.publish.exporter_support import (
    WINDOW_LENGTHS,
    Families,
    ScrapeContext,
    add_sample,
    ensure,
    started_within,
)
from routelens.store import Verdict, schema
from routelens.store.flaky_history import read_flaky_aggregates
from routelens.store.rollup_reads import Period, rollup_rows
from routelens.store.rollups import DISAMBIGUATION

PERCENTILE = 95
"""The per-case latency percentile, as an integer percent (exact rank arithmetic in SQL)."""


def case_families(context: ScrapeContext) -> Families:
    """`routelens_cases{class}` always; per case (if few): stability, pass rate, p95 latency
    and the options-named mean."""
    week = AttemptFilter(window=WINDOW_LENGTHS[c.WINDOW_WEEK], now=context.now)
    cases = classify_flaky(read_flaky_aggregates(context.connection, week))
    counts = Counter(str(case.flaky_class) for case in cases)
    families: Families = {}
    for flaky_class in c.CASE_CLASSES:
        add_sample(families, c.CASES_BY_CLASS, counts[flaky_class], **{c.LABEL_CLASS: flaky_class})
    shown: dict[str, FlakyCase] = {}
    for case in cases:  # classify_flaky orders the most concerning condition first
        shown.setdefault(case.key.case_id, case)
    ensure(
        families,
        c.CASE_STABILITY,
        c.CASE_PASS_RATE,
        c.CASE_LATENCY_P95,
        c.CASE_CLARIFICATION_OPTIONS_NAMED,
    )
    if len(shown) > context.config.max_case_labels:
        return families
    rows: Iterable[Any] = context.connection.execute(_categories_query(context))
    categories = {str(case_id): str(category) for case_id, category in rows}
    for case_id, case in shown.items():
        labels = {
            c.LABEL_CASE_ID: case_id,
            c.LABEL_CATEGORY: str(categories.get(case_id, c.NO_SKILL)),
            c.LABEL_CLASS: str(case.flaky_class),
        }
        add_sample(families, c.CASE_STABILITY, case.stability, **labels)
        add_sample(families, c.CASE_PASS_RATE, case.pass_rate, **labels)
    for case_id, p95 in read_case_latency_p95(context).items():
        category = str(categories.get(case_id, c.NO_SKILL))
        add_sample(families, c.CASE_LATENCY_P95, p95, case_id=case_id, category=category)
    for case_id, mean in read_case_options_named(context).items():
        add_sample(families, c.CASE_CLARIFICATION_OPTIONS_NAMED, mean, case_id=case_id)
    return families


def read_case_options_named(context: ScrapeContext) -> dict[str, float]:
    """Mean options-named score per disambiguation case over the last 7 days (cases whose
    clarifying questions were scored only)."""
    period = Period(start=context.since(c.WINDOW_WEEK), end=context.now)
    rows = rollup_rows(context.dialect, DISAMBIGUATION, period)
    scored = func.sum(rows.c.clarified_options_scored)
    query = (
        select(rows.c.case_id, func.sum(rows.c.clarified_options_score_sum), scored)
        .group_by(rows.c.case_id)
        .having(scored > 0)
    )
    found: Iterable[Any] = context.connection.execute(query)
    return {str(case_id): float(total) / int(count) for case_id, total, count in found}


def _categories_query(context: ScrapeContext) -> Select[Any]:
    attempts = schema.attempts.c
    return (
        select(attempts.case_id, func.max(attempts.category))
        .where(started_within(context, context.since(c.WINDOW_WEEK)))
        .group_by(attempts.case_id)
    )


def read_case_latency_p95(context: ScrapeContext) -> dict[str, float]:
    """Linear-interpolated 95th percentile latency per case (decided attempts, last 7 days).

    The same definition as numpy's `method="linear"`: rank h = (n - 1) x 0.95, value
    v[floor h] + (h - floor h)(v[floor h + 1] - v[floor h]). Window functions rank each
    case's latencies in SQL; only the one or two rows at the rank leave the database.
    """
    attempts = schema.attempts.c
    ranked = (
        select(
            attempts.case_id,
            attempts.latency_s,
            func.row_number()
            .over(partition_by=attempts.case_id, order_by=attempts.latency_s)
            .label("position"),
            func.count().over(partition_by=attempts.case_id).label("size"),
        )
        .where(
            started_within(context, context.since(c.WINDOW_WEEK)),
            attempts.verdict != str(Verdict.ERROR),
        )
        .subquery("ranked")
    )
    scaled_rank = (ranked.c.size - 1) * literal_column(str(PERCENTILE))
    lower = scaled_rank // literal_column("100")
    query = select(ranked.c.case_id, ranked.c.size, ranked.c.position, ranked.c.latency_s).where(
        (ranked.c.position - 1 == lower) | (ranked.c.position - 2 == lower)
    )
    found: dict[str, dict[int, float]] = {}
    sizes: dict[str, int] = {}
    for case_id, size, position, latency in context.connection.execute(query):
        found.setdefault(case_id, {})[int(position) - 1] = float(latency)
        sizes[case_id] = int(size)
    percentiles: dict[str, float] = {}
    for case_id, values in found.items():
        size = sizes[case_id]
        low_rank, remainder = divmod((size - 1) * PERCENTILE, 100)
        low = values[low_rank]
        high = values.get(low_rank + 1, low)
        percentiles[case_id] = low + (remainder / 100) * (high - low)
    return percentiles
