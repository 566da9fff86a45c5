"""The offline proposer: deterministic edits from the train inputs, no model, no key.

Each call builds several variants of the current description and proposes the best one
not tried yet:

- **add** the top 1, 2, 3 or 4 words that recur in the inputs the skill missed (train cases
  that expected it and went elsewhere), ranked by how much more the skill's own train
  inputs use them than the other skills' inputs and descriptions (`terms.terms_to_add`);
- **drop** the phrase holding a word that the inputs the skill took from other skills
  share and that other skills' inputs use more than its own (`terms.terms_to_drop`): the
  list phrase after a comma when the word is there, else its sentence or list item;
- drop such a phrase **and** add the top two words.

Variants are ranked on the train inputs alone: the missed inputs an added word reaches,
plus the taken inputs a dropped word frees, minus the other skills' inputs an added word
reaches and the skill's own inputs that lose every word they shared with the description.
Only variants that score above zero are proposed. The same request always gives the same
proposal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from routelens.optimize.parts import PartKind, description_parts, tidy, without_part
from routelens.optimize.proposals import NothingToPropose, Proposal, ProposalRequest
from routelens.optimize.terms import Evidence, stems, terms_to_add, terms_to_drop
from routelens.suite.skill_rules import MAX_DESCRIPTION_LENGTH

OFFLINE_PROPOSER_NAME = "offline"
MAX_WORDS_ADDED = 4
MAX_WORDS_DROPPED = 3
WORDS_ADDED_WITH_A_DROP = 2

_ADDED_SENTENCE = re.compile(r"(?:^|(?<=[.!?])\s+)Also for ([^.!?]*)\.$")
_ADDED_ITEM_SEPARATOR = re.compile(r",\s*|\s+or\s+")
_PHRASE = re.compile(r"[^,;]+")


def _listed(items: Sequence[str]) -> str:
    return ", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else items[0]


def with_words(description: str, added: Sequence[str]) -> str | None:
    """`description` with a closing "Also for A, B or C." (extended when an earlier edit
    wrote one); None when nothing is added or the result would be too long."""
    if not added:
        return None
    base = description.rstrip()
    items: list[str] = []
    earlier = _ADDED_SENTENCE.search(base)
    if earlier is not None:
        items = [item for item in _ADDED_ITEM_SEPARATOR.split(earlier.group(1)) if item]
        base = base[: earlier.start()].rstrip()
    if base and base[-1] not in ".!?":
        base += "."
    text = f"{base} Also for {_listed([*items, *added])}.".strip()
    return text if len(text) <= MAX_DESCRIPTION_LENGTH else None


def without_word(description: str, stem: str) -> str | None:
    """`description` without every phrase that uses the word with this stem: a list phrase
    (after a comma or semicolon) when the word is only there, else its whole sentence or
    list item. None when the description would be left empty or unchanged."""
    text = description
    while True:
        holding = [part for part in description_parts(text) if stem in stems(part.text)]
        if not holding:
            break
        part = holding[0]
        phrases = list(_PHRASE.finditer(part.text))
        later = [m for m in phrases[1:] if stem in stems(m.group())]
        if part.kind is PartKind.SENTENCE and later and stem not in stems(phrases[0].group()):
            start, end = part.start + later[0].start() - 1, part.start + later[0].end()
            while text[end - 1] in ".!?":  # the sentence keeps its full stop
                end -= 1
            text = tidy(text[:start] + text[end:])
            continue
        if len(description_parts(text)) < 2:
            return None
        text = without_part(text, part)
    return text if text and text != description else None


@dataclass(frozen=True)
class Edit:
    """A variant of the description, what was done, and its score on the train inputs."""

    description: str
    note: str
    reaches: int = 0
    """Missed train inputs that use an added word."""
    frees: int = 0
    """Taken train inputs that use a dropped word."""
    risks: int = 0
    """Other skills' train inputs that use an added word, plus the skill's own that lose
    every word they shared with the description."""

    @property
    def score(self) -> int:
        """What ranks the variants: reaches + frees - risks."""
        return self.reaches + self.frees - self.risks


def scored(edit: Edit, before: str, evidence: Evidence) -> Edit:
    """`edit` with its reach on the train inputs (the description it changes: `before`)."""
    old, new = stems(before), stems(edit.description)
    added, removed = new - old, old - new
    missed = {f.input for f in evidence.missed}
    taken = {f.input for f in evidence.taken}
    reaches = sum(1 for f in evidence.missed if stems(f.input) & added)
    frees = sum(1 for f in evidence.taken if stems(f.input) & removed)
    pulled = sum(1 for i in evidence.others if i.input not in taken and stems(i.input) & added)
    stranded = sum(
        1
        for i in evidence.own
        if i.input not in missed and stems(i.input) & old and not stems(i.input) & new
    )
    return Edit(edit.description, edit.note, reaches, frees, pulled + stranded)


def variants(request: ProposalRequest) -> list[Edit]:
    """Every variant of the request's description, in the order they were built."""
    adds = [term.word for term in terms_to_add(request)]
    found: list[tuple[str | None, str]] = [
        (with_words(request.description, adds[:count]), f"added {', '.join(adds[:count])}")
        for count in range(1, min(len(adds), MAX_WORDS_ADDED) + 1)
    ]
    for term in terms_to_drop(request)[:MAX_WORDS_DROPPED]:
        dropped = without_word(request.description, term.stem)
        if dropped is None:
            continue
        note = f"dropped the phrase with {term.word!r}"
        found.append((dropped, note))
        both = adds[:WORDS_ADDED_WITH_A_DROP]
        found.append((with_words(dropped, both), f"{note} and added {', '.join(both)}"))
    return [Edit(text, note) for text, note in found if text]


def ranked_edits(request: ProposalRequest) -> list[Edit]:
    """The distinct variants that score above zero on the train inputs, best first (ties:
    the simpler edit, built first)."""
    evidence = Evidence.of(request)
    edits = [scored(edit, request.description, evidence) for edit in variants(request)]
    order = sorted(range(len(edits)), key=lambda index: (-edits[index].score, index))
    distinct: dict[str, Edit] = {}
    for index in order:
        if edits[index].score > 0:
            distinct.setdefault(edits[index].description, edits[index])
    return list(distinct.values())


class OfflineProposer:
    """The deterministic proposer (`--proposer offline`).

    >>> OfflineProposer().name
    'offline'
    """

    name = OFFLINE_PROPOSER_NAME

    def propose(self, request: ProposalRequest) -> Proposal:
        """The best variant not tried yet (the second best on a retry); `NothingToPropose`
        when no variant is left."""
        tried = {entry.description.strip() for entry in request.history}
        fresh = [edit for edit in ranked_edits(request) if edit.description not in tried]
        choice = 1 if request.rejected is not None else 0
        if len(fresh) <= choice:
            raise NothingToPropose("the offline proposer has no edit left to try")
        edit = fresh[choice]
        note = (
            f"{edit.note} (train inputs: reaches {edit.reaches} missed, frees {edit.frees} "
            f"taken, risks {edit.risks})"
        )
        return Proposal(request.skill, edit.description, raw=note)
