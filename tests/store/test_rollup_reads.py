"""Answers read from the rollups equal the same answers counted here in plain Python from the
attempts, on a seeded history of four runs over six days whose attempts start at odd
instants, for windows that start and end mid-hour (whole hours from the tables, the partial
ones from the attempts), shorter than an hour, on hour boundaries, empty, in another time
zone, by label and by run. SQLite, and PostgreSQL when it is configured.

Latency percentiles come from log buckets: each is within 2^(1/32) - 1 (2.19%) of numpy's
exact linear percentile (`sql_functions.log_bucket`, `api_health.percentiles_from_buckets`).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from sqlalchemy import func, select

from routelens.analytics.api_health import retry_error_kind
from routelens.analytics.summary import expectation_label
from routelens.analytics.window import AttemptFilter
from routelens.commands.cost import build_cost_report
from routelens.store import AttemptRecord, RunRecord, Store, Verdict
from routelens.store.api_reads import API_PERCENTILES, usage_by_day, usage_by_run
from routelens.store.confusion_reads import decided_route_counts, disambiguation_cases
from routelens.store.cost_reads import cost_counts, spend_by_expectation, spend_groups
from routelens.store.period_reads import (
    daily_spend,
    daily_verdicts,
    expected_skill_verdicts,
    release_verdicts,
)
from routelens.store.rollup_reads import Period, rollup_rows, split_hours
from routelens.store.rollups import ATTEMPTS, COSTS, DISAMBIGUATION, LATENCIES
from routelens.store.sql_functions import LOG_BUCKETS_PER_DOUBLING
from tests.factories import make_attempt, make_run
from tests.store.rollup_support import (
    DAY0,
    admitted,
    attempts_per_hour,
    record_history,
    stored_attempts,
)

NOW = DAY0 + timedelta(days=4, hours=13, minutes=47, seconds=12, microseconds=345678)
LOG_BUCKET_PRECISION = 2 ** (1 / LOG_BUCKETS_PER_DOUBLING) - 1
"""How far a percentile from the log buckets may be from the exact one, relatively."""
DECIDED = (Verdict.PASS, Verdict.FAIL)

FILTERS = {
    "all history": AttemptFilter(now=NOW),
    "1d": AttemptFilter(window=timedelta(days=1), now=NOW),
    "2d": AttemptFilter(window=timedelta(days=2), now=NOW),
    "7d": AttemptFilter(window=timedelta(days=7), now=NOW),
    "3h": AttemptFilter(window=timedelta(hours=3), now=NOW),
    "25 min inside one hour": AttemptFilter(window=timedelta(minutes=25), now=NOW),
    "50 min across an hour": AttemptFilter(
        window=timedelta(minutes=50), now=DAY0 + timedelta(days=2, hours=10, minutes=20)
    ),
    "5h ending on an hour": AttemptFilter(
        window=timedelta(hours=5), now=DAY0 + timedelta(days=2, hours=10)
    ),
    "in another time zone": AttemptFilter(
        window=timedelta(hours=30), now=NOW.astimezone(timezone(timedelta(hours=5, minutes=30)))
    ),
    "label team=qa": AttemptFilter(window=timedelta(days=3), labels={"team": "qa"}, now=NOW),
    "runs b and d": AttemptFilter(window=timedelta(days=2), run_ids=("run-b", "run-d"), now=NOW),
    "before any attempt": AttemptFilter(window=timedelta(days=1), now=DAY0 - timedelta(hours=1)),
}


@dataclass(frozen=True)
class Seeded:
    """A store holding the seeded history, and its attempts as read back."""

    store: Store
    runs: tuple[RunRecord, ...]
    attempts: tuple[AttemptRecord, ...]

    def admitted(self, attempt_filter: AttemptFilter) -> list[AttemptRecord]:
        """The attempts `attempt_filter` admits, chosen here in Python."""
        return [
            attempt
            for attempt in self.attempts
            if admitted(
                attempt,
                self.runs,
                since=attempt_filter.since,
                now=attempt_filter.now,
                labels=dict(attempt_filter.labels),
                run_ids=attempt_filter.run_ids,
            )
        ]


@pytest.fixture
def seeded(store: Store) -> Seeded:
    history = record_history(store)
    return Seeded(store, history.runs, tuple(stored_attempts(store)))


def _filters(seeded: Seeded) -> Iterator[tuple[str, AttemptFilter, list[AttemptRecord]]]:
    for name, attempt_filter in FILTERS.items():
        yield name, attempt_filter, seeded.admitted(attempt_filter)


def _day(attempt: AttemptRecord) -> str:
    return attempt.started_at.astimezone(UTC).date().isoformat()


def _close(value: float, expected: float, tolerance: float = 1e-8) -> bool:
    return math.isclose(value, expected, rel_tol=1e-9, abs_tol=tolerance)


def test_the_filters_cover_partial_hours_short_windows_and_nothing(seeded: Seeded) -> None:
    sizes = {name: len(found) for name, _, found in _filters(seeded)}
    assert sizes["before any attempt"] == 0
    assert 0 < sizes["25 min inside one hour"] < sizes["3h"] < sizes["1d"] < sizes["2d"]
    assert sizes["all history"] == len(seeded.attempts) == 4 * 90
    # the attempt that starts exactly at the 5h window's end is inside it (ends are inclusive)
    on_hour = DAY0 + timedelta(days=2, hours=10)
    assert any(a.started_at == on_hour for a in seeded.admitted(FILTERS["5h ending on an hour"]))
    splits = {name: split_hours(Period.of(f)) for name, f in FILTERS.items()}
    assert not splits["25 min inside one hour"].tables
    assert not splits["50 min across an hour"].tables
    assert splits["3h"].tables
    assert len(splits["3h"].raw) == 2


def test_decided_routes_and_disambiguation_cases(seeded: Seeded) -> None:
    for name, attempt_filter, attempts in _filters(seeded):
        routes = Counter(
            {
                (r.expected_skill, r.actual_skill, r.asked_clarification, r.category, r.passed): (
                    r.count
                )
                for r in decided_route_counts(seeded.store.engine, attempt_filter)
            }
        )
        expected = Counter(
            (
                a.expected_skill,
                a.actual_skill,
                a.asked_clarification,
                a.category,
                a.verdict is Verdict.PASS,
            )
            for a in attempts
            if a.verdict in DECIDED
        )
        assert routes == expected, name

        cases = {
            c.case_id: (c.attempts, c.clarified, c.options_scored, c.options_score_sum)
            for c in disambiguation_cases(seeded.store.engine, attempt_filter)
        }
        wanted: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0.0])
        for a in attempts:
            if a.category != "disambiguation" or a.verdict not in DECIDED:
                continue
            sums = wanted[a.case_id]
            sums[0] += 1
            sums[1] += a.actual_skill is None and a.asked_clarification
            sums[2] += a.options_score is not None
            sums[3] += a.options_score or 0.0
        assert set(cases) == set(wanted), name
        for case_id, (count, clarified, scored, score_sum) in cases.items():
            assert (count, clarified, scored) == tuple(wanted[case_id][:3]), (name, case_id)
            assert _close(score_sum, wanted[case_id][3]), (name, case_id)


def test_spend_by_expectation_labels_a_case_by_what_it_expects(seeded: Seeded) -> None:
    engine = seeded.store.engine
    for name, attempt_filter, attempts in _filters(seeded):
        groups = {g.key: g for g in spend_by_expectation(engine, attempt_filter)}
        wanted: dict[str, list[AttemptRecord]] = defaultdict(list)
        for a in attempts:
            wanted[expectation_label(a.category, a.expected_skill)].append(a)
        assert set(groups) == set(wanted), name
        for label, members in wanted.items():
            assert groups[label].attempts == len(members), (name, label)
            assert groups[label].passed == sum(a.verdict is Verdict.PASS for a in members)
            assert _close(groups[label].cost_usd, math.fsum(a.cost_usd for a in members), 1e-9)
            assert groups[label].tokens.input == sum(a.input_tokens for a in members)


def test_spend_by_skill_and_run_per_attempt_costs_and_their_median(seeded: Seeded) -> None:
    engine = seeded.store.engine
    for name, attempt_filter, attempts in _filters(seeded):
        for key in ("expected_skill", "run_id"):
            groups = {g.key: g for g in spend_groups(engine, attempt_filter, key, "(ask)")}
            wanted: dict[str, list[AttemptRecord]] = defaultdict(list)
            for a in attempts:
                value = getattr(a, key)
                wanted["(ask)" if value is None else value].append(a)
            assert set(groups) == set(wanted), (name, key)
            for value, members in wanted.items():
                group = groups[value]
                assert group.attempts == len(members), (name, key, value)
                assert group.passed == sum(a.verdict is Verdict.PASS for a in members)
                assert _close(group.cost_usd, math.fsum(a.cost_usd for a in members), 1e-9)
                assert group.tokens.input == sum(a.input_tokens for a in members)
                assert group.tokens.output == sum(a.output_tokens for a in members)
                assert group.tokens.cache_read == sum(a.cache_read_tokens for a in members)
                assert group.tokens.cache_write == sum(a.cache_write_tokens for a in members)

        counts = Counter(
            {round(c.cost_usd * 1e8): c.count for c in cost_counts(engine, attempt_filter)}
        )
        assert counts == Counter(round(a.cost_usd * 1e8) for a in attempts), name
        report = build_cost_report(seeded.store, attempt_filter, daily_budget_usd=1.0)
        scale = report.attempt_anomalies.scale
        if not attempts:
            assert scale is None
            continue
        assert scale is not None
        assert _close(scale.median, float(np.median([a.cost_usd for a in attempts])), 1e-8), name
        assert _close(report.total_usd, math.fsum(a.cost_usd for a in attempts), 1e-8), name


def test_spend_and_verdicts_per_day(seeded: Seeded) -> None:
    engine = seeded.store.engine
    for name, attempt_filter, attempts in _filters(seeded):
        spend = {
            d.day.isoformat(): (d.cost_usd, d.attempts) for d in daily_spend(engine, attempt_filter)
        }
        verdicts = {
            d.day.isoformat(): (d.counts.passed, d.counts.failed, d.counts.errors)
            for d in daily_verdicts(engine, attempt_filter)
        }
        by_day: dict[str, list[AttemptRecord]] = defaultdict(list)
        for a in attempts:
            by_day[_day(a)].append(a)
        assert set(spend) == set(verdicts) == set(by_day), name
        for day, members in by_day.items():
            cost, count = spend[day]
            assert count == len(members), (name, day)
            assert _close(cost, math.fsum(a.cost_usd for a in members), 1e-9), (name, day)
            assert verdicts[day] == _verdicts(members), (name, day)


def _verdicts(attempts: list[AttemptRecord]) -> tuple[int, int, int]:
    found = Counter(a.verdict for a in attempts)
    return found[Verdict.PASS], found[Verdict.FAIL], found[Verdict.ERROR]


def test_verdicts_per_expected_skill_and_per_release(seeded: Seeded) -> None:
    engine = seeded.store.engine
    runs = {run.run_id: run for run in seeded.runs}
    for name, attempt_filter, attempts in _filters(seeded):
        skills = {
            skill: (c.passed, c.failed, c.errors)
            for skill, c in expected_skill_verdicts(engine, attempt_filter)
        }
        by_skill: dict[str | None, list[AttemptRecord]] = defaultdict(list)
        for a in attempts:
            by_skill[a.expected_skill].append(a)
        assert skills == {skill: _verdicts(m) for skill, m in by_skill.items()}, name

        for label_key in ("team", None):
            releases = {
                g.value: (g.first_seen, (g.counts.passed, g.counts.failed, g.counts.errors))
                for g in release_verdicts(engine, attempt_filter, label_key=label_key)
            }
            by_value: dict[str, list[AttemptRecord]] = defaultdict(list)
            for a in attempts:
                run = runs[a.run_id]
                value = run.git_commit if label_key is None else run.labels.get(label_key)
                if value is not None:
                    by_value[value].append(a)
            assert releases == {
                value: (min(a.started_at for a in m), _verdicts(m)) for value, m in by_value.items()
            }, (name, label_key)


def _latency_percentiles(attempts: list[AttemptRecord]) -> tuple[float | None, ...]:
    decided = [a.latency_s for a in attempts if a.verdict in DECIDED]
    if not decided:
        return tuple(None for _ in API_PERCENTILES)
    return tuple(float(v) for v in np.percentile(decided, API_PERCENTILES, method="linear"))


def _check_usage(name: str, usage: object, members: list[AttemptRecord], by_run: bool) -> None:
    from routelens.store.api_reads import ApiUsage

    assert isinstance(usage, ApiUsage)
    assert usage.attempts == len(members), name
    assert usage.errors == sum(a.verdict is Verdict.ERROR for a in members), name
    assert usage.retries == sum(a.retries for a in members), name
    assert _close(usage.retry_wait_s, math.fsum(a.retry_wait_s for a in members)), name
    errored = [a for a in members if a.verdict is Verdict.ERROR]
    assert usage.rate_limited_errors == sum(a.http_status in (429, 529) for a in errored), name
    assert usage.server_errors == sum(
        a.http_status is not None
        and 500 <= a.http_status <= 599
        and a.http_status not in (429, 529)
        for a in errored
    ), name
    assert usage.tokens.input == sum(a.input_tokens for a in members), name
    assert _close(usage.cost_usd, math.fsum(a.cost_usd for a in members)), name
    kinds = Counter(
        retry_error_kind(event.http_status, event.error_type)
        for a in members
        if a.retries > 0
        for event in a.retry_log
    )
    assert usage.retries_by_kind == dict(kinds), name
    exact = _latency_percentiles(members)
    for (label, estimate), value in zip(usage.latency_s.items(), exact, strict=True):
        if value is None:
            assert estimate is None, (name, label)
            continue
        assert estimate is not None, (name, label)
        assert abs(estimate - value) <= LOG_BUCKET_PRECISION * value + 1e-12, (name, label)
    if by_run:
        first = min(a.started_at for a in members).timestamp()
        last = max(a.finished_at for a in members).timestamp()
        busy = math.fsum((a.finished_at - a.started_at).total_seconds() for a in members)
        assert usage.first_start_s is not None
        assert usage.last_end_s is not None
        assert abs(usage.first_start_s - first) < 1e-3, name
        assert abs(usage.last_end_s - last) < 1e-3, name
        # SQLite's julianday() keeps milliseconds: each attempt's busy time is that precise
        assert abs(usage.busy_s - busy) <= 1e-3 * len(members), name


def test_api_usage_per_day_and_per_run(seeded: Seeded) -> None:
    engine = seeded.store.engine
    for name, attempt_filter, attempts in _filters(seeded):
        for by_run, read in ((False, usage_by_day), (True, usage_by_run)):
            groups: dict[str, list[AttemptRecord]] = defaultdict(list)
            for a in attempts:
                groups[a.run_id if by_run else _day(a)].append(a)
            usages = {usage.key: usage for usage in read(engine, attempt_filter)}
            assert set(usages) == set(groups), name
            for key, members in groups.items():
                _check_usage(f"{name} {key}", usages[key], members, by_run)


def test_the_log_bucket_percentiles_are_not_exact_here(seeded: Seeded) -> None:
    """The precision bound above is used, not idle: some estimate differs from numpy's."""
    usages = usage_by_run(seeded.store.engine, FILTERS["all history"])
    differences = [
        abs(usage.latency_s["p50"] - exact)
        for usage in usages
        for exact in _latency_percentiles([a for a in seeded.attempts if a.run_id == usage.key])[:1]
        if usage.latency_s["p50"] is not None and exact is not None
    ]
    assert max(differences) > 0


