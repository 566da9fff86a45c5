"""Route distribution, top share, entropy and the low-confidence flag, from hand-made counts."""

from __future__ import annotations

import pytest
from scipy import stats

from routelens.analytics.confidence import RouteCount, entropy_bits, summarize_confidence
from routelens.analytics.flaky import CaseKey

KEY = CaseKey("TC7", "show me the sprint", "skills-1", "anthropic", "claude-test")


def counts(*routes: tuple[str, int], key: CaseKey = KEY) -> list[RouteCount]:
    return [RouteCount(key, route, n, expected_skill="jira-sprint") for route, n in routes]


@pytest.mark.parametrize("values", [[10], [5, 5], [7, 2, 1], [1, 1, 1, 1], [90, 5, 3, 2]])
def test_entropy_matches_scipy(values: list[int]) -> None:
    assert entropy_bits(values) == pytest.approx(float(stats.entropy(values, base=2)), abs=1e-12)


def test_one_route_is_confident() -> None:
    [case] = summarize_confidence(counts(("jira-sprint", 10)))
    assert (case.top_route, case.top_share, case.entropy_bits) == ("jira-sprint", 1.0, 0.0)
    assert case.mean_confidence is None
    assert not case.low_confidence
    assert case.expected_skill == "jira-sprint"


def test_split_routes_are_low_confidence() -> None:
    [case] = summarize_confidence(counts(("jira-sprint", 7), ("clarified", 2), ("none", 1)))
    assert case.routes == {"jira-sprint": 7, "clarified": 2, "none": 1}
    assert case.top_share == pytest.approx(0.7)
    assert case.entropy_bits == pytest.approx(float(stats.entropy([7, 2, 1], base=2)))
    assert case.low_confidence


def test_top_share_boundary() -> None:
    [at] = summarize_confidence(counts(("a", 8), ("b", 2)))
    [below] = summarize_confidence(counts(("a", 79), ("b", 21)))
    assert not at.low_confidence
    assert below.low_confidence


def test_low_mean_confidence_flags_a_consistent_case() -> None:
    rows = [RouteCount(KEY, "a", 10, confidence_sum=4.0, confidence_count=10)]
    [case] = summarize_confidence(rows)
    assert case.mean_confidence == pytest.approx(0.4)
    assert case.low_confidence
    [lenient] = summarize_confidence(rows, min_mean_confidence=0.3)
    assert not lenient.low_confidence


def test_mean_confidence_ignores_attempts_without_one() -> None:
    rows = [
        RouteCount(KEY, "a", 6, confidence_sum=5.4, confidence_count=6),
        RouteCount(KEY, "b", 1),  # a router that recorded no confidence
    ]
    [case] = summarize_confidence(rows)
    assert case.mean_confidence == pytest.approx(0.9)


def test_ties_and_order_are_deterministic() -> None:
    other = CaseKey("TC1", "x", "skills-1", "anthropic", None)
    cases = summarize_confidence(
        [*counts(("b", 5), ("a", 5)), RouteCount(other, "a", 9), RouteCount(other, "b", 1)]
    )
    assert [c.key.case_id for c in cases] == ["TC7", "TC1"]  # low-confidence first
    assert cases[0].top_route == "a"
    assert cases[0].entropy_bits == pytest.approx(1.0)
