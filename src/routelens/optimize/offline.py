"""The offline proposer: deterministic edits from the train failures, no model, no key.

Two kinds of edit, tried in a fixed order until one gives a description not tried yet:

- add the distinctive words of the inputs the skill missed (train cases that expected it
  and went elsewhere): words those inputs share, that the description lacks, preferring
  words no other skill's description uses and never a word of an input the skill took
  from another skill;
- drop the part (sentence, or TRIGGERS:/NOT FOR: item) that shares most words with the
  inputs the skill took from other skills.

Words are compared by their English stems, as the local router compares them. The same
request always gives the same proposal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

from routelens.optimize.parts import description_parts, without_part
from routelens.optimize.proposals import (
    NothingToPropose,
    Proposal,
    ProposalRequest,
    TrainFailure,
)
from routelens.suite.skill_rules import MAX_DESCRIPTION_LENGTH

OFFLINE_PROPOSER_NAME = "offline"
WORDS_PER_EDIT = 3
_WORD = re.compile(r"(?<![\w'])[a-z][a-z-]*[a-z](?![\w'])")
_MIN_WORD_LENGTH = 3
_STOPWORDS = frozenset(STOPWORDS_EN_PLUS)
# issue keys (TES-212) and other tokens with digits name one thing, not a kind of request
_KEY = re.compile(r"\b[\w-]*\d[\w-]*")
_PROJECT_KEY = re.compile(r"\b[A-Z]{2,6}\b")


_STEMMER = Stemmer.Stemmer("english")


@lru_cache(maxsize=8192)
def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def words(text: str) -> list[str]:
    """The content words of `text`, lowercased, in order: no stopwords, and nothing that
    names one thing rather than a kind of request (issue keys, numbers, project keys)."""
    plain = _KEY.sub(" ", _PROJECT_KEY.sub(" ", text)).lower()
    return [
        word
        for word in _WORD.findall(plain)
        if len(word) >= _MIN_WORD_LENGTH and word not in _STOPWORDS
    ]


def stems(text: str) -> set[str]:
    """The stems of `text`'s content words."""
    return {_stem(word) for word in words(text)}


@dataclass(frozen=True)
class _Edit:
    """A candidate description and what was done to make it."""

    description: str
    note: str


def missed(request: ProposalRequest) -> list[TrainFailure]:
    """Train failures the skill should have taken."""
    return [
        f for f in request.failures if f.expected == request.skill and f.actual != request.skill
    ]


def taken(request: ProposalRequest) -> list[TrainFailure]:
    """Train failures the skill took from elsewhere."""
    return [
        f for f in request.failures if f.actual == request.skill and f.expected != request.skill
    ]


def distinctive_words(request: ProposalRequest) -> list[str]:
    """Words of the missed inputs worth adding, best first: each missed input's best word in
    turn, then each one's second best, and so on, so that one edit reaches several inputs.
    An input's words rank by: not in another skill's description, then longer (more
    specific), then alphabetically."""
    own = stems(request.description)
    pulled = set().union(*(stems(f.input) for f in taken(request)))
    others = set().union(*(stems(text) for text in request.other_skills.values()))
    per_input: list[list[str]] = []
    for failure in missed(request):
        fresh = [
            word
            for word in dict.fromkeys(words(failure.input))
            if _stem(word) not in own and _stem(word) not in pulled
        ]
        per_input.append(sorted(fresh, key=lambda w: (_stem(w) in others, -len(w), w)))
    ranked: dict[str, str] = {}
    for depth in range(max((len(found) for found in per_input), default=0)):
        for found in per_input:
            if depth < len(found):
                ranked.setdefault(_stem(found[depth]), found[depth])
    return list(ranked.values())


def _with_words(description: str | None, added: Sequence[str]) -> str | None:
    if not added or description is None:
        return None
    listed = ", ".join(added[:-1]) + (f" or {added[-1]}" if len(added) > 1 else added[-1])
    base = description.rstrip()
    if base and base[-1] not in ".!?":
        base += "."
    text = f"{base} Also for {listed}.".strip()
    return text if len(text) <= MAX_DESCRIPTION_LENGTH else None


def _pulling_parts(request: ProposalRequest) -> list[str]:
    """The description without each part that shares words with inputs the skill took from
    other skills, the strongest pull first (nothing when the description is one part)."""
    inputs = [stems(f.input) for f in taken(request)]
    parts = description_parts(request.description)
    if not inputs or len(parts) < 2:
        return []
    pull = {part.index: sum(len(stems(part.text) & found) for found in inputs) for part in parts}
    ranked = sorted(
        (p for p in parts if pull[p.index] > 0), key=lambda p: (-pull[p.index], -p.index)
    )
    return [without_part(request.description, part) for part in ranked]


def _edits(request: ProposalRequest) -> Iterator[_Edit]:
    ranked = distinctive_words(request)
    dropped = _pulling_parts(request)
    first_drop = dropped[0] if dropped else None
    added = "added words of missed inputs"
    candidates: list[tuple[str | None, str]] = [
        (_with_words(request.description, ranked[:2]), added),
        (first_drop, "dropped the part closest to inputs taken from other skills"),
        (_with_words(request.description, ranked[:1]), added),
        (_with_words(request.description, ranked[:WORDS_PER_EDIT]), added),
        (_with_words(first_drop, ranked[:2]), "dropped a part and " + added),
        *((_with_words(request.description, [word]), added) for word in ranked[1:4]),
        *((text, "dropped another part close to taken inputs") for text in dropped[1:]),
        (_with_words(request.description, ranked[: 2 * WORDS_PER_EDIT]), added),
    ]
    for description, note in candidates:
        if description:
            yield _Edit(description, note)


class OfflineProposer:
    """The deterministic proposer (`--proposer offline`).

    >>> OfflineProposer().name
    'offline'
    """

    name = OFFLINE_PROPOSER_NAME

    def propose(self, request: ProposalRequest) -> Proposal:
        """The first edit not tried yet (the second on a retry); `NothingToPropose` when
        every edit was tried."""
        tried = {entry.description.strip() for entry in request.history}
        fresh = list(
            dict.fromkeys(e.description for e in _edits(request) if e.description not in tried)
        )
        notes = {edit.description: edit.note for edit in _edits(request)}
        choice = 1 if request.rejected is not None else 0
        if len(fresh) <= choice:
            raise NothingToPropose("the offline proposer has no edit left to try")
        return Proposal(request.skill, fresh[choice], raw=notes[fresh[choice]])
