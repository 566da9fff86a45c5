"""The pages that read the rollups, against the same figures computed from the attempts.

The store's attempts are spread over 40 days of hours, and the clock stops mid-hour, so
every window (7 and 30 days) starts and ends inside an hour: its whole hours come from the
rollup tables and its edges from the attempts. Attempts sit just before, at and just after
the window's start, and at its end. Each page's numbers must equal what the analytics
functions make of the attempts themselves (latency percentiles: within their documented
precision of numpy's). On SQLite, and on PostgreSQL when one is configured.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from routelens.analytics.api_health import retry_error_kind
from routelens.analytics.confusion import (
    CaseDisambiguation,
    RouteCount,
    confusion_report,
    confusion_report_dict,
    disambiguation_view,
)
from routelens.analytics.cost import DaySpend, cost_report, cost_report_dict
from routelens.analytics.trend import (
    DayCounts,
    GroupCounts,
    VerdictCounts,
    trend_report,
    trend_report_dict,
)
from routelens.config import RoutelensConfig
from routelens.store import AttemptRecord, RunCaseRecord, Verdict, open_store
from routelens.store.api_reads import LATENCY_RELATIVE_ERROR
from routelens.store.records import RetryEvent
from routelens.store.rollups import SPEND_DECIMALS
from routelens.web.app import create_app
from routelens.web.pages.overview import RELEASES_SHOWN
from tests import factories

NOW = datetime(2025, 3, 20, 14, 37, 12, 500000, tzinfo=UTC)
SKILLS = ("deploy", "review", "triage", "notes")
OPTIONS = {"amb-0": ("deploy", "review"), "amb-1": ("triage", "notes", "review")}
RETRY_EVENTS = (
    RetryEvent("rate_limit_error", 429, 0.5),
    RetryEvent("overloaded_error", 529, 0.2),
    RetryEvent("api_error", 500, 0.1),
    RetryEvent("timeout", None, 1.0),
)


@dataclass(frozen=True)
class Planted:
    """A run's start, release and attempts' offsets from its start."""

    started_at: datetime
    release: str | None
    offsets: tuple[timedelta, ...]


def _spread(count: int, step_minutes: float) -> tuple[timedelta, ...]:
    return tuple(timedelta(minutes=index * step_minutes) for index in range(count))


def _plan() -> dict[str, Planted]:
    """Runs straddling each window's start, in the middle, and in the clock's own hour."""
    edge_30d, edge_7d = NOW - timedelta(days=30), NOW - timedelta(days=7)
    return {
        "run-old": Planted(NOW - timedelta(days=40), "v0", _spread(12, 17)),
        # attempts from 45 minutes before the 30-day start to 3 hours after, one at it exactly
        "run-30d": Planted(edge_30d - timedelta(minutes=45), "v1", _spread(40, 5.6)),
        "run-30d-at": Planted(edge_30d, "v1", (timedelta(0),)),
        "run-mid-a": Planted(NOW - timedelta(days=19, minutes=13), "v2", _spread(30, 9)),
        "run-mid-b": Planted(NOW - timedelta(days=11, hours=5), None, _spread(30, 4)),
        "run-7d": Planted(edge_7d - timedelta(minutes=50), "v3", _spread(50, 3.1)),
        "run-7d-at": Planted(edge_7d, "v3", (timedelta(0),)),
        "run-day": Planted(NOW - timedelta(days=2, minutes=31), "v4", _spread(60, 2.3)),
        # the clock's hour: attempts up to the clock, the last one exactly at it
        "run-now": Planted(NOW - timedelta(minutes=95), "v4", _spread(20, 5)),
        "run-now-at": Planted(NOW, "v4", (timedelta(0),)),
    }


def _attempt(rng: random.Random, run_id: str, index: int, started: datetime) -> AttemptRecord:
    kind = rng.choice(("direct", "direct", "negative", "disambiguation"))
    expected: str | None = rng.choice(SKILLS)
    case_id = f"{kind}-{index % 7}"
    options_score = None
    if kind == "disambiguation":
        case_id, expected = f"amb-{index % 2}", None
    verdict = rng.choice((Verdict.PASS, Verdict.PASS, Verdict.PASS, Verdict.FAIL, Verdict.ERROR))
    asked = verdict is not Verdict.ERROR and rng.random() < 0.2
    actual = None if asked or verdict is Verdict.ERROR else rng.choice((*SKILLS, None))
    if kind == "disambiguation" and verdict is not Verdict.ERROR:
        options_score = rng.choice((None, 0.0, 0.5, 1.0))
    log = tuple(rng.choice(RETRY_EVENTS) for _ in range(rng.choice((0, 0, 0, 1, 2))))
    latency = round(rng.lognormvariate(0.3, 0.8), 6)
    return factories.make_attempt(
        case_id,
        verdict,
        expected=expected,
        actual=actual,
        run_id=run_id,
        repeat_index=index,
        category=kind,
        asked_clarification=asked,
        started_at=started,
        finished_at=started + timedelta(seconds=latency),
        latency_s=latency,
        options_score=options_score,
        retries=len(log),
        retry_log=log,
        retry_wait_s=sum(event.wait_s for event in log),
        http_status=rng.choice((429, 529, 500, 503, 400)) if verdict is Verdict.ERROR else 200,
        error_type="api_error" if verdict is Verdict.ERROR else None,
        input_tokens=rng.randint(0, 2000),
        output_tokens=rng.randint(0, 80),
        cache_read_tokens=rng.randint(0, 2000),
        cache_write_tokens=rng.randint(0, 200),
        cost_usd=round(rng.uniform(0, 0.02), 7),
    )


@pytest.fixture
def planted(
    store_url_factory: Callable[[], str],
) -> Iterator[tuple[TestClient, list[AttemptRecord]]]:
    """The app over a read-only store holding `_plan()`'s runs, its clock at NOW."""
    rng = random.Random(15)
    url = store_url_factory()
    attempts: list[AttemptRecord] = []
    with open_store(url) as store:
        for run_id, plan in _plan().items():
            labels = {} if plan.release is None else {"release": plan.release}
            run = factories.make_run(
                run_id, started_at=plan.started_at, labels=labels, settings={"concurrency": 2}
            )
            cases = [
                RunCaseRecord(run_id, case_id, "disambiguation", position, {
                    "id": case_id, "disambiguation_options": list(options)})
                for position, (case_id, options) in enumerate(OPTIONS.items())
            ]  # fmt: skip
            store.create_run(run, [], cases)
            made = [
                _attempt(rng, run_id, index, plan.started_at + offset)
                for index, offset in enumerate(plan.offsets)
            ]
            store.record_attempts(made)
            attempts += made
    with open_store(url, access="read") as read_only:
        app = create_app(read_only, RoutelensConfig(), cache_seconds=0)
        app.state.context.clock = lambda: NOW
        with TestClient(app) as client:
            yield client, attempts


