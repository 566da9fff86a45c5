"""The offline proposer: deterministic edits from train failures."""

from __future__ import annotations

import dataclasses

from routelens.optimize.offline import OfflineProposer, distinctive_words, words
from routelens.optimize.proposals import (
    NothingToPropose,
    ProposalRequest,
    TrainFailure,
    TriedDescription,
)

SKILL = "jira-worklog"
DESCRIPTION = "Log work on an issue. Record the time spent on a ticket."
OTHERS = {
    "jira-search": "Find issues with JQL queries and saved filters.",
    "jira-admin": "Set up projects, workflows and permission schemes.",
}


def failure(text: str, expected: str, actual: str) -> TrainFailure:
    return TrainFailure("C", text, expected, actual, None)


def make_request(*failures: TrainFailure, tried: tuple[str, ...] = ()) -> ProposalRequest:
    history = (TriedDescription(DESCRIPTION, 0.5), *(TriedDescription(t, 0.5) for t in tried))
    return ProposalRequest(SKILL, DESCRIPTION, OTHERS, failures, history, iteration=1)


def test_words_leave_out_stopwords_keys_and_numbers() -> None:
    assert words("Fill my TIMESHEET for OPS-14 with 3h, it's 2024") == ["fill", "timesheet"]
    assert words("bitte 2 Stunden auf TES-8 buchen") == ["bitte", "stunden", "auf", "buchen"]


def test_words_of_missed_inputs_come_in_turn_and_unused_words_first() -> None:
    request = make_request(
        failure("fill in my timesheet for monday", SKILL, "clarified"),
        failure("book hours against WEB-2 in the filters", SKILL, "jira-search"),
    )
    # each missed input's best word in turn: longer first, words of other skills last
    assert distinctive_words(request) == ["timesheet", "hours", "monday", "book", "fill", "filters"]


def test_words_of_inputs_taken_from_other_skills_are_never_added() -> None:
    request = make_request(
        failure("fill in my timesheet", SKILL, "clarified"),
        failure("timesheet policy for admins", "jira-admin", SKILL),
    )
    assert "timesheet" not in distinctive_words(request)


def test_the_first_edit_adds_words_and_the_same_request_gives_the_same_edit() -> None:
    request = make_request(failure("fill in my timesheet for monday", SKILL, "clarified"))
    proposal = OfflineProposer().propose(request)
    assert proposal.name == SKILL
    assert proposal.description == f"{DESCRIPTION} Also for timesheet or monday."
    assert OfflineProposer().propose(request) == proposal


def test_a_part_pulling_other_skills_inputs_is_dropped() -> None:
    request = make_request(failure("record the sprint time", "jira-agile", SKILL))
    proposal = OfflineProposer().propose(request)
    assert proposal.description == "Log work on an issue."


def test_tried_descriptions_are_not_proposed_again_and_then_it_stops() -> None:
    failures = (
        failure("record the sprint time", "jira-agile", SKILL),
        failure("fill in my timesheet for monday", SKILL, "clarified"),
    )
    tried: tuple[str, ...] = ()
    while True:
        try:
            proposal = OfflineProposer().propose(make_request(*failures, tried=tried))
        except NothingToPropose:
            break
        assert proposal.description not in tried
        tried += (proposal.description,)
    assert len(tried) >= 4
    assert len(set(tried)) == len(tried)


def test_a_retry_gets_the_next_edit() -> None:
    request = make_request(failure("fill in my timesheet for monday", SKILL, "clarified"))
    first = OfflineProposer().propose(request).description
    retried = OfflineProposer().propose(dataclasses.replace(request, rejected="too long"))
    assert retried.description not in (first, DESCRIPTION)
