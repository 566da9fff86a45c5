"""The exporter's values: a real store filled with known attempts, scraped over HTTP, parsed.

Each test writes attempts whose counts it knows, starts the exporter on a free loopback port,
scrapes `/metrics` with httpx, parses the text with prometheus_client's parser, and checks
the numbers. The clock is injected, so windows are exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from routelens.config import RoutelensConfig
from routelens.publish import catalogue as c
from routelens.publish.exporter import StoreCollector, start_exporter
from routelens.routers.base import RetryEvent
from routelens.store import (
    AttemptRecord,
    RunRecord,
    RunSkillRecord,
    Store,
    Verdict,
    schema,
)
from routelens.store.rollup_writes import rebuild_rollups
from tests.factories import make_attempt, make_run

NOW = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)
"""The scrape's "now": a Wednesday, the 12th of a 31-day month."""
HASH_A = "aaaaaaaaaaaaaaaa1111"
HASH_B = "bbbbbbbbbbbbbbbb2222"


@dataclass
class Scrape:
    """Parsed families of one scrape, with lookups by name and labels."""

    families: dict[str, Any]
    text: str

    def samples(self, name: str, **labels: str) -> list[Any]:
        """Samples named `name` (the sample name) whose labels include `labels`."""
        return [
            sample
            for family in self.families.values()
            for sample in family.samples
            if sample.name == name and labels.items() <= sample.labels.items()
        ]

    def value(self, name: str, **labels: str) -> float:
        """The one sample matching; fails when there is none or several."""
        found = self.samples(name, **labels)
        assert len(found) == 1, (name, labels, found)
        return float(found[0].value)

    def total(self, name: str, **labels: str) -> float:
        """The sum of the samples matching (0 when none)."""
        return sum(float(sample.value) for sample in self.samples(name, **labels))


def scrape(url: str, config: RoutelensConfig | None = None, now: datetime = NOW) -> Scrape:
    """Start the exporter on a free port, GET /metrics once, stop it, parse the text."""
    collector = StoreCollector(url, config or RoutelensConfig(), clock=lambda: now)
    running = start_exporter(collector, host="127.0.0.1", port=0)
    try:
        response = httpx.get(running.url, timeout=30)
    finally:
        running.stop()
    assert response.status_code == 200, response.text
    families = {family.name: family for family in text_string_to_metric_families(response.text)}
    return Scrape(families, response.text)


def attempt(case_id: str, verdict: Verdict, started: datetime, **fields: Any) -> AttemptRecord:
    """An attempt of run `run-1` taking one second from `started`."""
    values: dict[str, Any] = {
        "started_at": started,
        "finished_at": started + timedelta(seconds=1),
        "expected_skill_hash": HASH_A,
    }
    values.update(fields)
    if verdict is Verdict.FAIL:
        values.setdefault("actual", "review")
    return make_attempt(case_id, verdict, **values)


def add_run(store: Store, run: RunRecord, skills: tuple[str, ...] = ()) -> None:
    """Record a run with the named skills (content hash HASH_A)."""
    rows = [
        RunSkillRecord(run.run_id, name, name, HASH_A, f"{name} things", f"/s/{name}/SKILL.md")
        for name in skills
    ]
    store.create_run(run, rows, [])


def test_window_counts_accuracy_and_error_rate_are_exact(store: Store, store_url: str) -> None:
    add_run(store, make_run("run-1", started_at=NOW - timedelta(days=9)))
    hour_ago = NOW - timedelta(hours=1)
    store.record_attempts(
        [
            *(attempt(f"p{i}", Verdict.PASS, hour_ago) for i in range(3)),
            attempt("f", Verdict.FAIL, hour_ago),
            attempt("e", Verdict.ERROR, hour_ago, error_type="timeout"),
            attempt("old-pass", Verdict.PASS, NOW - timedelta(days=3)),
            attempt("very-old", Verdict.FAIL, NOW - timedelta(days=8), expected="legacy"),
        ]
    )
    result = scrape(store_url)
    name = c.WINDOW_ATTEMPTS.name
    assert result.total(name, window="1d", outcome="pass") == 3
    assert result.total(name, window="1d", outcome="fail") == 1
    assert result.total(name, window="1d", outcome="error") == 1
    assert result.total(name, window="7d", outcome="pass") == 4
    assert result.total(name, window="7d") == 6
    # the 8-day-old attempt is in no window series
    assert result.samples(name, skill="legacy") == []
    labels = result.samples(name, window="1d", outcome="fail")[0].labels
    assert labels[c.LABEL_SKILL_VERSION] == HASH_A[:12]
    assert labels[c.LABEL_SKILLS_VERSION] == make_run().skills_hash[:12]
    assert labels[c.LABEL_SKILL] == "deploy"
    assert result.value(c.ACCURACY.name, window="1d") == pytest.approx(0.75)
    assert result.value(c.ACCURACY.name, window="7d") == pytest.approx(0.8)
    assert result.value(c.ACCURACY.name, window="previous_7d") == 0.0
    assert result.value(c.ACCURACY_WEEK_OVER_WEEK_DELTA.name) == pytest.approx(0.8)
    assert result.value(c.ERROR_RATE.name, window="1d") == pytest.approx(1 / 5)
    assert result.value(c.CONFUSION.name, window="1d", actual_skill="review") == 1
    assert result.value(c.CONFUSION.name, window="7d", actual_skill="deploy") == 4
    assert result.value("routelens_attempts_total", outcome="fail") == 2  # all time


