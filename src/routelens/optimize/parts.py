"""A description cut into the parts `ablate` removes one at a time.

Parts are sentences, except that a `TRIGGERS:` or `NOT FOR:` list is cut into its items
(split on commas and semicolons), so each trigger phrase can be tested alone. A part is a
span of the original text; removing it keeps every other character, then tidies the
spacing and the list punctuation it leaves behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class PartKind(StrEnum):
    """What a part is: a sentence, or one item of a TRIGGERS: / NOT FOR: list."""

    SENTENCE = "sentence"
    TRIGGER = "trigger"
    NOT_FOR = "not-for"


@dataclass(frozen=True)
class DescriptionPart:
    """One removable part: its kind, its text and where it sits in the description."""

    index: int
    kind: PartKind
    text: str
    start: int
    end: int


# Words that end in a full stop without ending a sentence.
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.", "approx.", "incl.", "no.")
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*(?=\s+|$)")
_LIST_HEADER = re.compile(r"^\s*(TRIGGERS|NOT FOR)\s*:\s*", re.IGNORECASE)
_ITEM = re.compile(r"[^,;]+")


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        word = text[:end].rsplit(maxsplit=1)[-1].lower() if text[:end].strip() else ""
        if word in _ABBREVIATIONS:
            continue
        spans.append((start, end))
        start = end
    if text[start:].strip():
        spans.append((start, len(text)))
    return [_strip_span(text, s, e) for s, e in spans if text[s:e].strip()]


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def description_parts(description: str) -> list[DescriptionPart]:
    """The parts of `description`, in order (sentences, or the items of a TRIGGERS: or
    NOT FOR: list)."""
    parts: list[DescriptionPart] = []
    for start, end in _sentence_spans(description):
        sentence = description[start:end]
        header = _LIST_HEADER.match(sentence)
        if header is None:
            parts.append(DescriptionPart(len(parts), PartKind.SENTENCE, sentence, start, end))
            continue
        kind = PartKind.TRIGGER if header.group(1).upper() == "TRIGGERS" else PartKind.NOT_FOR
        body_start = start + header.end()
        body = description[body_start:end]
        for item in _ITEM.finditer(body):
            item_start, item_end = _strip_span(
                description, body_start + item.start(), body_start + item.end()
            )
            # the list's closing full stop belongs to the list, not to its last item
            while item_end > item_start and description[item_end - 1] in ".!?":
                item_end -= 1
            if item_end > item_start:
                text = description[item_start:item_end]
                parts.append(DescriptionPart(len(parts), kind, text, item_start, item_end))
    return parts


def without_part(description: str, part: DescriptionPart) -> str:
    """`description` with `part` removed: spacing and list separators tidied, and a list
    left with no item losing its header too."""
    parts = description_parts(description)
    if part.kind is not PartKind.SENTENCE:
        siblings = [p for p in parts if p.kind is part.kind and _same_list(description, p, part)]
        if len(siblings) == 1:
            sentence = next((s, e) for s, e in _sentence_spans(description) if s <= part.start < e)
            return tidy(description[: sentence[0]] + description[sentence[1] :])
    removed = description[: part.start] + description[part.end :]
    return tidy(removed)


def _same_list(description: str, first: DescriptionPart, second: DescriptionPart) -> bool:
    spans = _sentence_spans(description)
    return any(s <= first.start < e and s <= second.start < e for s, e in spans)


_DOUBLE_SEPARATOR = re.compile(r"\s*([,;])\s*(?:[,;]\s*)+")
_SEPARATOR_BEFORE_END = re.compile(r"\s*[,;]\s*(?=[.!?]|$)")
_SEPARATOR_AFTER_HEADER = re.compile(r"(?i)((?:TRIGGERS|NOT FOR)\s*:)\s*[,;]\s*")


def tidy(text: str) -> str:
    """`text` after a removal: no doubled or dangling list separators, single spaces."""
    text = _DOUBLE_SEPARATOR.sub(r"\1 ", text)
    text = _SEPARATOR_AFTER_HEADER.sub(r"\1 ", text)
    text = _SEPARATOR_BEFORE_END.sub("", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()
