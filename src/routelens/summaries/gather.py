"""Gather a window's summary facts from the store, through the reads the commands use.

Accuracy comes from `daily_verdicts` (as `routelens trend`), flaky cases from
`read_flaky_aggregates` + `classify_flaky` (as `routelens flaky`), spend from `daily_spend`
and the projection and burn of `analytics.cost` (as `routelens cost`), and change impact
from `measure_impact` (as `routelens changes impact`). Everything is SQL aggregates except
the impact of a change, which reads the two runs on either side of it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from routelens.analytics.cost import (
    MONTH_DAYS,
    PROJECTION_DAYS,
    budget_burn,
    day_points,
    monthly_projection,
)
from routelens.analytics.flaky import FlakyCase, FlakyClass, classify_flaky
from routelens.analytics.summary import ASK_LABEL
from routelens.analytics.trend import (
    FLAT_THRESHOLD,
    DayCounts,
    VerdictCounts,
    accuracy_delta,
    direction_of,
)
from routelens.analytics.window import AttemptFilter
from routelens.changes.impact import ChangeImpact
from routelens.changes.impact_inputs import measure_impact
from routelens.store.changes import list_change_events
from routelens.store.flaky_history import read_flaky_aggregates
from routelens.store.period_reads import daily_spend, daily_verdicts, expected_skill_verdicts
from routelens.store.sqlstore import Store
from routelens.summaries.facts import (
    AccuracyFacts,
    ChangeFacts,
    CostFacts,
    FlakyFacts,
    SkillFacts,
    SummaryFacts,
)

WORST_SKILLS = 3
MIN_SKILL_DECIDED = 5
"""A skill with fewer decided attempts in the window is not ranked among the weakest."""
NEW_FLAKY_LISTED = 5
CHANGES_MEASURED = 10
"""At most this many of the window's change events (the newest) are measured."""
CHANGES_LISTED = 3


def _total(days: Iterable[DayCounts]) -> VerdictCounts:
    rows = list(days)
    return VerdictCounts(
        sum(d.counts.passed for d in rows),
        sum(d.counts.failed for d in rows),
        sum(d.counts.errors for d in rows),
    )


def accuracy_facts(current: VerdictCounts, previous: VerdictCounts, slo: float) -> AccuracyFacts:
    """The window's accuracy, the change from the window before, errors and the SLO."""
    delta = accuracy_delta(current.accuracy, previous.accuracy)
    attempts = current.decided + current.errors
    direction = direction_of(delta, FLAT_THRESHOLD)
    return AccuracyFacts(
        passed=current.passed,
        failed=current.failed,
        errors=current.errors,
        decided=current.decided,
        accuracy=current.accuracy,
        previous_decided=previous.decided,
        previous_accuracy=previous.accuracy,
        delta=delta,
        direction=None if direction is None else str(direction),
        error_rate=current.errors / attempts if attempts else None,
        slo=slo,
        meets_slo=None if current.accuracy is None else current.accuracy >= slo,
    )


def worst_skills(
    skills: Iterable[tuple[str | None, VerdictCounts]],
    limit: int = WORST_SKILLS,
    min_decided: int = MIN_SKILL_DECIDED,
) -> tuple[SkillFacts, ...]:
    """The skills with the lowest accuracy (ties by name) among those decided often enough."""
    ranked = sorted(
        (
            SkillFacts(ASK_LABEL if name is None else name, c.passed, c.decided, c.accuracy)
            for name, c in skills
            if c.decided >= min_decided
        ),
        key=lambda skill: (skill.accuracy, skill.skill),
    )
    return tuple(ranked[:limit])


def new_flaky_cases(current: Iterable[FlakyCase], previous: Iterable[FlakyCase]) -> list[FlakyCase]:
    """Cases flaky now whose (case, router, model) was not flaky in the window before."""
    before = {
        (case.key.case_id, case.key.router, case.key.model)
        for case in previous
        if case.flaky_class is FlakyClass.FLAKY
    }
    return [
        case
        for case in current
        if case.flaky_class is FlakyClass.FLAKY
        and (case.key.case_id, case.key.router, case.key.model) not in before
    ]