def test_disambiguation_clarification_rate(store: Store, store_url: str) -> None:
    add_run(store, make_run())
    hour_ago = NOW - timedelta(hours=1)
    ask = {"category": "disambiguation", "expected": None, "asked_clarification": True}
    store.record_attempts(
        [
            attempt("d1", Verdict.PASS, hour_ago, **ask),
            attempt("d2", Verdict.PASS, hour_ago, **ask),
            attempt("d3", Verdict.FAIL, hour_ago, category="disambiguation", expected=None),
            attempt("d4", Verdict.ERROR, hour_ago, category="disambiguation"),
        ]
    )
    result = scrape(store_url)
    assert result.value(c.CLARIFICATION_RATE.name, window="1d") == pytest.approx(2 / 3)
    assert result.value(c.DISAMBIGUATION_ATTEMPTS.name, window="1d", outcome="pass") == 2
    assert result.value(c.DISAMBIGUATION_ATTEMPTS.name, window="7d", outcome="error") == 1
    assert result.value(c.CONFUSION.name, window="1d", actual_skill="review") == 1  # d3
    assert (
        result.value(c.CONFUSION.name, window="1d", expected_skill="none", actual_skill="clarified")
        == 2
    )


def test_a_route_to_a_bundled_skill_keeps_its_builtin_label(store: Store, store_url: str) -> None:
    add_run(store, make_run())
    hour_ago = NOW - timedelta(hours=1)
    store.record_attempts(
        [
            attempt("b1", Verdict.FAIL, hour_ago, actual="builtin:dataviz"),
            attempt("b2", Verdict.FAIL, hour_ago, actual="builtin:dataviz", expected=None),
        ]
    )
    result = scrape(store_url)
    assert (
        result.value(
            c.CONFUSION.name, window="1d", expected_skill="deploy", actual_skill="builtin:dataviz"
        )
        == 1
    )
    assert (
        result.value(
            c.CONFUSION.name, window="1d", expected_skill="none", actual_skill="builtin:dataviz"
        )
        == 1
    )


def _clarification_store(store: Store) -> None:
    """Disambiguation attempts whose questions named 1/2, 1/3 and all options, and noise."""
    add_run(store, make_run())
    hour_ago, two_days_ago = NOW - timedelta(hours=1), NOW - timedelta(days=2)
    ask = {"category": "disambiguation", "expected": None, "asked_clarification": True}
    store.record_attempts(
        [
            attempt("d1", Verdict.PASS, hour_ago, options_score=0.5, **ask),
            attempt("d1", Verdict.PASS, two_days_ago, options_score=1.0, repeat_index=1, **ask),
            attempt("d2", Verdict.PASS, hour_ago, options_score=1 / 3, **ask),
            attempt("d3", Verdict.PASS, two_days_ago, options_score=1.0, **ask),
            # not counted: no options to name, a routed answer, another category, too old
            attempt("d4", Verdict.PASS, hour_ago, **ask),
            attempt("d5", Verdict.FAIL, hour_ago, category="disambiguation", options_score=0.0),
            attempt(
                "e1",
                Verdict.PASS,
                hour_ago,
                expected=None,
                options_score=0.0,
                asked_clarification=True,
            ),
            attempt("d6", Verdict.PASS, NOW - timedelta(days=8), options_score=0.0, **ask),
        ]
    )


