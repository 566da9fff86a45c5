"""The offline proposer: variants of the description, ranked on the train inputs."""

from __future__ import annotations

import dataclasses

import pytest

from routelens.optimize.offline import (
    Edit,
    OfflineProposer,
    ranked_edits,
    scored,
    with_words,
    without_word,
)
from routelens.optimize.proposals import NothingToPropose, proposal_problems
from routelens.optimize.terms import Evidence
from routelens.suite.skill_rules import MAX_DESCRIPTION_LENGTH
from tests.optimize.vocabulary import (
    DESCRIPTION,
    MISSED,
    PULLING_DESCRIPTION,
    SKILL,
    TAKEN,
    vocabulary_request,
)


def test_added_words_close_the_description_and_a_later_addition_extends_them() -> None:
    once = with_words("Log work on an issue", ["timesheet"])
    assert once == "Log work on an issue. Also for timesheet."
    assert with_words(once or "", ["hours", "overtime"]) == (
        "Log work on an issue. Also for timesheet, hours or overtime."
    )
    assert with_words(DESCRIPTION, []) is None
    assert with_words("x" * (MAX_DESCRIPTION_LENGTH - 10), ["timesheet"]) is None


@pytest.mark.parametrize(
    ("description", "stem", "expected"),
    [
        # the word is in a later list phrase: only that phrase goes
        (PULLING_DESCRIPTION, "sprint", DESCRIPTION),
        (
            "Use for a sprint, board, backlog or epic. Story points too.",
            "board",
            "Use for a sprint, backlog or epic. Story points too.",
        ),
        # in the sentence's first phrase: the sentence goes
        ("Show sprint reports, fast. Log work on an issue.", "sprint", "Log work on an issue."),
        # in every sentence: nothing would be left
        ("Sprint reports. Sprint boards.", "sprint", None),
        # a TRIGGERS: item goes alone
        ("Log work. TRIGGERS: timesheet, sprint time.", "sprint", "Log work. TRIGGERS: timesheet."),
        # not there: no edit
        (DESCRIPTION, "sprint", None),
    ],
)
def test_a_pulling_word_takes_its_phrase_with_it(
    description: str, stem: str, expected: str | None
) -> None:
    assert without_word(description, stem) == expected


def test_a_word_recurring_in_three_missed_inputs_is_proposed_and_a_one_off_typo_never() -> None:
    request = vocabulary_request()
    proposal = OfflineProposer().propose(request)
    assert proposal.name == SKILL
    assert proposal.description == f"{DESCRIPTION} Also for timesheet."
    assert "reaches 3 missed" in proposal.raw
    assert all("timeshet" not in edit.description for edit in ranked_edits(request))


def test_a_word_that_pulls_another_skills_inputs_is_dropped() -> None:
    request = vocabulary_request(PULLING_DESCRIPTION, missed=(), taken=TAKEN)
    proposal = OfflineProposer().propose(request)
    assert proposal.description == DESCRIPTION
    assert "sprint" in proposal.raw
    assert "frees 2 taken" in proposal.raw


def test_variants_are_ranked_by_what_they_reach_on_the_train_inputs() -> None:
    request = vocabulary_request(PULLING_DESCRIPTION, taken=TAKEN)
    edits = ranked_edits(request)
    # dropping the sprint phrase and adding "timesheet" reaches 3 missed and frees 2 taken
    assert (edits[0].description, edits[0].score) == (f"{DESCRIPTION} Also for timesheet.", 5)
    assert [edit.score for edit in edits] == sorted((edit.score for edit in edits), reverse=True)


def test_the_score_counts_the_inputs_an_edit_reaches_frees_and_risks() -> None:
    request = vocabulary_request(PULLING_DESCRIPTION, taken=TAKEN)
    evidence = Evidence.of(request)
    # "filters" reaches one search input (a risk) and "timesheet" three missed inputs
    edit = scored(
        Edit(f"{PULLING_DESCRIPTION} Also for timesheet or filters.", ""),
        PULLING_DESCRIPTION,
        evidence,
    )
    assert (edit.reaches, edit.frees, edit.risks) == (3, 0, 1)
    # dropping "Log work on an issue" strands the one own input that only shared "log", "work"
    edit = scored(Edit("Record the time spent on a ticket.", ""), PULLING_DESCRIPTION, evidence)
    assert (edit.reaches, edit.frees, edit.risks) == (0, 2, 1)


def test_nothing_is_proposed_without_a_recurring_word_or_a_pulling_one() -> None:
    request = vocabulary_request(missed=(MISSED[0], MISSED[3]))
    with pytest.raises(NothingToPropose):
        OfflineProposer().propose(request)


def test_the_same_request_gives_the_same_proposal_and_a_retry_the_next_best() -> None:
    request = vocabulary_request(PULLING_DESCRIPTION, taken=TAKEN)
    first = OfflineProposer().propose(request)
    assert OfflineProposer().propose(request) == first
    retried = OfflineProposer().propose(dataclasses.replace(request, rejected="too long"))
    assert retried.description == ranked_edits(request)[1].description != first.description


def test_every_proposal_is_valid_and_new_until_there_is_nothing_left() -> None:
    tried: tuple[str, ...] = ()
    while True:
        request = vocabulary_request(PULLING_DESCRIPTION, taken=TAKEN, tried=tried)
        try:
            proposal = OfflineProposer().propose(request)
        except NothingToPropose:
            break
        assert proposal_problems(proposal, request) == []
        tried += (proposal.description,)
    assert len(tried) >= 3
    assert len(set(tried)) == len(tried)
