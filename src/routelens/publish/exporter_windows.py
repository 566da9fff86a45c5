"""Routing quality over the 1d and 7d windows: attempts, accuracy, errors, confusion, spend.

Each window's attempts are summed from the attempt rollups (whole hours) and the attempts of
its partial first and last hours (`store/rollup_reads.py`), grouped by router, model,
expected skill and its hash, category, skills hash and verdict; the families below are small
sums over those groups. Confusion and clarification come from the same rollup grouped by
routes, the previous week's accuracy from a third read, and the mean options-named score of
the clarifying questions from the disambiguation rollup.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from routelens.analytics.summary import CLARIFIED_LABEL, NO_ROUTE_LABEL
from routelens.analytics.trend import VerdictCounts, accuracy_delta
from routelens.publish import catalogue as c
from routelens.publish.exporter_support import (
    Families,
    ScrapeContext,
    add_sample,
    ensure,
    label_or_none,
    ratio,
    short_hash,
)
from routelens.store import Verdict, schema
from routelens.store.rollup_reads import Period, rollup_rows
from routelens.store.rollups import ATTEMPTS, DISAMBIGUATION
from routelens.store.sql_functions import verdict_sums
from routelens.suite.models import Category

_MEASURES = ("attempts", "retries", "cost_usd", *c.TOKEN_TYPES)
_TOKEN_COLUMNS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


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


def window_period(context: ScrapeContext, window: str) -> Period:
    """A window of the scrape: from `window` before now, to now."""
    return Period(start=context.since(window), end=context.now)


@dataclass(frozen=True)
class RouteSums:
    """The attempts of one window sharing a setup, expectation, verdict and route."""

    router: str
    model: str | None
    expected_skill: str | None
    expected_skill_hash: str | None
    category: str
    skills_hash: str
    verdict: str
    actual_skill: str | None
    asked_clarification: bool
    measures: tuple[float, ...]  # in `_MEASURES` order


def read_route_sums(context: ScrapeContext, window: str) -> list[RouteSums]:
    """The window's attempt rollup rows summed per route, with their runs' setups."""
    rows = rollup_rows(context.dialect, ATTEMPTS, window_period(context, window))
    runs = schema.runs.c
    keys = [
        runs.router,
        runs.model,
        rows.c.expected_skill,
        rows.c.expected_skill_hash,
        rows.c.category,
        runs.skills_hash,
        rows.c.verdict,
        rows.c.actual_skill,
        rows.c.asked_clarification,
    ]
    columns = ["attempts", "retries", "cost_usd", *_TOKEN_COLUMNS]
    query = (
        select(*keys, *(func.sum(rows.c[name]) for name in columns))
        .select_from(rows.join(schema.runs, rows.c.run_id == runs.run_id))
        .group_by(*keys)
    )
    return [
        RouteSums(*row[:8], bool(row[8]), tuple(float(value or 0) for value in row[9:]))  # type: ignore[call-arg]
        for row in context.connection.execute(query)
    ]


def window_groups(sums: dict[str, list[RouteSums]]) -> list[WindowGroup]:
    """The routes of each window summed per group (routes aside), for the 1d and 7d windows."""
    grouped: dict[tuple[Any, ...], dict[str, dict[str, float]]] = {}
    for window, routes in sums.items():
        for route in routes:
            key = (
                route.router,
                route.model,
                route.expected_skill,
                route.expected_skill_hash,
                route.category,
                route.skills_hash,
                route.verdict,
            )
            empty = {w: dict.fromkeys(_MEASURES, 0.0) for w in c.WINDOWS}
            totals = grouped.setdefault(key, empty)[window]
            for name, value in zip(_MEASURES, route.measures, strict=True):
                totals[name] += value
    return [
        WindowGroup(
            router=str(key[0]),
            model=label_or_none(key[1]),
            skill=label_or_none(key[2]),
            skill_version=short_hash(key[3]),
            category=str(key[4]),
            skills_version=short_hash(key[5]),
            outcome=str(key[6]),
            sums=per_window,
        )
        for key, per_window in grouped.items()
    ]


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
    period = Period(
        start=context.now - timedelta(days=14),
        end=context.since(c.WINDOW_WEEK),
        end_inclusive=False,
    )
    rows = rollup_rows(context.dialect, ATTEMPTS, period)
    query = select(*verdict_sums(rows.c.verdict, rows.c.attempts))
    row = context.connection.execute(query).one()
    return VerdictCounts(*(int(value or 0) for value in row))


def window_families(context: ScrapeContext) -> Families:
    """Attempts, accuracy (with the week-over-week delta), errors, spend, tokens, requests."""
    sums = {window: read_route_sums(context, window) for window in c.WINDOWS}
    groups = window_groups(sums)
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
    families.update(confusion_families(sums))
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


def confusion_families(sums: dict[str, list[RouteSums]]) -> Families:
    """Decided attempts by expected and actual skill; the disambiguation clarification rate."""
    pairs: dict[tuple[str, str, str], int] = defaultdict(int)
    asked: dict[str, int] = defaultdict(int)
    decided: dict[str, int] = defaultdict(int)
    for window, routes in sums.items():
        for route in routes:
            count = int(route.measures[0])
            if route.verdict == str(Verdict.ERROR) or not count:
                continue
            if route.actual_skill is not None:
                routed = str(route.actual_skill)
            else:
                routed = CLARIFIED_LABEL if route.asked_clarification else NO_ROUTE_LABEL
            pairs[(window, label_or_none(route.expected_skill), routed)] += count
            if route.category == Category.DISAMBIGUATION.value:
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
    families: Families = {}
    for window in c.WINDOWS:
        rows = rollup_rows(context.dialect, DISAMBIGUATION, window_period(context, window))
        query = select(
            func.sum(rows.c.clarified_options_score_sum), func.sum(rows.c.clarified_options_scored)
        )
        total, scored = context.connection.execute(query).one()
        value = float(total) / int(scored) if scored else None
        add_sample(families, c.CLARIFICATION_OPTIONS_NAMED, value, window=window)
    return families