def test_clarification_options_named_mean_per_window_and_case(store: Store, store_url: str) -> None:
    _clarification_store(store)
    result = scrape(store_url)
    named = c.CLARIFICATION_OPTIONS_NAMED.name
    assert result.value(named, window="1d") == pytest.approx((0.5 + 1 / 3) / 2)
    assert result.value(named, window="7d") == pytest.approx((0.5 + 1.0 + 1 / 3 + 1.0) / 4)
    per_case = c.CASE_CLARIFICATION_OPTIONS_NAMED.name
    by_case = {s.labels[c.LABEL_CASE_ID]: s.value for s in result.samples(per_case)}
    assert by_case == {"d1": pytest.approx(0.75), "d2": pytest.approx(1 / 3), "d3": 1.0}


def test_clarification_options_named_is_absent_without_scored_questions(
    store: Store, store_url: str
) -> None:
    add_run(store, make_run())
    ask = {"category": "disambiguation", "expected": None, "asked_clarification": True}
    store.record_attempts([attempt("d4", Verdict.PASS, NOW - timedelta(hours=1), **ask)])
    result = scrape(store_url)
    assert result.samples(c.CLARIFICATION_OPTIONS_NAMED.name) == []
    assert result.samples(c.CASE_CLARIFICATION_OPTIONS_NAMED.name) == []
    assert result.value(c.CLARIFICATION_RATE.name, window="1d") == 1.0


def test_per_case_options_named_follows_max_case_labels(store: Store, store_url: str) -> None:
    _clarification_store(store)
    # the 7-day window holds d1, d2, d3, d4, d5 and e1: six distinct cases
    at_limit = scrape(store_url, RoutelensConfig(max_case_labels=6))
    assert len(at_limit.samples(c.CASE_CLARIFICATION_OPTIONS_NAMED.name)) == 3
    over = scrape(store_url, RoutelensConfig(max_case_labels=5))
    assert over.samples(c.CASE_CLARIFICATION_OPTIONS_NAMED.name) == []
    assert len(over.samples(c.CLARIFICATION_OPTIONS_NAMED.name)) == 2  # not per case: kept


def _flaky_store(store: Store) -> None:
    """Three cases over the week: always passes, alternates 10 times, and one attempt."""
    add_run(store, make_run())
    start = NOW - timedelta(days=2)
    attempts = [
        attempt("steady", Verdict.PASS, start + timedelta(minutes=i), repeat_index=i)
        for i in range(6)
    ]
    attempts += [
        attempt(
            "coin",
            Verdict.PASS if i % 2 else Verdict.FAIL,
            start + timedelta(minutes=i),
            repeat_index=i,
            latency_s=float(i + 1),
        )
        for i in range(10)
    ]
    attempts.append(attempt("once", Verdict.PASS, start, category="edge"))
    store.record_attempts(attempts)


def test_case_classes_and_per_case_series(store: Store, store_url: str) -> None:
    _flaky_store(store)
    result = scrape(store_url)
    assert result.value(c.CASES_BY_CLASS.name, **{"class": "stable-pass"}) == 1
    assert result.value(c.CASES_BY_CLASS.name, **{"class": "flaky"}) == 1
    assert result.value(c.CASES_BY_CLASS.name, **{"class": "insufficient-data"}) == 1
    assert result.value(c.CASES_BY_CLASS.name, **{"class": "broken"}) == 0
    coin = {"case_id": "coin", "category": "core", "class": "flaky"}
    assert result.value(c.CASE_PASS_RATE.name, **coin) == pytest.approx(0.5)
    assert result.value(c.CASE_STABILITY.name, **coin) == 0.0  # the interval holds 0.5
    steady = {"case_id": "steady", "class": "stable-pass"}
    assert result.value(c.CASE_STABILITY.name, **steady) > 0
    expected_p95 = float(np.percentile(np.arange(1.0, 11.0), 95, method="linear"))
    assert result.value(c.CASE_LATENCY_P95.name, case_id="coin") == pytest.approx(expected_p95)
    assert result.value(c.CASE_LATENCY_P95.name, case_id="once", category="edge") == 1.0


def test_case_labels_disappear_above_max_case_labels(store: Store, store_url: str) -> None:
    _flaky_store(store)
    at_limit = scrape(store_url, RoutelensConfig(max_case_labels=3))
    assert len(at_limit.samples(c.CASE_STABILITY.name)) == 3
    over = scrape(store_url, RoutelensConfig(max_case_labels=2))
    for spec in (c.CASE_STABILITY, c.CASE_PASS_RATE, c.CASE_LATENCY_P95):
        assert over.samples(spec.name) == []
    assert over.total(c.CASES_BY_CLASS.name) == 3


