"""A small request for the offline proposer: one skill, its users' words, and a rival.

jira-worklog's users say "timesheet" (three missed inputs), one of them with a typo
("timeshet"); its description ends with a phrase about sprint reports that pulls the agile
skill's inputs ("show the sprint board", "plan the next sprint").
"""

from __future__ import annotations

from routelens.optimize.proposals import (
    ProposalRequest,
    TrainFailure,
    TrainInput,
    TriedDescription,
)

SKILL = "jira-worklog"
DESCRIPTION = "Log work on an issue. Record the time spent on a ticket."
PULLING_DESCRIPTION = (
    "Log work on an issue, or show sprint reports. Record the time spent on a ticket."
)
OTHERS = {
    "jira-search": "Find issues with JQL queries and saved filters.",
    "jira-agile": "Plan sprints and show the sprint board.",
}
MISSED = (
    "fill in my timesheet for monday please",
    "timesheet entry for the release work",
    "my timesheet is empty, please fix it",
    "put the timeshet in for friday",
)
PASSED = ("log two hours of work on TES-4",)
TAKEN = ("show the sprint board", "plan the next sprint")
ELSEWHERE = (
    ("jira-search", "please find my saved filters"),
    ("jira-search", "find issues please"),
    ("jira-search", "please run the JQL for open bugs"),
)


def failure(text: str, expected: str, actual: str) -> TrainFailure:
    return TrainFailure("C", text, expected, actual, None)


def vocabulary_request(
    description: str = DESCRIPTION,
    *,
    missed: tuple[str, ...] = MISSED,
    taken: tuple[str, ...] = (),
    tried: tuple[str, ...] = (),
) -> ProposalRequest:
    """The request as the loop would build it from these train inputs."""
    failures = (
        *(failure(text, SKILL, "clarified") for text in missed),
        *(failure(text, "jira-agile", SKILL) for text in taken),
    )
    inputs = (
        *(TrainInput(text, SKILL) for text in (*missed, *PASSED)),
        *(TrainInput(text, "jira-agile") for text in dict.fromkeys((*TAKEN, *taken))),
        *(TrainInput(text, skill) for skill, text in ELSEWHERE),
    )
    history = (TriedDescription(description, 0.5), *(TriedDescription(t, 0.5) for t in tried))
    return ProposalRequest(
        SKILL, description, OTHERS, failures, history, iteration=1, train_inputs=inputs
    )
