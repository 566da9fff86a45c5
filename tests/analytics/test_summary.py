"""Tests for routelens.analytics.summary."""

from __future__ import annotations

import json

import numpy as np
import pytest

from routelens.analytics.summary import (
    Confusion,
    GroupAccuracy,
    TokenTotals,
    summarize_attempts,
    summary_as_dict,
)
from routelens.store.records import AttemptRecord, Verdict
from tests.factories import make_attempt


def test_counts_and_accuracy_exclude_errors() -> None:
    attempts = [
        make_attempt("a", Verdict.PASS),
        make_attempt("a", Verdict.PASS, repeat_index=1),
        make_attempt("b", Verdict.PASS),
        make_attempt("b", Verdict.FAIL, actual="review", repeat_index=1),
        make_attempt("c", Verdict.ERROR, error_type="timeout"),
        make_attempt("c", Verdict.ERROR, error_type="timeout", repeat_index=1),
    ]

    summary = summarize_attempts(attempts)

    assert (summary.cases, summary.attempts) == (3, 6)
    assert (summary.passed, summary.failed, summary.errors) == (3, 1, 2)
    assert summary.accuracy == pytest.approx(0.75)
    assert summary.error_rate == pytest.approx(2 / 6)


def test_accuracy_is_none_when_nothing_was_decided() -> None:
    summary = summarize_attempts([make_attempt(verdict=Verdict.ERROR, error_type="http_529")])

    assert summary.accuracy is None
    assert summary.error_rate == 1.0
    assert summary.by_category["core"].accuracy is None


def test_empty_run_has_no_ratios() -> None:
    summary = summarize_attempts([])

    assert (summary.cases, summary.attempts, summary.passed) == (0, 0, 0)
    assert summary.accuracy is None
    assert summary.error_rate is None
    assert summary.latency_p50_s is None
    assert summary.latency_p95_s is None
    assert summary.mean_options_score is None
    assert summary.top_confusions == []
    assert summary.tokens == TokenTotals(0, 0, 0, 0)
    assert summary.by_category == {}


def test_group_accuracy_properties() -> None:
    group = GroupAccuracy(key="core", attempts=5, passed=2, failed=2, errors=1)

    assert group.decided == 4
    assert group.accuracy == 0.5
    assert group.error_rate == pytest.approx(0.2)
    assert GroupAccuracy("x", 0, 0, 0, 0).error_rate is None
    assert GroupAccuracy("x", 1, 0, 0, 1).accuracy is None


def test_groups_by_category_and_expected_skill_sorted_by_key() -> None:
    attempts = [
        make_attempt("a", category="zeta", expected="deploy"),
        make_attempt("b", Verdict.FAIL, category="alpha", expected="review", actual="deploy"),
        make_attempt("c", category="alpha", expected="review"),
        make_attempt("d", category="alpha", expected=None, asked_clarification=True),
        make_attempt("e", Verdict.ERROR, category="zeta", expected="deploy"),
    ]

    summary = summarize_attempts(attempts)

    assert list(summary.by_category) == ["alpha", "zeta"]
    assert summary.by_category["alpha"] == GroupAccuracy("alpha", 3, 2, 1, 0)
    assert summary.by_category["zeta"] == GroupAccuracy("zeta", 2, 1, 0, 1)
    assert list(summary.by_expected_skill) == ["(ask)", "deploy", "review"]
    assert summary.by_expected_skill["review"].accuracy == 0.5
    assert summary.by_expected_skill["deploy"].accuracy == 1.0


def test_confusion_labels_cover_skill_clarified_none_and_ask() -> None:
    attempts = [
        make_attempt("a", Verdict.FAIL, expected=None, actual="deploy"),
        make_attempt("b", Verdict.FAIL, expected="deploy", asked_clarification=True),
        make_attempt("c", Verdict.FAIL, expected="deploy"),
        make_attempt("d", Verdict.PASS, expected=None, asked_clarification=True),
    ]

    confusions = summarize_attempts(attempts).top_confusions

    assert set(confusions) == {
        Confusion("(ask)", "deploy", 1),
        Confusion("deploy", "clarified", 1),
        Confusion("deploy", "none", 1),
    }


def test_confusions_count_failures_only_most_frequent_first_then_by_labels() -> None:
    def failing(expected: str, actual: str, repeat: int) -> AttemptRecord:
        return make_attempt(
            expected, Verdict.FAIL, expected=expected, actual=actual, repeat_index=repeat
        )

    attempts = [
        failing("review", "deploy", 0),
        failing("deploy", "test", 0),
        failing("deploy", "review", 0),
        failing("review", "deploy", 1),
        failing("deploy", "review", 1),
        failing("lint", "format", 0),
        make_attempt("ok", Verdict.PASS, expected="review"),
        make_attempt("err", Verdict.ERROR, expected="review", actual="deploy"),
    ]

    summary = summarize_attempts(attempts)
    limited = summarize_attempts(attempts, top_confusions=2)

    assert summary.top_confusions == [
        Confusion("deploy", "review", 2),
        Confusion("review", "deploy", 2),
        Confusion("deploy", "test", 1),
        Confusion("lint", "format", 1),
    ]
    assert limited.top_confusions == summary.top_confusions[:2]


def test_latency_percentiles_match_numpy_and_skip_errors() -> None:
    latencies = [0.4, 2.5, 1.1, 0.9, 3.7, 1.6, 0.2]
    attempts = [
        make_attempt(f"c{index}", latency_s=latency) for index, latency in enumerate(latencies)
    ]
    attempts.append(make_attempt("slow", Verdict.ERROR, latency_s=120.0))

    summary = summarize_attempts(attempts)

    assert summary.latency_p50_s == pytest.approx(np.percentile(latencies, 50, method="linear"))
    assert summary.latency_p95_s == pytest.approx(np.percentile(latencies, 95, method="linear"))
    assert isinstance(summary.latency_p95_s, float)


