"""Every number in a summary must be one of the facts: the check that guards the LLM's text.

A number in the text is read with what marks it: a percentage (`87.3%`, `87 percent`,
`-2.1 pt`, `2 points`), money (`$12.40`), or plain (`1,234`, `0.87`, `seven`). It is
accepted when some fact, in a form it may be displayed in, rounds to it:

- percentages match ratio facts x 100 (`RATIO_FIELDS`: accuracy, rates, deltas);
- money matches the `*_usd` facts;
- plain numbers match any numeric fact, ratio facts x 100, and the numbers inside the
  facts' text (the parts of a date, a number in a commit subject).

Digits glued to letters (`TC031`, `3f2a9b1c`, `v2`, `7d`) form identifiers, not numbers,
in the text and in the facts alike, so a commit id allows no small integers.

Rounding tolerance: a number written with d decimals matches a fact within half a unit of
its last digit (`87%` matches 0.8734 and 0.865, `87.3%` matches 0.8734 but not 0.8726; `$12`
matches $12.40). A number written with a sign (`-2.1 pt`, `+3`) must match a fact of that
sign; an unsigned one may match a fact's size (`fell 2.1 points` for a delta of -0.021).
Spelled-out numbers from zero to twenty are checked as integers, except `one` (too often
not a number).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from routelens.summaries.facts import MONEY_FIELDS_SUFFIX, RATIO_FIELDS

_NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>[-+\u2212]?)"
    r"(?P<money>\$\s?)?"
    r"(?P<digits>\d{1,3}(?:,\d{3})+|\d+)(?P<decimals>\.\d+)?"
    r"(?P<unit>\s?%|\s?(?:percent(?:age)?(?:\s+points?)?|pts?|points?)\b)?"
    r"(?![\w])",
    re.IGNORECASE,
)
_WORDS = (
    "zero",
    "",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
)
_NUMBER_WORD = re.compile(r"\b(" + "|".join(w for w in _WORDS if w) + r")\b", re.IGNORECASE)
_EPSILON = 1e-9
WORDING_NUMBERS = (0.001,)
"""Numbers the wording itself may use: the floor of a written p-value (`p < 0.001`)."""


class NumberKind(StrEnum):
    """What a number in a text claims to be."""

    PERCENT = "percent"
    MONEY = "money"
    PLAIN = "plain"


@dataclass(frozen=True)
class NumberMention:
    """A number as written in a text: its value, decimals shown, sign and kind."""

    text: str
    value: float
    decimals: int
    signed: bool
    kind: NumberKind


@dataclass(frozen=True)
class AllowedNumbers:
    """The values the facts allow, by the kind of number that may state them."""

    percent: frozenset[float]
    money: frozenset[float]
    plain: frozenset[float]

    def values_for(self, kind: NumberKind) -> frozenset[float]:
        """The facts a number of this kind may match."""
        if kind is NumberKind.PERCENT:
            return self.percent
        if kind is NumberKind.MONEY:
            return self.money
        return self.plain


@dataclass(frozen=True)
class NumberCheck:
    """The result of checking a text: the numbers no fact supports (none: accepted)."""

    mentions: tuple[NumberMention, ...]
    unsupported: tuple[NumberMention, ...]

    @property
    def accepted(self) -> bool:
        """True when every number in the text is a fact."""
        return not self.unsupported


def numbers_in(text: str) -> list[NumberMention]:
    """Every number in `text`, in order (digits first, then spelled-out numbers)."""
    mentions: list[NumberMention] = []
    for match in _NUMBER.finditer(text):
        digits = match.group("digits").replace(",", "")
        decimals = match.group("decimals") or ""
        sign = match.group("sign")
        value = float(digits + decimals)
        if sign in ("-", "\u2212"):
            value = -value
        unit = (match.group("unit") or "").strip()
        if match.group("money"):
            kind = NumberKind.MONEY
        elif unit:
            kind = NumberKind.PERCENT
        else:
            kind = NumberKind.PLAIN
        decimal_places = len(decimals) - 1 if decimals else 0
        mentions.append(NumberMention(match.group(0), value, decimal_places, bool(sign), kind))
    for match in _NUMBER_WORD.finditer(text):
        value = float(_WORDS.index(match.group(1).lower()))
        mentions.append(NumberMention(match.group(0), value, 0, False, NumberKind.PLAIN))
    return mentions


def _walk(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for inner_key, inner in value.items():
            yield from _walk(inner, str(inner_key))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _walk(item, key)
    else:
        yield key, value


def allowed_numbers(facts: Mapping[str, Any]) -> AllowedNumbers:
    """The values each kind of number may take, from facts as `facts_dict` gives them."""
    percent: set[float] = set()
    money: set[float] = set()
    plain: set[float] = set()
    for key, value in _walk(facts):
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float):
            number = float(value)
            plain.add(number)
            if key in RATIO_FIELDS:
                percent.add(number * 100)
                plain.add(number * 100)
            if key.endswith(MONEY_FIELDS_SUFFIX):
                money.add(number)
        elif isinstance(value, str):
            plain.update(abs(mention.value) for mention in numbers_in(value))
    return AllowedNumbers(frozenset(percent), frozenset(money), frozenset(plain))


def supports(fact: float, mention: NumberMention) -> bool:
    """Whether `fact`, rounded to the mention's decimals, reads as the mention."""
    tolerance = 0.5 * 10.0**-mention.decimals + _EPSILON
    if mention.signed:
        return abs(fact - mention.value) <= tolerance
    return abs(abs(fact) - abs(mention.value)) <= tolerance


def check_numbers(
    text: str, facts: Mapping[str, Any], wording: tuple[float, ...] = WORDING_NUMBERS
) -> NumberCheck:
    """Check that every number in `text` is supported by `facts` (see the module docstring);
    `wording` are the plain numbers the summary's own phrasing uses."""
    found = allowed_numbers(facts)
    allowed = AllowedNumbers(found.percent, found.money, found.plain | frozenset(wording))
    mentions = numbers_in(text)
    unsupported = tuple(
        mention
        for mention in mentions
        if not any(supports(fact, mention) for fact in allowed.values_for(mention.kind))
    )
    return NumberCheck(tuple(mentions), unsupported)