def test_cost_budget_projection_and_anomaly(store: Store, store_url: str) -> None:
    add_run(store, make_run())
    spend = [attempt("today", Verdict.PASS, NOW - timedelta(hours=2), cost_usd=2.0)]
    spend += [
        attempt(f"day{back}", Verdict.PASS, NOW - timedelta(days=back, hours=1), cost_usd=1.0)
        for back in range(1, 7)
    ]
    spend.append(attempt("last-month", Verdict.FAIL, NOW - timedelta(days=20), cost_usd=5.0))
    store.record_attempts(spend)
    result = scrape(store_url, RoutelensConfig(daily_budget_usd=4.0))
    assert result.value(c.DAILY_COST.name) == pytest.approx(2.0)
    assert result.value(c.DAILY_BUDGET.name) == 4.0
    assert result.value(c.BUDGET_BURN.name) == pytest.approx(0.5)
    # March so far: 6 x $1 + $2 today; then the 7-day mean ($8 / 7) for the 19 days left
    assert result.value(c.MONTHLY_PROJECTED_COST.name) == pytest.approx(8 + 8 / 7 * 19)
    # previous 28 days: six $1, one $5, 21 x $0 → median 0, MAD 0 → MeanAD fallback
    mean_ad = (6 * 1.0 + 5.0) / 28
    assert result.value(c.DAILY_COST_ANOMALY.name) == pytest.approx(2.0 / (1.253314 * mean_ad))
    assert result.value(c.ATTEMPT_COST_MEAN.name, window="1d") == pytest.approx(2.0)
    assert result.value(c.ATTEMPT_COST_MEAN.name, window="7d") == pytest.approx(8.0 / 7)
    assert result.value("routelens_cost_usd_total") == pytest.approx(13.0)
    assert result.value(c.WINDOW_COST.name, window="7d", skill="deploy") == pytest.approx(8.0)


def test_api_requests_retries_by_kind_and_latency_buckets(store: Store, store_url: str) -> None:
    add_run(store, make_run())
    hour_ago = NOW - timedelta(hours=1)
    log = (
        RetryEvent("rate_limit_error", 429, 1.0),
        RetryEvent("overloaded_error", 529, 1.0),
        RetryEvent("api_error", 503, 0.5),
        RetryEvent("timeout", None, 0.5),
        RetryEvent("connection_error", None, 0.5),
    )
    store.record_attempts(
        [
            attempt(
                "r",
                Verdict.PASS,
                hour_ago,
                retries=5,
                retry_log=log,
                retry_wait_s=3.5,
                latency_s=3.8,
                input_tokens=100,
                output_tokens=7,
            ),
            attempt("q", Verdict.PASS, hour_ago, latency_s=0.2, input_tokens=50),
            attempt("legacy", Verdict.FAIL, NOW - timedelta(days=2), retries=2, latency_s=40.0),
        ]
    )
    with store.engine.begin() as connection:  # stored before schema v2: no retry log
        connection.execute(
            update(schema.attempts)
            .where(schema.attempts.c.case_id == "legacy")
            .values(retry_log=None)
        )
        rebuild_rollups(connection)
    result = scrape(store_url)
    retries = c.WINDOW_API_RETRIES.name
    assert result.value(retries, window="1d", error_kind="rate_limited") == 2
    assert result.value(retries, window="1d", error_kind="server_error") == 1
    assert result.value(retries, window="1d", error_kind="timeout") == 1
    assert result.value(retries, window="1d", error_kind="other") == 1
    assert result.value(retries, window="7d", error_kind="other") == 3  # + legacy's 2
    assert result.value("routelens_api_retries_total", error_kind="rate_limited") == 2
    assert result.value(c.WINDOW_API_REQUESTS.name, window="1d") == 2 + 5
    assert result.value(c.WINDOW_API_REQUESTS.name, window="7d") == 3 + 7
    bucket = f"{c.WINDOW_API_LATENCY.name}_bucket"
    assert result.value(bucket, window="1d", le="0.25") == 1  # q: 0.2 s
    assert result.value(bucket, window="1d", le="0.5") == 2  # r: 3.8 - 3.5 = 0.3 s
    assert result.value(bucket, window="7d", le="30.0") == 2
    assert result.value(bucket, window="7d", le="+Inf") == 3
    assert result.value(f"{c.WINDOW_API_LATENCY.name}_gsum", window="7d") == pytest.approx(40.5)
    tokens = c.WINDOW_TOKENS.name
    assert result.value(tokens, window="1d", token_type="input") == 150
    assert result.value("routelens_tokens_total", token_type="output") == 7


