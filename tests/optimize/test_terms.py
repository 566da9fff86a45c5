"""The offline proposer's vocabulary: recurring, distinctive words to add, pulling ones to drop."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from statsmodels.stats.contingency_tables import Table2x2

from routelens.optimize.proposals import TrainInput
from routelens.optimize.terms import (
    MIN_ADD_LOG_ODDS,
    Evidence,
    Term,
    smoothed_log_odds,
    terms_to_add,
    terms_to_drop,
    words,
)
from tests.optimize.vocabulary import (
    MISSED,
    PULLING_DESCRIPTION,
    TAKEN,
    vocabulary_request,
)


def test_words_leave_out_stopwords_keys_and_numbers() -> None:
    assert words("Fill my TIMESHEET for OPS-14 with 3h, it's 2024") == ["fill", "timesheet"]
    assert words("bitte 2 Stunden auf TES-8 buchen") == ["bitte", "stunden", "auf", "buchen"]
    assert words("write the RCA for the outage") == ["write", "rca", "outage"]


@pytest.mark.parametrize(
    ("own", "own_total", "other", "other_total"), [(3, 5, 0, 7), (0, 1, 3, 7), (4, 10, 4, 10)]
)
def test_the_log_odds_match_statsmodels_with_half_added_to_each_cell(
    own: int, own_total: int, other: int, other_total: int
) -> None:
    cells = np.array([[own, own_total - own], [other, other_total - other]]) + 0.5
    expected = Table2x2(cells).log_oddsratio
    assert smoothed_log_odds(own, own_total, other, other_total) == pytest.approx(expected)


def test_a_word_recurring_in_three_missed_inputs_is_added_and_a_one_off_typo_is_not() -> None:
    # "timesheet": 3 of the 5 own inputs, none of the 5 others' inputs or 2 descriptions
    assert terms_to_add(vocabulary_request()) == [
        Term("timesheet", "timesheet", 3, math.log(3.5 * 7.5 / (2.5 * 0.5)))
    ]


def test_a_recurring_word_other_skills_use_as_much_is_not_added() -> None:
    # "please" is in two missed inputs, but in three of the other skills' five inputs too
    request = vocabulary_request()
    assert Evidence.of(request).log_odds("pleas") < 0
    assert "please" not in [term.word for term in terms_to_add(request)]


def test_words_the_description_has_are_not_added() -> None:
    request = vocabulary_request("Log the time spent on a ticket or a timesheet.")
    assert terms_to_add(request) == []


def test_without_train_inputs_the_failures_stand_in() -> None:
    request = dataclasses.replace(vocabulary_request(), train_inputs=())
    # only the missed inputs are known: nothing says "please" belongs to other skills too
    assert [term.word for term in terms_to_add(request)] == ["timesheet", "please"]


def test_a_description_word_that_pulls_other_skills_inputs_is_dropped_first() -> None:
    request = vocabulary_request(PULLING_DESCRIPTION, missed=(), taken=TAKEN)
    dropped = terms_to_drop(request)
    # "sprint" is in both taken inputs and the agile skill's description; "show" in one
    assert [(term.word, term.support) for term in dropped] == [("sprint", 2), ("show", 1)]
    assert all(term.log_odds < 0 for term in dropped)


def test_a_description_word_the_skills_own_inputs_use_is_kept() -> None:
    request = vocabulary_request(PULLING_DESCRIPTION, missed=(), taken=("log the sprint velocity",))
    assert Evidence.of(request).log_odds("log") > 0
    assert "log" not in [term.word for term in terms_to_drop(request)]


def test_a_distinctive_word_that_reaches_as_many_other_inputs_as_missed_ones_is_not_added() -> None:
    request = vocabulary_request(missed=(*MISSED, "overtime on monday", "overtime sheet"))
    extra = (
        TrainInput("overtime approvals in the filters", "jira-search"),
        TrainInput("find overtime issues", "jira-search"),
        *(TrainInput(f"find issues in project {n}", "jira-search") for n in range(20)),
    )
    crowded = dataclasses.replace(request, train_inputs=request.train_inputs + extra)
    evidence = Evidence.of(crowded)
    # twice as likely in the skill's inputs, but two missed inputs against two of others'
    assert evidence.log_odds("overtim") >= MIN_ADD_LOG_ODDS
    assert evidence.elsewhere("overtim") == 2
    assert "overtime" not in [term.word for term in terms_to_add(crowded)]
    assert "overtime" in [term.word for term in terms_to_add(request)]