def _within(attempts: list[AttemptRecord], days: int) -> list[AttemptRecord]:
    since = NOW - timedelta(days=days)
    found = [attempt for attempt in attempts if since <= attempt.started_at <= NOW]
    assert any(attempt.started_at == since for attempt in found)  # the edges are exercised
    assert any(attempt.started_at == NOW for attempt in found)
    assert any(attempt.started_at < since for attempt in attempts)
    return found


def _verdicts(attempts: list[AttemptRecord]) -> VerdictCounts:
    counts = Counter(attempt.verdict for attempt in attempts)
    return VerdictCounts(counts[Verdict.PASS], counts[Verdict.FAIL], counts[Verdict.ERROR])


def _by(
    attempts: list[AttemptRecord], key: Callable[[AttemptRecord], Any]
) -> dict[Any, list[AttemptRecord]]:
    groups: defaultdict[Any, list[AttemptRecord]] = defaultdict(list)
    for attempt in attempts:
        groups[key(attempt)].append(attempt)
    return dict(groups)


def _day(attempt: AttemptRecord) -> date:
    return attempt.started_at.astimezone(UTC).date()


def test_overview_equals_the_attempts(planted: tuple[TestClient, list[AttemptRecord]]) -> None:
    client, attempts = planted
    served = client.get("/api/overview?window=30d").json()
    window = _within(attempts, 30)
    releases = _plan()
    by_release = _by(
        [a for a in window if releases[a.run_id].release is not None],
        lambda a: releases[a.run_id].release,
    )
    trend = trend_report_dict(
        trend_report(
            [DayCounts(day, _verdicts(rows)) for day, rows in sorted(_by(window, _day).items())],
            [
                GroupCounts(value, min(a.started_at for a in rows), _verdicts(rows))
                for value, rows in by_release.items()
            ],
            compare_by="label:release",
        )
    )
    trend["comparison"]["groups"] = trend["comparison"]["groups"][-RELEASES_SHOWN:]
    assert served["trend"] == trend
    spend = [
        DaySpend(day, round(sum(a.cost_usd for a in rows), SPEND_DECIMALS), len(rows))
        for day, rows in sorted(_by(window, _day).items())
    ]
    config = RoutelensConfig()
    costs = cost_report_dict(
        cost_report(
            spend, [], [], [], [], today=NOW.date(), daily_budget_usd=config.daily_budget_usd
        )
    )
    for key in ("by_day", "projection", "budget"):
        assert served["cost"][key] == costs[key], key


