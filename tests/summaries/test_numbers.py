"""The number check: what counts as a number, which facts support it, and the rounding rule."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routelens.analytics.trend import direction_of
from routelens.summaries.facts import facts_dict
from routelens.summaries.numbers import NumberKind, check_numbers, numbers_in
from routelens.summaries.offline import offline_summary
from tests.summaries.sample import TRUTHFUL, sample_facts


def test_numbers_are_read_with_their_kind_sign_and_decimals() -> None:
    mentions = numbers_in("Accuracy 87.3% (-2.1 pt), $1,234.50 spent, 1,414 attempts, seven skills")
    assert [(m.value, m.kind, m.decimals, m.signed) for m in mentions] == [
        (87.3, NumberKind.PERCENT, 1, False),
        (-2.1, NumberKind.PERCENT, 1, True),
        (1234.5, NumberKind.MONEY, 2, False),
        (1414.0, NumberKind.PLAIN, 0, False),
        (7.0, NumberKind.PLAIN, 0, False),
    ]


def test_hyphens_inside_words_and_dates_are_not_signs() -> None:
    mentions = numbers_in("jira-2 on 2026-11-27")
    assert [(m.value, m.signed) for m in mentions] == [
        (2, False),
        (2026, False),
        (11, False),
        (27, False),
    ]


def test_digits_glued_to_letters_are_identifiers_not_numbers() -> None:
    assert numbers_in("commit 3f2a9b1c, case TC031, skill v2, window 7d") == []


def test_a_truthful_summary_passes() -> None:
    check = check_numbers(TRUTHFUL, facts_dict(sample_facts()))
    assert check.accepted, [m.text for m in check.unsupported]
    assert len(check.mentions) == 14


@pytest.mark.parametrize(
    ("text", "unsupported"),
    [
        ("Accuracy was 88.3% this week.", "88.3%"),  # not the 87.34% fact
        ("Accuracy was 87.4% this week.", "87.4%"),  # 87.34 does not round to 87.4
        ("Accuracy fell +2.1 pt.", "+2.1 pt"),  # the delta is negative
        ("It cost $13.40.", "$13.40"),
        ("Accuracy fell 5 points over the month.", "5 points"),  # a computed number
        ("1414 attempts, 1236 passed.", "1236"),
        ("Three cases regressed.", "Three"),
        ("Spend was 12.4% of budget.", "12.4%"),  # money is not a ratio
    ],
)
def test_a_number_that_is_no_fact_fails(text: str, unsupported: str) -> None:
    facts = facts_dict(sample_facts())
    check = check_numbers(text, facts)
    assert not check.accepted
    assert [m.text.strip() for m in check.unsupported] == [unsupported]


@pytest.mark.parametrize(
    "text",
    [
        "Accuracy was 87% and 87.34% and 87.3%.",  # rounded to 0, 2 and 1 decimals
        "Accuracy fell 2.1 points, to 87.3 percent.",  # an unsigned size of a negative delta
        "It cost $12 this week and $12.40 in all.",
        "The 85% SLO holds; 0.85 is the target.",
        "Data from 2026-11-24 to 2026-12-01, commit 3f2a9b1c, event #17.",
        "p = 0.021, and 6 cases regressed while 1 improved.",
        "Errors: twelve attempts.",
    ],
)
def test_displayed_forms_of_facts_pass(text: str) -> None:
    check = check_numbers(text, facts_dict(sample_facts()))
    assert check.accepted, [m.text for m in check.unsupported]


def test_the_offline_summary_passes_its_own_check() -> None:
    for facts in (
        sample_facts(),
        sample_facts(worst_skills=(), new_flaky=(), changes=()),
    ):
        text = offline_summary(facts)
        check = check_numbers(text, facts_dict(facts))
        assert check.accepted, [m.text for m in check.unsupported]


ratios = st.floats(0, 1, allow_nan=False)
money = st.floats(0, 1e6, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    accuracy=ratios,
    previous=st.none() | ratios,
    slo=ratios,
    counts=st.tuples(*(st.integers(0, 10**6) for _ in range(3))),
    skill_accuracy=ratios,
    change=st.tuples(ratios, ratios, st.floats(0, 1)),
    spend=st.tuples(money, money, money),
)
def test_the_offline_summary_of_any_facts_passes_its_own_check(
    accuracy: float,
    previous: float | None,
    slo: float,
    counts: tuple[int, int, int],
    skill_accuracy: float,
    change: tuple[float, float, float],
    spend: tuple[float, float, float],
) -> None:
    base = sample_facts()
    delta = None if previous is None else accuracy - previous
    facts = replace(
        base,
        accuracy=replace(
            base.accuracy,
            passed=counts[0],
            decided=counts[0] + counts[1],
            errors=counts[2],
            accuracy=accuracy,
            previous_accuracy=previous,
            delta=delta,
            direction=None if delta is None else direction_of(delta),
            slo=slo,
        ),
        worst_skills=(replace(base.worst_skills[0], accuracy=skill_accuracy),),
        changes=(
            replace(
                base.changes[0],
                before_accuracy=change[0],
                after_accuracy=change[1],
                delta=change[1] - change[0],
                p_value=change[2],
            ),
        ),
        cost=replace(
            base.cost, total_usd=spend[0], mean_daily_usd=spend[1], monthly_projection_usd=spend[2]
        ),
    )
    check = check_numbers(offline_summary(facts), facts_dict(facts))
    assert check.accepted, [m.text for m in check.unsupported]
