"""What a proposer is asked, what it answers, and which answers may be tried.

A proposer gets the skill's current description, every other skill's description (the
competition), the train failures that concern the skill, every train input with what it
expects, and the descriptions tried so far with their train accuracy. Its answer must be
a description Claude Code would accept as written by the rules (at most 1024 characters,
no XML tags, the skill's name unchanged) and one not tried yet; an invalid answer is
asked for once more, with the reason, and then skipped: it is never run, never written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, runtime_checkable

from routelens.optimize.outcomes import CaseOutcome
from routelens.suite.skill_rules import MAX_DESCRIPTION_LENGTH, XML_TAG_PATTERN


@dataclass(frozen=True)
class TrainFailure:
    """A train case the skill's description may be to blame for."""

    case_id: str
    input: str
    expected: str
    actual: str
    question: str | None

    @classmethod
    def from_outcome(cls, outcome: CaseOutcome) -> TrainFailure:
        """The failure of a case outcome."""
        return cls(
            outcome.case_id, outcome.input, outcome.expected, outcome.actual, outcome.question
        )


@dataclass(frozen=True)
class TrainInput:
    """A train case's input and what it expects (a skill, or a label such as "(ask)")."""

    input: str
    expected: str


@dataclass(frozen=True)
class TriedDescription:
    """A description already tried, with its train accuracy (None when it was not run)."""

    description: str
    train_accuracy: float | None


@dataclass(frozen=True)
class ProposalRequest:
    """Everything a proposer is told about one skill."""

    skill: str
    description: str
    other_skills: Mapping[str, str]
    failures: tuple[TrainFailure, ...]
    history: tuple[TriedDescription, ...]
    iteration: int
    rejected: str | None = None
    """Why the previous answer to this request was refused (on the retry only)."""
    train_inputs: tuple[TrainInput, ...] = ()
    """Every train case's input and expectation: whose vocabulary is whose."""


@dataclass(frozen=True)
class Proposal:
    """A proposer's answer: the skill it describes, the new description, what it cost."""

    name: str
    description: str
    cost_usd: float = 0.0
    raw: str = ""
    """The answer as given (an LLM's text), for the report when it is refused."""
    unreadable: str | None = None
    """Why the answer could not be read as a proposal at all (None when it could)."""


class NothingToPropose(Exception):
    """The proposer has no new description to offer: the loop ends for this skill."""


@runtime_checkable
class Proposer(Protocol):
    """Proposes a new description from a request (offline, or through a model)."""

    name: str

    def propose(self, request: ProposalRequest) -> Proposal:
        """A new description for `request.skill`."""
        ...


def proposal_problems(proposal: Proposal, request: ProposalRequest) -> list[str]:
    """Why a proposal may not be tried (empty when it may)."""
    if proposal.unreadable is not None:
        return [proposal.unreadable]
    problems: list[str] = []
    if proposal.name != request.skill:
        shown = repr(proposal.name) if proposal.name else "no name"
        problems.append(f"it changes the skill's name ({shown} instead of {request.skill!r})")
    description = proposal.description.strip()
    if not description:
        problems.append("the description is empty")
    if len(description) > MAX_DESCRIPTION_LENGTH:
        problems.append(
            f"the description is {len(description)} characters; at most "
            f"{MAX_DESCRIPTION_LENGTH} are allowed"
        )
    if XML_TAG_PATTERN.search(description):
        problems.append("the description contains an XML tag, which is not allowed")
    if "\x00" in description:
        problems.append("the description contains a NUL character")
    tried = {entry.description.strip() for entry in request.history}
    if description and description in tried:
        problems.append("this description was tried already")
    return problems


@dataclass(frozen=True)
class ProposalTry:
    """One answer of the proposer and why it was refused (no problems: accepted)."""

    proposal: Proposal
    problems: tuple[str, ...]


@dataclass(frozen=True)
class ProposalOutcome:
    """The accepted description (None: skipped after a refused retry) and every answer."""

    description: str | None
    tries: tuple[ProposalTry, ...] = field(default_factory=tuple)

    @property
    def cost_usd(self) -> float:
        """What the answers cost together."""
        return sum(attempt.proposal.cost_usd for attempt in self.tries)


def request_proposal(proposer: Proposer, request: ProposalRequest) -> ProposalOutcome:
    """Ask `proposer`; an invalid answer is asked for once more, with its reason, then skipped."""
    tries: list[ProposalTry] = []
    asked = request
    for _ in range(2):
        proposal = proposer.propose(asked)
        problems = tuple(proposal_problems(proposal, request))
        tries.append(ProposalTry(proposal, problems))
        if not problems:
            return ProposalOutcome(proposal.description.strip(), tuple(tries))
        asked = replace(request, rejected="; ".join(problems))
    return ProposalOutcome(None, tuple(tries))


def concerns(outcome: CaseOutcome, skill: str, named: Sequence[str]) -> bool:
    """Whether the skill's description may be to blame for a case: the case names the skill
    (`named`: the skills the case definition mentions), or the router took or offered it."""
    return (
        skill in named
        or outcome.expected == skill
        or skill in outcome.routes
        or (outcome.question is not None and skill in outcome.question)
    )
