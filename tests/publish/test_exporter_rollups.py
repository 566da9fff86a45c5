"""The exporter's rollup-backed families equal the same numbers counted in plain Python from
the attempts: the real exporter, scraped over HTTP, on the seeded history of
`tests/store/rollup_support.py` (four runs over six days, attempts at odd instants, some after
the scrape's "now", which is mid-hour). SQLite, and PostgreSQL when it is configured.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import timedelta

import pytest

from routelens.analytics.api_health import API_LATENCY_BUCKETS_SECONDS, retry_error_kind
from routelens.publish import catalogue as c
from routelens.publish.exporter_support import WINDOW_LENGTHS, label_or_none, short_hash
from routelens.store import AttemptRecord, open_store
from tests.publish.test_exporter import Scrape, scrape
from tests.store.rollup_support import DAY0, History, record_history, stored_attempts

NOW = DAY0 + timedelta(days=4, hours=13, minutes=47, seconds=12, microseconds=345678)
TOKENS = {
    "input": "input_tokens",
    "output": "output_tokens",
    "cache_read": "cache_read_tokens",
    "cache_write": "cache_write_tokens",
}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def seeded(store_url: str) -> tuple[Scrape, History, list[AttemptRecord]]:
    with open_store(store_url) as store:
        history = record_history(store)
        attempts = stored_attempts(store)
    return scrape(store_url, now=NOW), history, attempts


def _family(result: Scrape, spec: c.MetricSpec) -> Samples:
    """Every sample of a family (the text format parses a gauge histogram's `_gsum` and
    `_gcount` as families of their own, so samples are gathered by name)."""
    names = {spec.name, *(f"{spec.name}{suffix}" for suffix in ("_bucket", "_gcount", "_gsum"))}
    return {
        (sample.name, frozenset(sample.labels.items())): float(sample.value)
        for family in result.families.values()
        for sample in family.samples
        if sample.name in names
    }


def _assert_same(found: Samples, expected: Samples) -> None:
    assert set(found) == set(expected), set(found) ^ set(expected)
    for key, value in expected.items():
        assert math.isclose(found[key], value, rel_tol=1e-9, abs_tol=1e-9), (key, found[key], value)


def _key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


def _in_window(attempt: AttemptRecord, window: str) -> bool:
    return NOW - WINDOW_LENGTHS[window] <= attempt.started_at <= NOW


def test_all_time_attempts_spend_and_tokens(
    seeded: tuple[Scrape, History, list[AttemptRecord]],
) -> None:
    result, history, attempts = seeded
    runs = {run.run_id: run for run in history.runs}
    counts: Samples = defaultdict(float)
    spend: Samples = defaultdict(float)
    tokens: Samples = defaultdict(float)
    for a in attempts:
        run = runs[a.run_id]
        model = label_or_none(run.model)
        name = c.ATTEMPTS_TOTAL.name
        counts[_key(name, router=run.router, model=model, outcome=str(a.verdict))] += 1
        spend[_key(c.COST_TOTAL.name, router=run.router, model=model)] += a.cost_usd
        for token_type, field in TOKENS.items():
            key = _key(c.TOKENS_TOTAL.name, model=model, token_type=token_type)
            tokens[key] += getattr(a, field)
    _assert_same(_family(result, c.ATTEMPTS_TOTAL), counts)
    _assert_same(_family(result, c.COST_TOTAL), spend)
    _assert_same(_family(result, c.TOKENS_TOTAL), tokens)
    assert sum(counts.values()) == len(attempts) == 4 * 90


def test_window_attempts_spend_and_tokens(
    seeded: tuple[Scrape, History, list[AttemptRecord]],
) -> None:
    result, history, attempts = seeded
    runs = {run.run_id: run for run in history.runs}
    counts: Samples = defaultdict(float)
    spend: Samples = defaultdict(float)
    tokens: Samples = defaultdict(float)
    for window in c.WINDOWS:
        for a in attempts:
            if not _in_window(a, window):
                continue
            run = runs[a.run_id]
            model, skill = label_or_none(run.model), label_or_none(a.expected_skill)
            labels = {
                "window": window,
                "skill": skill,
                "skill_version": short_hash(a.expected_skill_hash),
                "category": a.category,
                "model": model,
                "skills_version": short_hash(run.skills_hash),
                "outcome": str(a.verdict),
            }
            counts[_key(c.WINDOW_ATTEMPTS.name, **labels)] += 1
            spend[_key(c.WINDOW_COST.name, window=window, model=model, skill=skill)] += a.cost_usd
            for token_type, field in TOKENS.items():
                key = _key(c.WINDOW_TOKENS.name, window=window, model=model, token_type=token_type)
                tokens[key] += getattr(a, field)
    _assert_same(_family(result, c.WINDOW_ATTEMPTS), counts)
    _assert_same(_family(result, c.WINDOW_COST), spend)
    _assert_same(_family(result, c.WINDOW_TOKENS), tokens)
    week = sum(v for (_, labels), v in counts.items() if ("window", "7d") in labels)
    assert 0 < week < len(attempts)  # some attempts start after the scrape's now


def test_latency_histogram_buckets(seeded: tuple[Scrape, History, list[AttemptRecord]]) -> None:
    result, _, attempts = seeded
    name = c.WINDOW_API_LATENCY.name
    expected: Samples = {}
    for window in c.WINDOWS:
        latencies = [a.latency_s - a.retry_wait_s for a in attempts if _in_window(a, window)]
        for bound in API_LATENCY_BUCKETS_SECONDS:
            le = str(float(bound))
            expected[_key(f"{name}_bucket", window=window, le=le)] = sum(
                value <= bound for value in latencies
            )
        expected[_key(f"{name}_bucket", window=window, le="+Inf")] = len(latencies)
        expected[_key(f"{name}_gcount", window=window)] = len(latencies)
        expected[_key(f"{name}_gsum", window=window)] = math.fsum(latencies)
    found = _family(result, c.WINDOW_API_LATENCY)
    # the exposition writes bounds as Go does ("1.0" for 1); compare them as numbers
    normalised = {
        (
            sample,
            frozenset((k, str(float(v)) if k == "le" and v != "+Inf" else v) for k, v in labels),
        ): value
        for (sample, labels), value in found.items()
    }
    _assert_same(normalised, expected)


def test_retries_by_kind_all_time_and_per_window(
    seeded: tuple[Scrape, History, list[AttemptRecord]],
) -> None:
    result, history, attempts = seeded
    runs = {run.run_id: run for run in history.runs}
    total: Samples = defaultdict(float)
    windows: Samples = defaultdict(float)
    for a in attempts:
        run = runs[a.run_id]
        labels = {"router": run.router, "model": label_or_none(run.model)}
        if (a.run_id, a.case_id, a.repeat_index) in history.unlogged:
            kinds = [(c.ERROR_KIND_OTHER, a.retries)]  # before schema v2: a count, no log
        else:
            kinds = [(retry_error_kind(e.http_status, e.error_type), 1) for e in a.retry_log]
        for kind, retries in kinds:
            total[_key(c.API_RETRIES_TOTAL.name, error_kind=kind, **labels)] += retries
            for window in c.WINDOWS:
                if _in_window(a, window):
                    key = _key(c.WINDOW_API_RETRIES.name, window=window, error_kind=kind, **labels)
                    windows[key] += retries
    assert history.unlogged
    _assert_same(_family(result, c.API_RETRIES_TOTAL), total)
    _assert_same(_family(result, c.WINDOW_API_RETRIES), windows)
