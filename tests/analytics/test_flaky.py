"""Flaky classification from hand-made aggregates (the SQL that makes them: tests/store)."""

from __future__ import annotations

import pytest

from routelens.analytics.flaky import (
    CaseKey,
    FlakyAggregate,
    FlakyClass,
    FlakyRule,
    classify_case,
    classify_flaky,
    flip_rate,
    stability_score,
)
from routelens.analytics.stats import wilson_interval

KEY = CaseKey("TC1", "move TES-1 to Done", "skills-1", "anthropic", "claude-test")


def aggregate(attempts: int, passes: int, flips: int = 0, errors: int = 0) -> FlakyAggregate:
    return FlakyAggregate(KEY, attempts=attempts, passes=passes, errors=errors, flips=flips)


def classify(attempts: int, passes: int, flips: int = 0, **options: object) -> FlakyClass:
    return classify_case(aggregate(attempts, passes, flips), **options).flaky_class  # type: ignore[arg-type]


def test_wilson_matches_statsmodels_and_newcombe() -> None:
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    for successes, n in [(81, 263), (3, 5), (60, 100), (0, 10), (10, 10), (1, 20)]:
        expected = proportion.proportion_confint(successes, n, alpha=0.05, method="wilson")
        case = classify_case(aggregate(n, successes))
        assert (case.ci_low, case.ci_high) == pytest.approx(expected, abs=1e-9)
    # Newcombe (1998), Table I: 81/263 -> 0.2553 to 0.3662.
    low, high = classify_case(aggregate(263, 81)).ci_low, classify_case(aggregate(263, 81)).ci_high
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


@pytest.mark.parametrize(
    ("attempts", "passes", "expected"),
    [
        (20, 20, FlakyClass.STABLE_PASS),  # never failed
        (5, 5, FlakyClass.STABLE_PASS),
        (20, 0, FlakyClass.BROKEN),  # never passed
        (100, 96, FlakyClass.STABLE_PASS),  # ci_low 0.902 >= 0.9
        (100, 95, FlakyClass.FLAKY),  # ci_low 0.888 < 0.9
        (100, 4, FlakyClass.BROKEN),  # ci_high 0.098 <= 0.1
        (100, 5, FlakyClass.FLAKY),  # ci_high 0.112 > 0.1
        (10, 8, FlakyClass.FLAKY),  # 80%: the plan calls this fine
        (5, 3, FlakyClass.FLAKY),
        (100, 60, FlakyClass.FLAKY),
        (20, 19, FlakyClass.FLAKY),  # one wrong route in twenty
    ],
)
def test_interval_rule_boundaries(attempts: int, passes: int, expected: FlakyClass) -> None:
    assert classify(attempts, passes) is expected


def test_boundary_cases_sit_where_the_comments_say() -> None:
    assert wilson_interval(96, 100)[0] >= 0.9 > wilson_interval(95, 100)[0]
    assert wilson_interval(4, 100)[1] <= 0.1 < wilson_interval(5, 100)[1]


@pytest.mark.parametrize(
    ("attempts", "passes", "expected"),
    [
        (10, 3, FlakyClass.BROKEN),  # 30% is not > 30%
        (10, 4, FlakyClass.FLAKY),
        (10, 6, FlakyClass.FLAKY),
        (10, 7, FlakyClass.STABLE_PASS),  # 70% is not < 70%
        (10, 8, FlakyClass.STABLE_PASS),
    ],
)
def test_plan_rule_reproduces_the_30_to_70_band(
    attempts: int, passes: int, expected: FlakyClass
) -> None:
    assert classify(attempts, passes, rule=FlakyRule.PLAN) is expected


def test_too_few_attempts_is_insufficient_data_under_both_rules() -> None:
    for rule in FlakyRule:
        assert classify(4, 2, rule=rule) is FlakyClass.INSUFFICIENT_DATA
        assert classify(4, 2, rule=rule, min_attempts=4) is FlakyClass.FLAKY


def test_errors_only_group_has_no_pass_rate() -> None:
    case = classify_case(aggregate(0, 0, errors=3))
    assert case.pass_rate is None
    assert (case.ci_low, case.ci_high) == (0.0, 1.0)
    assert case.flaky_class is FlakyClass.INSUFFICIENT_DATA
    assert case.errors == 3
    assert case.stability == 0.0


def test_flip_rate_is_flips_per_consecutive_pair() -> None:
    assert flip_rate(3, 4) == 1.0  # P F P F
    assert flip_rate(1, 4) == pytest.approx(1 / 3)  # P P F F
    assert flip_rate(0, 1) == 0.0
    assert classify_case(aggregate(10, 6, flips=5)).flip_rate == pytest.approx(5 / 9)


def test_same_rate_different_certainty() -> None:
    small, large = classify_case(aggregate(5, 3, 2)), classify_case(aggregate(100, 60, 40))
    assert small.pass_rate == large.pass_rate == 0.6
    assert small.ci_high - small.ci_low > 3 * (large.ci_high - large.ci_low)


def test_stability_is_bounded_and_symmetric() -> None:
    for attempts, passes, flips in [(5, 5, 0), (100, 100, 0), (100, 60, 30), (10, 1, 2)]:
        case = classify_case(aggregate(attempts, passes, flips))
        mirror = classify_case(aggregate(attempts, attempts - passes, flips))
        assert 0.0 <= case.stability <= 100.0
        assert case.stability == pytest.approx(mirror.stability)


def test_stability_falls_as_flips_rise() -> None:
    scores = [classify_case(aggregate(100, 98, flips)).stability for flips in range(5)]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > scores[-1]


def test_stability_rises_as_pass_rate_leaves_one_half() -> None:
    scores = [classify_case(aggregate(100, passes, 2)).stability for passes in range(50, 101, 5)]
    assert scores == sorted(scores)
    assert scores[0] == 0.0


def test_stability_rises_with_evidence_at_the_same_rates() -> None:
    scores = [classify_case(aggregate(n, n, 0)).stability for n in (5, 10, 20, 50, 200)]
    assert scores == sorted(scores)
    assert scores[-1] > 95.0
    assert stability_score(0.4, 0.6, 0.0) == 0.0  # a coin flip cannot be ruled out


def test_report_puts_flaky_first_then_least_stable() -> None:
    rows = [
        FlakyAggregate(CaseKey("stable", "x", "s", "r", None), 50, 50, 0, 0),
        FlakyAggregate(CaseKey("new", "x", "s", "r", None), 2, 1, 0, 1),
        FlakyAggregate(CaseKey("mild", "x", "s", "r", None), 50, 45, 0, 8),
        FlakyAggregate(CaseKey("wild", "x", "s", "r", None), 50, 25, 0, 40),
        FlakyAggregate(CaseKey("broken", "x", "s", "r", None), 50, 0, 0, 0),
    ]
    order = [case.key.case_id for case in classify_flaky(rows)]
    assert order[:2] == ["wild", "mild"]
    assert set(order[2:4]) == {"stable", "broken"}
    assert order[-1] == "new"


def test_bad_thresholds_are_refused() -> None:
    with pytest.raises(ValueError, match="thresholds"):
        classify_flaky([], pass_threshold=0.1, fail_threshold=0.9)
