"""Tests for routelens.analytics.trigger_rate: the per-query rule of trigger sets."""

from __future__ import annotations

import pytest

from routelens.analytics.trigger_rate import (
    TriggerRule,
    query_trigger_rates,
    trigger_rule_of,
)
from routelens.store.records import AttemptRecord, Verdict
from tests.factories import make_attempt

RULE = TriggerRule("jira-worklog", 0.5)


def attempts(
    case_id: str, category: str, routes: list[str | None], errors: int = 0
) -> list[AttemptRecord]:
    rows = [
        make_attempt(
            case_id,
            Verdict.PASS if route is not None else Verdict.FAIL,  # FAIL keeps `actual` None
            category=category,
            expected="jira-worklog" if category == "direct" else None,
            actual=route,
            repeat_index=index,
            input=f"query {case_id}",
        )
        for index, route in enumerate(routes)
    ]
    rows += [
        make_attempt(case_id, Verdict.ERROR, category=category, repeat_index=len(routes) + i)
        for i in range(errors)
    ]
    return rows


@pytest.mark.parametrize(
    ("category", "routes", "rate", "passed"),
    [
        ("direct", ["jira-worklog", "jira-worklog", None], 2 / 3, True),
        ("direct", ["jira-worklog", None], 0.5, True),  # reaching the threshold is enough
        ("direct", ["jira-worklog", None, None], 1 / 3, False),
        ("negative", ["jira-worklog", None, None], 1 / 3, True),
        ("negative", ["jira-worklog", "other"], 0.5, False),  # at the threshold: it triggers
    ],
)
def test_a_query_passes_on_the_right_side_of_the_threshold(
    category: str, routes: list[str | None], rate: float, passed: bool
) -> None:
    [found] = query_trigger_rates(attempts("q1", category, routes), RULE)
    assert found.should_trigger is (category == "direct")
    assert found.rate == pytest.approx(rate)
    assert found.passed is passed
    assert found.query == "query q1"


def test_errors_are_left_out_of_the_rate_and_counted() -> None:
    [found] = query_trigger_rates(attempts("q1", "direct", ["jira-worklog"], errors=2), RULE)
    assert (found.triggered, found.decided, found.errors) == (1, 1, 2)
    [none] = query_trigger_rates(attempts("q2", "direct", [], errors=1), RULE)
    assert (none.rate, none.passed) == (None, None)


def test_queries_come_out_in_id_order() -> None:
    rows = attempts("jira-worklog-trigger-002", "negative", [None]) + attempts(
        "jira-worklog-trigger-001", "direct", ["jira-worklog"]
    )
    assert [r.case_id for r in query_trigger_rates(rows, RULE)] == [
        "jira-worklog-trigger-001",
        "jira-worklog-trigger-002",
    ]


def test_the_rule_is_read_from_the_run_settings() -> None:
    assert trigger_rule_of({"trigger_skill": "x", "trigger_threshold": 0.7}) == TriggerRule(
        "x", 0.7
    )
    assert trigger_rule_of({"trigger_skill": None, "trigger_threshold": None}) is None
    assert trigger_rule_of({}) is None
