"""The words the offline proposer works with, and how much each says about one skill.

Words are compared by their English stems, as the local router compares them. A word's
weight for a skill is a smoothed log odds ratio over the train inputs the proposer is
shown: how much more often the skill's own inputs use the word than everything else it
sees (the other skills' inputs and the other skills' descriptions). A word worth adding
must also recur: it has to appear in at least `MIN_SUPPORT` of the inputs the skill
missed, so a typo or a one-off name in a single request is never proposed; and it must
appear in more missed inputs than other skills' inputs (those the skill does not already
take), so that adding it is expected to win more than it pulls.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

from routelens.optimize.proposals import ProposalRequest, TrainFailure, TrainInput

MIN_SUPPORT = 2
"""An added word must appear in at least this many missed train inputs."""
MIN_ADD_LOG_ODDS = math.log(2)
"""An added word must be at least twice as likely (in odds) in the skill's inputs."""

_WORD = re.compile(r"(?<![\w'])[a-z][a-z-]*[a-z](?![\w'])")
_MIN_WORD_LENGTH = 3
_STOPWORDS = frozenset(STOPWORDS_EN_PLUS)
# issue keys (TES-212) and other tokens with digits name one thing, not a kind of request
_KEY = re.compile(r"\b[\w-]*\d[\w-]*")
_STEMMER = Stemmer.Stemmer("english")


@lru_cache(maxsize=16384)
def stem(word: str) -> str:
    """The English stem of a lowercase word."""
    return str(_STEMMER.stemWord(word))


def words(text: str) -> list[str]:
    """The content words of `text`, lowercased, in order: no stopwords, and nothing that
    names one thing rather than a kind of request (issue keys, numbers)."""
    plain = _KEY.sub(" ", text).lower()
    return [
        word
        for word in _WORD.findall(plain)
        if len(word) >= _MIN_WORD_LENGTH and word not in _STOPWORDS
    ]


@lru_cache(maxsize=16384)
def stems(text: str) -> frozenset[str]:
    """The stems of `text`'s content words."""
    return frozenset(stem(word) for word in words(text))


def smoothed_log_odds(own: int, own_total: int, other: int, other_total: int) -> float:
    """The log odds ratio of a word appearing in `own` of `own_total` documents against
    `other` of `other_total`, with 0.5 added to each cell (Haldane-Anscombe), so that a
    word absent from one side still gets a finite weight."""
    return math.log(
        (own + 0.5) * (other_total - other + 0.5) / ((own_total - own + 0.5) * (other + 0.5))
    )


@dataclass(frozen=True)
class Term:
    """A word the proposer may add or drop: its stem, the form shown, how many inputs back
    it (missed inputs for an addition, taken inputs for a drop) and its log odds."""

    stem: str
    word: str
    support: int
    log_odds: float
    elsewhere: int = 0
    """Other skills' train inputs (not already taken) that use the word."""

    @property
    def weight(self) -> float:
        """What ranks additions: support times log odds."""
        return self.support * self.log_odds


@dataclass(frozen=True)
class Evidence:
    """What one request says about the skill's vocabulary, split by whose input it is."""

    missed: tuple[TrainFailure, ...]
    """Train inputs that expected the skill and went elsewhere."""
    taken: tuple[TrainFailure, ...]
    """Train inputs of other skills (or of none) that the skill took."""
    own: tuple[TrainInput, ...]
    """Every train input that expects the skill."""
    others: tuple[TrainInput, ...]
    """Every train input that expects something else."""
    other_descriptions: tuple[str, ...]

    @classmethod
    def of(cls, request: ProposalRequest) -> Evidence:
        """The evidence in `request` (the failures stand in for the train inputs when the
        request lists none)."""
        skill = request.skill
        inputs = request.train_inputs or tuple(
            TrainInput(f.input, f.expected) for f in request.failures
        )
        return cls(
            missed=tuple(f for f in request.failures if f.expected == skill != f.actual),
            taken=tuple(f for f in request.failures if f.actual == skill != f.expected),
            own=tuple(i for i in inputs if i.expected == skill),
            others=tuple(i for i in inputs if i.expected != skill),
            other_descriptions=tuple(request.other_skills.values()),
        )

    def elsewhere(self, stem_: str) -> int:
        """Other skills' train inputs, not already taken by the skill, that use `stem_`."""
        taken = {f.input for f in self.taken}
        return sum(1 for i in self.others if i.input not in taken and stem_ in stems(i.input))

    def log_odds(self, stem_: str) -> float:
        """How much more the skill's own inputs use `stem_` than everything else seen."""
        own = sum(1 for i in self.own if stem_ in stems(i.input))
        other = sum(1 for i in self.others if stem_ in stems(i.input))
        other += sum(1 for text in self.other_descriptions if stem_ in stems(text))
        return smoothed_log_odds(
            own, len(self.own), other, len(self.others) + len(self.other_descriptions)
        )


def _terms(inputs: Sequence[str], keep: Iterable[str] | None = None) -> Counter[str]:
    """How many of `inputs` use each stem (only stems in `keep`, when given)."""
    wanted = None if keep is None else set(keep)
    counts: Counter[str] = Counter()
    for text in inputs:
        counts.update(s for s in stems(text) if wanted is None or s in wanted)
    return counts


def _shown_forms(inputs: Sequence[str]) -> dict[str, str]:
    """For each stem, its most used form in `inputs` (ties: the shorter, then alphabetical)."""
    forms: Counter[tuple[str, str]] = Counter(
        (stem(word), word) for text in inputs for word in words(text)
    )
    best: dict[str, tuple[int, int, str]] = {}
    for (stem_, word), count in forms.items():
        key = (-count, len(word), word)
        if stem_ not in best or key < best[stem_]:
            best[stem_] = key
    return {stem_: key[2] for stem_, key in best.items()}


def terms_to_add(request: ProposalRequest) -> list[Term]:
    """Words the description lacks that recur in the inputs the skill missed, belong to the
    skill's users more than to anyone else's and reach more missed inputs than other skills'
    inputs, best first (by support x log odds)."""
    evidence = Evidence.of(request)
    texts = [f.input for f in evidence.missed]
    present = stems(request.description)
    forms = _shown_forms(texts)
    found = []
    for stem_, support in _terms(texts).items():
        if support < MIN_SUPPORT or stem_ in present:
            continue
        log_odds, elsewhere = evidence.log_odds(stem_), evidence.elsewhere(stem_)
        if log_odds >= MIN_ADD_LOG_ODDS and support > elsewhere:
            found.append(Term(stem_, forms[stem_], support, log_odds, elsewhere))
    return sorted(found, key=lambda t: (-t.weight, t.stem))


def terms_to_drop(request: ProposalRequest) -> list[Term]:
    """Words of the description that the inputs the skill took from others share, and that
    other skills' inputs use more than its own, strongest pull first."""
    evidence = Evidence.of(request)
    texts = [f.input for f in evidence.taken]
    description_words = words(request.description)
    forms = {stem(word): word for word in reversed(description_words)}
    found = []
    for stem_, support in _terms(texts, forms).items():
        log_odds = evidence.log_odds(stem_)
        if log_odds < 0:
            found.append(Term(stem_, forms[stem_], support, log_odds))
    return sorted(found, key=lambda t: (-t.support, t.log_odds, t.stem))
