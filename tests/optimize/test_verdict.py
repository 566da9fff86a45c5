"""The verdict on the test split: McNemar, Newcombe, and the interference rule."""

from __future__ import annotations

import pytest
from statsmodels.stats.contingency_tables import mcnemar

from routelens.analytics.stats import PairedTable, paired_difference_interval
from routelens.optimize.outcomes import CaseOutcome
from routelens.optimize.verdict import final_verdict

SKILL = "jira-worklog"


def outcome(case_id: str, expected: str, passed: bool) -> CaseOutcome:
    return CaseOutcome(case_id, "direct", "text", expected, expected, (expected,), None, passed)


def runs(
    groups: list[tuple[str, int, list[tuple[bool, bool]]]],
) -> tuple[dict[str, CaseOutcome], dict[str, CaseOutcome], list[str]]:
    """(expected, repeat count, [(before, after)]) → before and after outcomes, case ids."""
    before: dict[str, CaseOutcome] = {}
    after: dict[str, CaseOutcome] = {}
    for expected, times, pattern in groups:
        for _ in range(times):
            for was, now in pattern:
                case_id = f"{expected}-{len(before)}"
                before[case_id] = outcome(case_id, expected, was)
                after[case_id] = outcome(case_id, expected, now)
    return before, after, list(before)


def test_the_gain_is_mcnemar_exact_and_the_difference_newcombe() -> None:
    before, after, ids = runs(
        [
            (SKILL, 7, [(False, True)]),
            (SKILL, 1, [(True, False)]),
            ("jira-search", 5, [(True, True)]),
        ]
    )
    verdict = final_verdict(SKILL, before, after, ids)
    assert (verdict.mcnemar.b, verdict.mcnemar.c) == (1, 7)
    expected = mcnemar([[5, 1], [7, 0]], exact=True).pvalue
    assert verdict.mcnemar.p_value == pytest.approx(expected)
    table = PairedTable(both=5, first_only=1, second_only=7, neither=0)
    assert verdict.difference == paired_difference_interval(table)
    assert verdict.difference.estimate == pytest.approx(6 / 13)
    assert verdict.cases == 13


def test_a_significant_gain_that_hurts_no_one_is_recommended() -> None:
    before, after, ids = runs([(SKILL, 8, [(False, True)]), ("jira-search", 10, [(True, True)])])
    verdict = final_verdict(SKILL, before, after, ids)
    assert verdict.mcnemar.p_value < 0.05
    assert verdict.recommended, verdict.reason
    [search] = verdict.interference
    assert (search.skill, search.before, search.after, search.cases) == (
        "jira-search",
        1.0,
        1.0,
        10,
    )


def test_another_skill_dropping_more_than_the_tolerance_blocks_it() -> None:
    before, after, ids = runs(
        [
            (SKILL, 8, [(False, True)]),
            ("jira-search", 9, [(True, True)]),
            ("jira-search", 1, [(True, False)]),
        ]
    )
    verdict = final_verdict(SKILL, before, after, ids, tolerance=0.02)
    assert not verdict.recommended
    assert "jira-search 100.0% → 90.0%" in verdict.reason
    [search] = verdict.interference
    assert search.drop == pytest.approx(0.1)
    table = PairedTable(both=9, first_only=1, second_only=0, neither=0)
    assert (search.low, search.high) == paired_difference_interval(table)[1:]
    # the same drop within a wider tolerance, and exactly at it, is allowed
    assert final_verdict(SKILL, before, after, ids, tolerance=0.15).recommended
    assert final_verdict(SKILL, before, after, ids, tolerance=0.10).recommended


def test_cases_that_expect_a_question_are_checked_too() -> None:
    before, after, ids = runs([(SKILL, 8, [(False, True)]), ("(ask)", 2, [(True, False)])])
    verdict = final_verdict(SKILL, before, after, ids)
    assert not verdict.recommended
    assert [check.skill for check in verdict.interference] == ["(ask)"]


def test_a_gain_that_is_not_significant_is_not_recommended() -> None:
    before, after, ids = runs([(SKILL, 3, [(False, True)]), ("jira-search", 5, [(True, True)])])
    verdict = final_verdict(SKILL, before, after, ids)
    assert verdict.mcnemar.p_value == pytest.approx(0.25)
    assert not verdict.recommended
    assert "not significant" in verdict.reason


def test_a_loss_is_not_recommended() -> None:
    before, after, ids = runs([(SKILL, 8, [(True, False)])])
    verdict = final_verdict(SKILL, before, after, ids)
    assert not verdict.recommended
    assert verdict.reason.startswith("no gain on test")