def change_facts(impact: ChangeImpact) -> ChangeFacts | None:
    """What a change did, when a paired comparison measured it and accuracy moved."""
    if impact.comparison is None or impact.before is None or impact.after is None:
        return None
    delta = accuracy_delta(impact.after.accuracy, impact.before.accuracy)
    moved = delta is not None and abs(delta) >= FLAT_THRESHOLD
    if not moved and not impact.comparison.significant_regression:
        return None
    event = impact.event.event
    flips = [case.flip for case in impact.cases]
    return ChangeFacts(
        event_id=impact.event.event_id,
        skill=event.skill,
        commit=event.commit_sha[:8],
        committed_on=event.committed_at.date(),
        subject=event.subject,
        before_accuracy=impact.before.accuracy,
        after_accuracy=impact.after.accuracy,
        delta=delta,
        p_value=impact.comparison.mcnemar.p_value,
        significant_regression=impact.comparison.significant_regression,
        regressed_cases=flips.count("regressed"),
        improved_cases=flips.count("improved"),
    )


def _changes(store: Store, attempt_filter: AttemptFilter) -> tuple[ChangeFacts, ...]:
    events = list_change_events(
        store, committed_since=attempt_filter.since, committed_until=attempt_filter.now
    )
    measured = [change_facts(measure_impact(store, e)) for e in events[-CHANGES_MEASURED:]]
    moved = [facts for facts in measured if facts is not None]
    moved.sort(key=lambda c: (-abs(c.delta or 0.0), -c.event_id))
    return tuple(moved[:CHANGES_LISTED])


def _flaky(store: Store, attempt_filter: AttemptFilter) -> list[FlakyCase]:
    with store.engine.connect() as connection:
        return classify_flaky(read_flaky_aggregates(connection, attempt_filter))


def _cost(store: Store, attempt_filter: AttemptFilter, daily_budget_usd: float) -> CostFacts:
    days = daily_spend(store.engine, attempt_filter)
    today = attempt_filter.now.date()
    projection = monthly_projection(days, today)
    burn = budget_burn(days, today, daily_budget_usd)
    return CostFacts(
        total_usd=math.fsum(day.cost_usd for day in days),
        attempts=sum(day.attempts for day in days),
        mean_days=PROJECTION_DAYS,
        mean_daily_usd=projection.mean_daily_usd,
        projection_days=MONTH_DAYS,
        monthly_projection_usd=projection.monthly_usd,
        daily_budget_usd=daily_budget_usd,
        days_over_budget=len(burn.days_over_budget),
        anomaly_days=sum(point.anomaly for point in day_points(days)),
    )


def gather_facts(
    store: Store,
    attempt_filter: AttemptFilter,
    *,
    window: str,
    slo: float = 0.85,
    daily_budget_usd: float = 25.0,
) -> SummaryFacts:
    """The facts of the filter's window (which must have one), against the window before it.

    `window` is how the window is written (`7d`); `slo` and `daily_budget_usd` come from
    the config.
    """
    if attempt_filter.window is None or attempt_filter.since is None:
        raise ValueError("a summary needs a window")
    previous = replace(attempt_filter, now=attempt_filter.since)
    engine = store.engine
    with ThreadPoolExecutor(max_workers=2) as pool:
        # the two flaky reads are the longest: they start first, one on each thread
        flaky_now_read = pool.submit(_flaky, store, attempt_filter)
        flaky_before_read = pool.submit(_flaky, store, previous)
        current_days = pool.submit(daily_verdicts, engine, attempt_filter)
        previous_days = pool.submit(daily_verdicts, engine, previous)
        skills = pool.submit(expected_skill_verdicts, engine, attempt_filter)
        cost = pool.submit(_cost, store, attempt_filter, daily_budget_usd)
        changes = _changes(store, attempt_filter)
        flaky_now = flaky_now_read.result()
        new_flaky = new_flaky_cases(flaky_now, flaky_before_read.result())
        accuracy = accuracy_facts(
            _total(current_days.result()), _total(previous_days.result()), slo
        )
    return SummaryFacts(
        window=window,
        start=attempt_filter.since.date(),
        end=attempt_filter.now.date(),
        accuracy=accuracy,
        worst_skills=worst_skills(skills.result()),
        flaky_cases=sum(case.flaky_class is FlakyClass.FLAKY for case in flaky_now),
        new_flaky=tuple(
            FlakyFacts(
                case.key.case_id,
                case.key.router,
                case.key.model,
                case.attempts,
                case.pass_rate,
                case.flip_rate,
            )
            for case in new_flaky[:NEW_FLAKY_LISTED]
        ),
        changes=changes,
        cost=cost.result(),
    )