def _expected_usage(rows: list[AttemptRecord]) -> dict[str, Any]:
    errors = [a for a in rows if a.verdict is Verdict.ERROR]
    retried = [event for a in rows if a.retries > 0 for event in a.retry_log]
    return {
        "attempts": len(rows),
        "errors": len(errors),
        "retries": sum(a.retries for a in rows),
        "requests": len(rows) + sum(a.retries for a in rows),
        "retry_wait_s": pytest.approx(sum(a.retry_wait_s for a in rows)),
        "retries_by_kind": dict(
            sorted(Counter(retry_error_kind(e.http_status, e.error_type) for e in retried).items())
        ),
        "tokens": {
            "input": sum(a.input_tokens for a in rows),
            "output": sum(a.output_tokens for a in rows),
            "cache_read": sum(a.cache_read_tokens for a in rows),
            "cache_write": sum(a.cache_write_tokens for a in rows),
        },
        "cost_usd": pytest.approx(sum(a.cost_usd for a in rows)),
    }


def _assert_latency(served: dict[str, float | None], rows: list[AttemptRecord]) -> None:
    decided = [a.latency_s for a in rows if a.verdict is not Verdict.ERROR]
    for percentile in (50, 95, 99):
        found = served[f"p{percentile}"]
        if not decided:
            assert found is None
            continue
        exact = float(np.percentile(decided, percentile))
        assert found == pytest.approx(exact, rel=LATENCY_RELATIVE_ERROR), percentile


def test_sre_equals_the_attempts(planted: tuple[TestClient, list[AttemptRecord]]) -> None:
    client, attempts = planted
    served = client.get("/api/sre?window=7d").json()
    window = _within(attempts, 7)
    by_day = _by(window, _day)
    assert [row["day"] for row in served["by_day"]] == [str(day) for day in sorted(by_day)]
    for row in served["by_day"]:
        rows = by_day[date.fromisoformat(row["day"])]
        assert {key: row[key] for key in _expected_usage(rows)} == _expected_usage(rows)
        _assert_latency(row["latency_s"], rows)
    by_run = _by(window, lambda a: a.run_id)
    assert sorted(row["run_id"] for row in served["by_run"]) == sorted(by_run)
    for row in served["by_run"]:
        rows = by_run[row["run_id"]]
        assert {key: row[key] for key in _expected_usage(rows)} == _expected_usage(rows)
        _assert_latency(row["latency_s"], rows)
        wall = max(a.finished_at for a in rows) - min(a.started_at for a in rows)
        # SQLite's date functions keep milliseconds: a millisecond per time read
        assert row["wall_s"] == pytest.approx(wall.total_seconds(), abs=2e-3)
        busy = sum((a.finished_at - a.started_at).total_seconds() for a in rows)
        assert row["busy_s"] == pytest.approx(busy, abs=1e-3 * len(rows))
    assert served["latency_percentiles"] == {
        "method": "log_buckets",
        "relative_error": LATENCY_RELATIVE_ERROR,
    }
    page = client.get("/sre?window=7d").text
    assert "estimated from latencies counted in log buckets: within 2.2% of the exact" in page


def test_confusion_equals_the_attempts(planted: tuple[TestClient, list[AttemptRecord]]) -> None:
    client, attempts = planted
    served = client.get("/api/confusion?window=7d").json()
    decided = [a for a in _within(attempts, 7) if a.verdict is not Verdict.ERROR]
    groups = _by(
        decided,
        lambda a: (a.expected_skill, a.actual_skill, a.asked_clarification, a.category, a.verdict),
    )
    counts = [
        RouteCount(
            key[0], key[1], key[2], len(rows), category=key[3], passed=key[4] is Verdict.PASS
        )
        for key, rows in groups.items()
    ]
    cases = [
        CaseDisambiguation(
            case_id=case_id,
            attempts=len(rows),
            clarified=sum(a.actual_skill is None and a.asked_clarification for a in rows),
            options_score_sum=sum(a.options_score or 0.0 for a in rows),
            options_scored=sum(a.options_score is not None for a in rows),
        )
        for case_id, rows in _by(
            [a for a in decided if a.category == "disambiguation"], lambda a: a.case_id
        ).items()
    ]
    report = confusion_report(counts, disambiguation_view(cases, OPTIONS), limit=10)
    expected = confusion_report_dict(report)
    assert {key: served[key] for key in expected} == expected
