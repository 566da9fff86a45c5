"""`changes diff`: a SKILL.md's front matter and body, line by line and word by word (pure).

Rendering gives rich `Text`: red and green in a terminal; without colour the word-level
changes are marked `[-removed-]{+added+}` as `git diff --word-diff=plain` does.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

from rich.text import Text

from routelens.changes.events import split_front_matter

# words, punctuation runs and whitespace runs: "staging." → "staging or production." inserts
# " or production" rather than replacing the whole word
_WORD_OR_SPACE = re.compile(r"\s+|\w+|[^\w\s]+")

WordOp = Literal["equal", "delete", "insert"]


@dataclass(frozen=True)
class WordChange:
    """A run of text that both versions share, or that one of them alone has."""

    op: WordOp
    text: str


@dataclass(frozen=True)
class PartDiff:
    """One part (front matter or body) of two SKILL.md versions, diffed both ways."""

    part: str
    unified: list[str]
    words: list[WordChange]

    @property
    def changed(self) -> bool:
        """Whether the part differs between the versions."""
        return any(change.op != "equal" for change in self.words)


def word_diff(old: str, new: str) -> list[WordChange]:
    """Word-level changes from `old` to `new` (punctuation and whitespace runs count as words)."""
    before, after = _WORD_OR_SPACE.findall(old), _WORD_OR_SPACE.findall(new)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    changes: list[WordChange] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            changes.append(WordChange("equal", "".join(before[i1:i2])))
            continue
        if i2 > i1:
            changes.append(WordChange("delete", "".join(before[i1:i2])))
        if j2 > j1:
            changes.append(WordChange("insert", "".join(after[j1:j2])))
    return changes


def unified_diff(old: str, new: str, from_label: str, to_label: str) -> list[str]:
    """`diff -u` lines (without line endings) from `old` to `new`."""
    return [
        line.rstrip("\n")
        for line in difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=from_label,
            tofile=to_label,
        )
    ]


def diff_skill_texts(old: str, new: str, from_label: str, to_label: str) -> list[PartDiff]:
    """The front matter and the body of two SKILL.md texts, each diffed by line and by word."""
    old_front, old_body = split_front_matter(old)
    new_front, new_body = split_front_matter(new)
    return [
        PartDiff(
            "front matter",
            unified_diff(old_front, new_front, from_label, to_label),
            word_diff(old_front, new_front),
        ),
        PartDiff(
            "body",
            unified_diff(old_body, new_body, from_label, to_label),
            word_diff(old_body, new_body),
        ),
    ]


def render_unified(lines: list[str], *, color: bool) -> Text:
    """Unified diff lines: additions green, removals red, hunk headers cyan (when coloured)."""
    text = Text()
    for line in lines:
        style = ""
        if color:
            if line.startswith(("+++", "---")):
                style = "bold"
            elif line.startswith("+"):
                style = "green"
            elif line.startswith("-"):
                style = "red"
            elif line.startswith("@@"):
                style = "cyan"
        text.append(line + "\n", style=style)
    return text


def render_words(changes: list[WordChange], *, color: bool) -> Text:
    """Word-level changes inline: struck red / green, or `[-...-]` / `{+...+}` without colour."""
    text = Text()
    for change in changes:
        if change.op == "equal":
            text.append(change.text)
        elif color:
            style = "bold green" if change.op == "insert" else "strike red"
            text.append(change.text, style=style)
        elif change.op == "insert":
            text.append("{+" + change.text + "+}")
        else:
            text.append("[-" + change.text + "-]")
    return text