BOUNDARY = datetime(2025, 3, 4, 10, tzinfo=UTC)


def _period_counts(store: Store, period: Period) -> list[int]:
    """Attempts the period holds according to each rollup that counts attempts."""
    found = []
    with store.engine.connect() as connection:
        for rollup in (ATTEMPTS, COSTS, LATENCIES, DISAMBIGUATION):
            rows = rollup_rows(store.engine.dialect.name, rollup, period)
            found.append(int(connection.execute(select(func.sum(rows.c.attempts))).scalar() or 0))
    return found


def test_an_attempt_belongs_to_the_hour_it_starts_in(store: Store) -> None:
    """On an hour boundary it opens that hour; one that finishes an hour later stays in the
    hour it started (docs: rollups are per UTC hour of the attempts' start)."""
    store.create_run(make_run(), [], [])
    store.record_attempts(
        [
            make_attempt("before", started_at=BOUNDARY - timedelta(microseconds=1),
                         finished_at=BOUNDARY + timedelta(seconds=1), category="disambiguation"),
            make_attempt("on", started_at=BOUNDARY, finished_at=BOUNDARY,
                         category="disambiguation"),
            make_attempt("long", started_at=BOUNDARY + timedelta(minutes=30),
                         finished_at=BOUNDARY + timedelta(hours=1, minutes=20),
                         category="disambiguation"),
        ]
    )  # fmt: skip
    assert attempts_per_hour(store.engine) == {
        ("run-1", "2025-03-04 09"): 1,
        ("run-1", "2025-03-04 10"): 2,
    }
    hour = timedelta(hours=1)
    cases = [
        (Period(BOUNDARY - hour, BOUNDARY), 2),  # the end is inclusive
        (Period(BOUNDARY - hour, BOUNDARY, end_inclusive=False), 1),
        (Period(BOUNDARY, BOUNDARY + hour, end_inclusive=False), 2),
        (Period(BOUNDARY + hour, BOUNDARY + 2 * hour), 0),  # "long" finished in it, not started
        (Period(BOUNDARY + timedelta(microseconds=1), BOUNDARY + timedelta(minutes=59)), 1),
        (Period(BOUNDARY, None), 2),
        (Period(None, BOUNDARY, end_inclusive=False), 1),
        (Period(BOUNDARY, BOUNDARY), 1),  # an instant
        (Period(BOUNDARY + timedelta(minutes=31), BOUNDARY + timedelta(minutes=40)), 0),
        (Period(), 3),
    ]
    for period, expected in cases:
        assert _period_counts(store, period) == [expected] * 4, period


def test_a_null_skill_and_an_empty_one_stay_apart(store: Store) -> None:
    store.create_run(make_run(), [], [])
    store.record_attempts(
        [
            make_attempt("none", Verdict.FAIL, expected=None, started_at=BOUNDARY),
            make_attempt("empty", Verdict.FAIL, expected="", started_at=BOUNDARY),
            make_attempt("again", Verdict.FAIL, expected=None, started_at=BOUNDARY),
        ]
    )
    routes = decided_route_counts(store.engine, AttemptFilter(now=BOUNDARY))
    assert {r.expected_skill: r.count for r in routes} == {None: 2, "": 1}
    assert len(routes) == 2
