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
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

from routelens.optimize.parts import description_parts, without_part
from routelens.optimize.proposals import Proposal, ProposalRequest, TrainFailure
from routelens.suite.skill_rules import MAX_DESCRIPTION_LENGTH

OFFLINE_PROPOSER_NAME = "offline"
WORDS_PER_EDIT = 3
_WORD = re.compile(r"(?<![\w'])[a-z][a-z-]*[a-z](?![\w'])")
_MIN_WORD_LENGTH = 3
_STOPWORDS = frozenset(STOPWORDS_EN_PLUS)
# issue keys (TES-212) and other tokens with digits name one thing, not a kind of request
_KEY = re.compile(r"\b[\w-]*\d[\w-]*")


_STEMMER = Stemmer.Stemmer("english")


@lru_cache(maxsize=8192)
def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def words(text: str) -> list[str]:
    """The content words of `text`, lowercased, in order (no stopwords, no numbers, no keys)."""
    return [
        word
        for word in _WORD.findall(_KEY.sub(" ", text.lower()))
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
    return [f for f in request.failures if f.expected == request.skill and f.actual != request.skill]


def taken(request: ProposalRequest) -> list[TrainFailure]:
    """Train failures the skill took from elsewhere."""
    return [f for f in request.failures if f.actual == request.skill and f.expected != request.skill]


def distinctive_words(request: ProposalRequest) -> list[str]:
    """Words of the missed inputs worth adding, best first."""
    own = stems(request.description)
    pulled = set().union(*(stems(f.input) for f in taken(request)))
    others = set().union(*(stems(text) for text in request.other_skills.values()))
    counts: Counter[str] = Counter()
    surface: dict[str, str] = {}
    for failure in missed(request):
        for word in dict.fromkeys(words(failure.input)):
            stem = _stem(word)
            if stem in own or stem in pulled:
                continue
            counts[stem] += 1
            surface.setdefault(stem, word)
    ranked = sorted(counts, key=lambda stem: (-counts[stem], stem in others, surface[stem]))
    return [surface[stem] for stem in ranked]


def _with_words(description: str, added: Sequence[str]) -> str | None:
    if not added:
        return None
    listed = ", ".join(added[:-1]) + (f" or {added[-1]}" if len(added) > 1 else added[-1])
    sentence = f"Also use it when a request mentions {listed}."
    base = description.rstrip()
    if base and base[-1] not in ".!?":
        base += "."
    text = f"{base} {sentence}".strip()
    return text if len(text) <= MAX_DESCRIPTION_LENGTH else None


def _without_pulling_part(request: ProposalRequest) -> str | None:
    inputs = [stems(f.input) for f in taken(request)]
    parts = description_parts(request.description)
    if not inputs or len(parts) < 2:
        return None
    pull = [sum(len(stems(part.text) & found) for found in inputs) for part in parts]
    strongest = max(range(len(parts)), key=lambda i: (pull[i], i))
    if pull[strongest] == 0:
        return None
    return without_part(request.description, parts[strongest])


def _edits(request: ProposalRequest) -> Iterator[_Edit]:
    ranked = distinctive_words(request)
    first = ranked[:WORDS_PER_EDIT]
    dropped = _without_pulling_part(request)
    candidates = [
        (_with_words(request.description, first), "added words of missed inputs"),
        (dropped, "dropped the part closest to inputs taken from other skills"),
        (
            _with_words(request.description, ranked[: 2 * WORDS_PER_EDIT]),
            "added more words of missed inputs",
        ),
        (
            _with_words(dropped, first) if dropped else None,
            "dropped a part and added words of missed inputs",
        ),
        (
            _with_words(request.description, ranked[WORDS_PER_EDIT : 2 * WORDS_PER_EDIT]),
            "added the next words of missed inputs",
        ),
    ]
    for description, note in candidates:
        if description:
            yield _Edit(description, note)


def _untried(edits: Iterable[_Edit], tried: set[str]) -> list[_Edit]:
    return [edit for edit in edits if edit.description.strip() not in tried]


class OfflineProposer:
    """The deterministic proposer (`--proposer offline`).

    >>> OfflineProposer().name
    'offline'
    """

    name = OFFLINE_PROPOSER_NAME

    def propose(self, request: ProposalRequest) -> Proposal:
        """The first edit not tried yet (the second on a retry); the description unchanged
        when there is none, which the loop refuses as tried."""
        tried = {entry.description.strip() for entry in request.history}
        fresh = _untried(_edits(request), tried)
        choice = 1 if request.rejected is not None else 0
        if len(fresh) <= choice:
            return Proposal(request.skill, request.description, raw="no edit left to try")
        edit = fresh[choice]
        return Proposal(request.skill, edit.description, raw=edit.note)