def test_latency_is_none_when_every_attempt_errored() -> None:
    summary = summarize_attempts([make_attempt(verdict=Verdict.ERROR, latency_s=5.0)])

    assert summary.latency_p50_s is None
    assert summary.latency_p95_s is None


def test_cost_tokens_retries_scores_and_error_types() -> None:
    attempts = [
        make_attempt(
            "a",
            input_tokens=100,
            output_tokens=10,
            cache_read_tokens=1000,
            cache_write_tokens=50,
            cost_usd=0.001,
            retries=1,
            options_score=0.5,
            commands_score=None,
        ),
        make_attempt(
            "b",
            input_tokens=200,
            output_tokens=20,
            cost_usd=0.002,
            options_score=1.0,
            commands_score=0.25,
        ),
        make_attempt("c", Verdict.ERROR, error_type="timeout", retries=3),
        make_attempt("d", Verdict.ERROR, error_type="timeout"),
        make_attempt("e", Verdict.ERROR, error_type=None),
        make_attempt("f", Verdict.ERROR, error_type="http_529"),
    ]

    summary = summarize_attempts(attempts)

    assert summary.cost_usd == pytest.approx(0.003)
    assert summary.tokens == TokenTotals(input=300, output=30, cache_read=1000, cache_write=50)
    assert summary.tokens.total == 1380
    assert summary.retries == 4
    assert summary.mean_options_score == pytest.approx(0.75)
    assert summary.mean_commands_score == pytest.approx(0.25)
    assert summary.error_types == {"http_529": 1, "timeout": 2, "unknown": 1}
    assert list(summary.error_types) == ["http_529", "timeout", "unknown"]


def test_summary_as_dict_is_json_ready_with_expected_shape() -> None:
    attempts = [
        make_attempt("a", category="core", cost_usd=0.5, input_tokens=7, latency_s=2.0),
        make_attempt("b", Verdict.FAIL, category="core", actual="review", latency_s=4.0),
        make_attempt("c", Verdict.ERROR, category="edge", expected=None, error_type="timeout"),
    ]

    data = summary_as_dict(summarize_attempts(attempts))

    assert json.loads(json.dumps(data)) == data
    assert set(data) == {
        "cases",
        "attempts",
        "passed",
        "failed",
        "errors",
        "accuracy",
        "error_rate",
        "by_category",
        "by_expected_skill",
        "top_confusions",
        "cost_usd",
        "tokens",
        "retries",
        "latency_p50_s",
        "latency_p95_s",
        "mean_options_score",
        "mean_commands_score",
        "error_types",
        "mean_confirmation_score",
        "skipped",
        "trigger_rates",
    }
    assert (data["cases"], data["attempts"], data["passed"], data["failed"]) == (3, 3, 1, 1)
    assert data["accuracy"] == 0.5
    assert data["by_category"] == {
        "core": {"attempts": 2, "passed": 1, "failed": 1, "errors": 0, "accuracy": 0.5},
        "edge": {"attempts": 1, "passed": 0, "failed": 0, "errors": 1, "accuracy": None},
    }
    assert data["by_expected_skill"]["(ask)"]["errors"] == 1
    assert data["top_confusions"] == [{"expected": "deploy", "actual": "review", "count": 1}]
    assert data["tokens"] == {"input": 7, "output": 0, "cache_read": 0, "cache_write": 0}
    assert data["cost_usd"] == 0.5
    assert data["latency_p50_s"] == 3.0
    assert data["mean_options_score"] is None
    assert data["error_types"] == {"timeout": 1}


def test_skipped_cases_are_listed_and_never_counted() -> None:
    definitions = [
        {"id": "a", "category": "core"},
        {"id": "s1", "category": "edge", "skip": True, "skip_reason": "needs a live board"},
        {"id": "s2", "category": "direct", "skip": True},
        {"id": "s3", "category": "direct", "skip": True},  # run anyway (--include-skipped)
    ]
    rows = [make_attempt("a"), make_attempt("s3", Verdict.FAIL)]
    summary = summarize_attempts(rows, cases=definitions)
    assert [(s.case_id, s.category, s.reason) for s in summary.skipped] == [
        ("s1", "edge", "needs a live board"),
        ("s2", "direct", None),
    ]
    assert (summary.attempts, summary.accuracy) == (2, 0.5)
    assert summary_as_dict(summary)["skipped"][0] == {
        "case_id": "s1",
        "category": "edge",
        "reason": "needs a live board",
    }


@pytest.mark.parametrize(
    ("category", "label"),
    [
        ("workflow", "(workflow)"),
        ("negative", "(negative)"),
        ("direct", "(no skill)"),
        ("edge", "(ask)"),
        ("disambiguation", "(ask)"),
    ],
)
def test_cases_without_an_expected_skill_are_labelled_by_what_they_expect(
    category: str, label: str
) -> None:
    failed = make_attempt("w", Verdict.FAIL, category=category, expected=None, actual="jira-x")
    summary = summarize_attempts([failed])
    assert [(c.expected, c.actual) for c in summary.top_confusions] == [(label, "jira-x")]
    assert list(summary.by_expected_skill) == [label]


def test_the_confirmation_score_is_averaged_over_the_cases_that_have_one() -> None:
    rows = [
        make_attempt("a", confirmation_score=1.0),
        make_attempt("b", confirmation_score=0.0, repeat_index=1),
        make_attempt("c"),
    ]
    assert summarize_attempts(rows).mean_confirmation_score == 0.5