def test_all_time_totals_add_up_runs_by_router_and_model(store: Store, store_url: str) -> None:
    # Three runs, two of them the same setup; one without a model; old attempts count too.
    setups = {"run-1": ("anthropic", "claude-test"), "run-2": ("anthropic", "claude-test")}
    setups["run-3"] = ("local", None)
    for run_id, (router, model) in setups.items():
        add_run(store, make_run(run_id, router=router, model=model))
    verdicts = {
        "run-1": [Verdict.PASS, Verdict.PASS, Verdict.FAIL],
        "run-2": [Verdict.PASS, Verdict.ERROR],
        "run-3": [Verdict.FAIL, Verdict.FAIL],
    }
    store.record_attempts(
        attempt(
            f"{run_id}-{index}",
            verdict,
            NOW - timedelta(days=40 * index),
            run_id=run_id,
            cost_usd=0.25 * (index + 1),
            input_tokens=10 * (index + 1),
        )
        for run_id, run_verdicts in verdicts.items()
        for index, verdict in enumerate(run_verdicts)
    )
    result = scrape(store_url)
    attempts = "routelens_attempts_total"
    claude = {"router": "anthropic", "model": "claude-test"}
    assert result.value(attempts, outcome="pass", **claude) == 3
    assert result.value(attempts, outcome="fail", **claude) == 1
    assert result.value(attempts, outcome="error", **claude) == 1
    assert result.value(attempts, outcome="fail", router="local", model="none") == 2
    assert result.samples(attempts, router="local", outcome="pass") == []  # none occurred
    assert result.value("routelens_cost_usd_total", **claude) == pytest.approx(1.5 + 0.75)
    assert result.value("routelens_cost_usd_total", router="local") == pytest.approx(0.75)
    tokens = "routelens_tokens_total"
    assert result.value(tokens, model="claude-test", token_type="input") == 60 + 30
    assert result.value(tokens, model="none", token_type="input") == 30


def test_last_run_timing_workers_and_utilization(store: Store, store_url: str) -> None:
    add_run(store, make_run("old", started_at=NOW - timedelta(days=1)))
    start = NOW - timedelta(hours=1)
    run = make_run("new", started_at=start, settings={"concurrency": 2}, suite_name="jira")
    add_run(store, run)
    store.record_attempts(
        [
            attempt(
                "a", Verdict.PASS, start, run_id="new", finished_at=start + timedelta(seconds=10)
            ),
            attempt(
                "b", Verdict.PASS, start, run_id="new", finished_at=start + timedelta(seconds=5)
            ),
        ]
    )
    result = scrape(store_url)
    info = result.samples(c.LAST_RUN_INFO.name)
    assert [sample.labels for sample in info] == [
        {
            "run_id": "new",
            "suite": "jira",
            "router": "anthropic",
            "model": "claude-test",
            "status": "completed",
        }
    ]
    assert result.value(c.LAST_RUN_TIMESTAMP.name) == pytest.approx(start.timestamp())
    assert result.value(c.LAST_RUN_DURATION.name) == pytest.approx(10.0, abs=1e-3)
    assert result.value(c.LAST_RUN_WORKERS.name) == 2
    assert result.value(c.LAST_RUN_WORKER_UTILIZATION.name) == pytest.approx(0.75, abs=1e-3)


def test_release_accuracy_keeps_the_five_newest_values(store: Store, store_url: str) -> None:
    for index in range(6):
        run_id = f"run-{index}"
        started = NOW - timedelta(days=10 - index)
        add_run(store, make_run(run_id, started_at=started, labels={"release": f"1.{index}"}))
        verdicts = [Verdict.PASS] * index + [Verdict.FAIL]
        store.record_attempts(
            attempt(f"c{i}", verdict, started, run_id=run_id) for i, verdict in enumerate(verdicts)
        )
    result = scrape(store_url)
    releases = {s.labels["release"]: s.value for s in result.samples(c.RELEASE_ACCURACY.name)}
    assert set(releases) == {"1.1", "1.2", "1.3", "1.4", "1.5"}
    assert releases["1.4"] == pytest.approx(4 / 5)
