"""Routing quality over the 1d and 7d windows: attempts, accuracy, errors, confusion, spend.

One GROUP BY over the last 7 days (router, model, expected skill and its hash, category,
skills hash, verdict) sums attempts, retries, cost and tokens for both windows at once; the
families below are small sums over those groups. Confusion and clarification come from a
second GROUP BY, the previous week's accuracy from a third, and the mean options-named score
of the clarifying questions from a fourth.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import case, func, select

from routelens.analytics.summary import CLARIFIED_LABEL, NO_ROUTE_LABEL
from routelens.analytics.trend import VerdictCounts, accuracy_delta
from routelens.analytics.window import AttemptFilter
from routelens.publish import catalogue as c
from routelens.publish.exporter_support import (
    Families,
    ScrapeContext,
    add_sample,
    ensure,
    label_or_none,
    ratio,
    scored_clarification,
    short_hash,
    started_within,
)
from routelens.store import Verdict, schema
from routelens.store.reads import attempts_select
from routelens.store.sql_functions import sum_if
from routelens.suite.models import Category

_MEASURES = ("attempts", "retries", "cost_usd", *c.TOKEN_TYPES)


@dataclass(frozen=True)
class WindowGroup:
    """One group of attempts of the last 7 days and its sums per window."""

    router: str
    model: str
    skill: str
    skill_version: str
    category: str
    skills_version: str
    outcome: str
    sums: dict[str, dict[str, float]]  # window → measure → sum


def read_window_groups(context: ScrapeContext) -> list[WindowGroup]:
    """Attempts, retries, cost and tokens per group, for the 1d and 7d windows."""
    attempts, runs = schema.attempts.c, schema.runs.c
    keys = [
        runs.router,
        runs.model,
        attempts.expected_skill,
        attempts.expected_skill_hash,
        attempts.category,
        runs.skills_hash,
        attempts.verdict,
    ]
    measured = [
        attempts.retries,
        attempts.cost_usd,
        attempts.input_tokens,
        attempts.output_tokens,
        attempts.cache_read_tokens,
        attempts.cache_write_tokens,
    ]
    in_day = attempts.started_at >= context.since(c.WINDOW_DAY)
    day_sums = [sum_if(in_day), *(sum_if(in_day, column) for column in measured)]
    week_sums = [func.count(), *(func.sum(column) for column in measured)]
    query = (
        attempts_select([*keys, *day_sums, *week_sums], AttemptFilter())
        .where(started_within(context, context.since(c.WINDOW_WEEK)))
        .group_by(*keys)
    )
    groups = []
    for row in context.connection.execute(query):
        day, week = row[7 : 7 + len(_MEASURES)], row[7 + len(_MEASURES) :]
        groups.append(
            WindowGroup(
                router=str(row[0]),
                model=label_or_none(row[1]),
                skill=label_or_none(row[2]),
                skill_version=short_hash(row[3]),
                category=str(row[4]),
                skills_version=short_hash(row[5]),
                outcome=str(row[6]),
                sums={
                    c.WINDOW_DAY: _measures(day),
                    c.WINDOW_WEEK: _measures(week),
                },
            )
        )
    return groups


def _measures(row: Iterable[Any]) -> dict[str, float]:
    return {name: float(value or 0) for name, value in zip(_MEASURES, row, strict=True)}


def verdict_counts(groups: Iterable[WindowGroup], window: str) -> VerdictCounts:
    """Passed, failed and errored attempts of the groups in one window."""
    totals: dict[str, float] = defaultdict(float)
    for group in groups:
        totals[group.outcome] += group.sums[window]["attempts"]
    return VerdictCounts(
        int(totals[str(Verdict.PASS)]),
        int(totals[str(Verdict.FAIL)]),
        int(totals[str(Verdict.ERROR)]),
    )


def read_previous_week(context: ScrapeContext) -> VerdictCounts:
    """Verdicts of the 7 days before the last 7 (from now - 14d to now - 7d, exclusive)."""
    attempts = schema.attempts.c
    start = context.now - timedelta(days=14)
    end = context.since(c.WINDOW_WEEK)
    query = select(
        *(sum_if(attempts.verdict == str(v)) for v in (Verdict.PASS, Verdict.FAIL, Verdict.ERROR))
    ).where(attempts.started_at >= start, attempts.started_at < end)
    row = context.connection.execute(query).one()
    return VerdictCounts(*(int(value or 0) for value in row))


def window_families(context: ScrapeContext) -> Families:
    """Attempts, accuracy (with the week-over-week delta), errors, spend, tokens, requests."""
    groups = read_window_groups(context)
    families: Families = {}
    accuracies: dict[str, float | None] = {}
    for window in c.WINDOWS:
        _window_series(families, groups, window)
        counts = verdict_counts(groups, window)
        accuracies[window] = counts.accuracy
        add_sample(families, c.ACCURACY, counts.accuracy, window=window)
        total = counts.passed + counts.failed + counts.errors
        add_sample(families, c.ERROR_RATE, ratio(counts.errors, total), window=window)
    previous = read_previous_week(context).accuracy
    add_sample(families, c.ACCURACY, previous, window=c.WINDOW_PREVIOUS_WEEK)
    delta = accuracy_delta(accuracies[c.WINDOW_WEEK], previous)
    add_sample(families, c.ACCURACY_WEEK_OVER_WEEK_DELTA, delta)
    families.update(confusion_families(context))
    families.update(clarification_options_families(context))
    return ensure(
        families,
        c.WINDOW_ATTEMPTS,
        c.WINDOW_COST,
        c.ATTEMPT_COST_MEAN,
        c.WINDOW_TOKENS,
        c.WINDOW_API_REQUESTS,
        c.DISAMBIGUATION_ATTEMPTS,
    )


def _window_series(families: Families, groups: list[WindowGroup], window: str) -> None:
    attempts: dict[tuple[str, ...], float] = defaultdict(float)
    cost: dict[tuple[str, str], float] = defaultdict(float)
    tokens: dict[tuple[str, str], float] = defaultdict(float)
    requests: dict[tuple[str, str], float] = defaultdict(float)
    disambiguation: dict[str, float] = defaultdict(float)
    for group in groups:
        sums = group.sums[window]
        if not sums["attempts"]:
            continue
        key = (
            group.skill,
            group.skill_version,
            group.category,
            group.model,
            group.skills_version,
            group.outcome,
        )
        attempts[key] += sums["attempts"]  # short hashes may merge two groups: add them
        cost[(group.model, group.skill)] += sums["cost_usd"]
        for token_type in c.TOKEN_TYPES:
            tokens[(group.model, token_type)] += sums[token_type]
        requests[(group.router, group.model)] += sums["attempts"] + sums["retries"]
        if group.category == Category.DISAMBIGUATION.value:
            disambiguation[group.outcome] += sums["attempts"]
    for (skill, version, category, model, skills_version, outcome), count in attempts.items():
        add_sample(
            families,
            c.WINDOW_ATTEMPTS,
            count,
            window=window,
            skill=skill,
            skill_version=version,
            category=category,
            model=model,
            skills_version=skills_version,
            outcome=outcome,
        )
    for (model, skill), usd in cost.items():
        add_sample(families, c.WINDOW_COST, usd, window=window, model=model, skill=skill)
    for (model, token_type), count in tokens.items():
        add_sample(
            families, c.WINDOW_TOKENS, count, window=window, model=model, token_type=token_type
        )
    for (router, model), count in requests.items():
        add_sample(
            families, c.WINDOW_API_REQUESTS, count, window=window, router=router, model=model
        )
    for outcome, count in disambiguation.items():
        add_sample(families, c.DISAMBIGUATION_ATTEMPTS, count, window=window, outcome=outcome)
    total_attempts = sum(attempts.values())
    spent = math.fsum(cost.values())
    add_sample(families, c.ATTEMPT_COST_MEAN, ratio(spent, total_attempts), window=window)


def confusion_families(context: ScrapeContext) -> Families:
    """Decided attempts by expected and actual skill; the disambiguation clarification rate."""
    attempts = schema.attempts.c
    keys = [
        attempts.category,
        attempts.expected_skill,
        attempts.actual_skill,
        attempts.asked_clarification,
    ]
    in_day = attempts.started_at >= context.since(c.WINDOW_DAY)
    query = (
        select(*keys, sum_if(in_day), func.count())
        .where(
            started_within(context, context.since(c.WINDOW_WEEK)),
            attempts.verdict != str(Verdict.ERROR),
        )
        .group_by(*keys)
    )
    pairs: dict[tuple[str, str, str], int] = defaultdict(int)
    asked: dict[str, int] = defaultdict(int)
    decided: dict[str, int] = defaultdict(int)
    rows: Iterable[Any] = context.connection.execute(query)
    for category, expected, actual, clarified, day, week in rows:
        if actual is not None:
            routed = str(actual)
        else:
            routed = CLARIFIED_LABEL if clarified else NO_ROUTE_LABEL
        for window, count in ((c.WINDOW_DAY, int(day or 0)), (c.WINDOW_WEEK, int(week))):
            if not count:
                continue
            pairs[(window, label_or_none(expected), routed)] += count
            if category == Category.DISAMBIGUATION.value:
                decided[window] += count
                asked[window] += count if routed == CLARIFIED_LABEL else 0
    families: Families = {}
    for (window, expected, routed), count in pairs.items():
        add_sample(
            families,
            c.CONFUSION,
            count,
            window=window,
            expected_skill=expected,
            actual_skill=routed,
        )
    for window in c.WINDOWS:
        add_sample(
            families, c.CLARIFICATION_RATE, ratio(asked[window], decided[window]), window=window
        )
    return families


def clarification_options_families(context: ScrapeContext) -> Families:
    """Mean options-named score of the clarifying questions on disambiguation cases, per window.

    Only attempts in which the router asked and whose question was scored count (the score is
    NULL when the case lists no `disambiguation_options`); absent when there are none.
    """
    score = schema.attempts.c.options_score
    in_day = schema.attempts.c.started_at >= context.since(c.WINDOW_DAY)
    query = select(func.avg(case((in_day, score))), func.avg(score)).where(
        started_within(context, context.since(c.WINDOW_WEEK)), scored_clarification()
    )
    day, week = context.connection.execute(query).one()
    families: Families = {}
    for window, mean in ((c.WINDOW_DAY, day), (c.WINDOW_WEEK, week)):
        value = None if mean is None else float(mean)
        add_sample(families, c.CLARIFICATION_OPTIONS_NAMED, value, window=window)
    return families
