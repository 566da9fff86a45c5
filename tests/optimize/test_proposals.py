"""Which proposals may be tried; an invalid one is asked for once more, then skipped."""

from __future__ import annotations

import pytest

from routelens.optimize.proposals import (
    Proposal,
    ProposalRequest,
    TriedDescription,
    proposal_problems,
    request_proposal,
)

SKILL = "jira-worklog"
REQUEST = ProposalRequest(
    SKILL,
    "Log work.",
    {"jira-search": "Find issues."},
    (),
    (TriedDescription("Log work.", 0.5),),
    iteration=1,
)


class ScriptedProposer:
    """Answers with the given proposals in order and keeps every request."""

    name = "scripted"

    def __init__(self, *answers: Proposal) -> None:
        self.answers = list(answers)
        self.requests: list[ProposalRequest] = []

    def propose(self, request: ProposalRequest) -> Proposal:
        self.requests.append(request)
        return self.answers.pop(0)


@pytest.mark.parametrize(
    ("proposal", "problem"),
    [
        (Proposal(SKILL, "x" * 1025), "1025 characters; at most 1024"),
        (Proposal(SKILL, "Log <work>time</work> on issues."), "XML tag"),
        (Proposal("worklog-helper", "Log work on issues."), "changes the skill's name"),
        (Proposal(SKILL, "   "), "empty"),
        (Proposal(SKILL, "Log work."), "tried already"),
        (Proposal("", "", unreadable="not JSON"), "not JSON"),
    ],
)
def test_invalid_proposals_say_why(proposal: Proposal, problem: str) -> None:
    problems = proposal_problems(proposal, REQUEST)
    assert any(problem in text for text in problems), problems


def test_a_valid_proposal_has_no_problem() -> None:
    assert proposal_problems(Proposal(SKILL, "x" * 1024), REQUEST) == []
    assert proposal_problems(Proposal(SKILL, "Log time when a < b and c > d."), REQUEST) == []


def test_an_invalid_proposal_is_asked_for_again_with_the_reason() -> None:
    proposer = ScriptedProposer(
        Proposal(SKILL, "y" * 2000, cost_usd=0.01),
        Proposal(SKILL, " Log timesheets. ", cost_usd=0.02),
    )
    outcome = request_proposal(proposer, REQUEST)
    assert outcome.description == "Log timesheets."
    assert outcome.cost_usd == pytest.approx(0.03)
    first, second = proposer.requests
    assert first.rejected is None
    assert second.rejected is not None
    assert "2000 characters" in second.rejected
    assert [bool(t.problems) for t in outcome.tries] == [True, False]


def test_two_invalid_proposals_in_a_row_are_skipped() -> None:
    proposer = ScriptedProposer(
        Proposal(SKILL, "Log <b>work</b>."), Proposal("renamed", "Log work and time.")
    )
    outcome = request_proposal(proposer, REQUEST)
    assert outcome.description is None
    assert len(proposer.requests) == 2
    assert [len(t.problems) for t in outcome.tries] == [1, 1]
