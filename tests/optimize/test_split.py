"""The three-way split: stratified, deterministic for a seed, no case in two splits."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routelens.errors import InputError
from routelens.optimize.split import parse_split, split_cases, stratum
from routelens.suite.models import Case, Category

SKILLS = ("jira-search", "jira-issue", "jira-worklog", None)


def make_cases(layout: list[tuple[Category, str | None, int]]) -> list[Case]:
    """`count` cases of each (category, expected skill)."""
    cases = []
    for category, skill, count in layout:
        for _ in range(count):
            cases.append(
                Case(
                    id=f"C{len(cases):03d}",
                    category=category,
                    input=f"request {len(cases)}",
                    expected_skill=skill,
                )
            )
    return cases


layouts = st.lists(
    st.tuples(st.sampled_from(list(Category)), st.sampled_from(SKILLS), st.integers(1, 9)),
    min_size=3,
    max_size=8,
    unique_by=lambda entry: (entry[0], entry[1]),
).filter(lambda layout: sum(count for *_, count in layout) >= 15)


@settings(max_examples=60, deadline=None)
@given(layout=layouts, seed=st.integers(0, 2**32 - 1))
def test_every_case_is_in_exactly_one_split(
    layout: list[tuple[Category, str | None, int]], seed: int
) -> None:
    cases = make_cases(layout)
    split = split_cases(cases, (0.6, 0.2, 0.2), seed)
    together = split.train + split.validation + split.test
    assert sorted(together) == sorted(case.id for case in cases)
    assert len(set(together)) == len(together)


@settings(max_examples=60, deadline=None)
@given(layout=layouts, seed=st.integers(0, 2**32 - 1))
def test_each_kind_of_case_is_spread_in_proportion(
    layout: list[tuple[Category, str | None, int]], seed: int
) -> None:
    cases = make_cases(layout)
    shares = (0.6, 0.2, 0.2)
    split = split_cases(cases, shares, seed)
    kind = {case.id: stratum(case) for case in cases}
    sizes = Counter(kind.values())
    for ids, share in zip((split.train, split.validation, split.test), shares, strict=True):
        counts = Counter(kind[case_id] for case_id in ids)
        for group, size in sizes.items():
            ideal = size * share
            assert math.floor(ideal + 1e-9) <= counts[group] <= math.ceil(ideal - 1e-9), group


def test_the_same_seed_gives_the_same_split_and_another_seed_another() -> None:
    cases = make_cases([(Category.DIRECT, "jira-search", 20), (Category.NEGATIVE, None, 10)])
    first = split_cases(cases, (0.6, 0.2, 0.2), 7)
    assert split_cases(list(cases), (0.6, 0.2, 0.2), 7) == first
    assert split_cases(cases, (0.6, 0.2, 0.2), 8) != first


def test_splits_keep_the_suite_order_and_their_sizes() -> None:
    cases = make_cases([(Category.DIRECT, "jira-search", 50)])
    split = split_cases(cases, (0.6, 0.2, 0.2), 3)
    assert (len(split.train), len(split.validation), len(split.test)) == (30, 10, 10)
    assert list(split.train) == sorted(split.train)
    assert split.selection == split.train + split.validation


def test_too_few_cases_for_three_splits_is_bad_input() -> None:
    with pytest.raises(InputError, match=r"leave the \w+ split empty"):
        split_cases(make_cases([(Category.DIRECT, "jira-search", 2)]), (0.6, 0.2, 0.2), 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0.6,0.4", "three numbers"),
        ("a,b,c", "three numbers"),
        ("0.6,0.4,0", "greater than 0"),
        ("0.5,0.2,0.2", "add up to 0.9"),
    ],
)
def test_bad_split_shares_are_bad_input(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_split(text)


def test_split_shares_parse() -> None:
    assert parse_split(" 0.5, 0.25,0.25 ") == (0.5, 0.25, 0.25)
