"""Train, validation and test: a three-way split of the cases, stratified and seeded.

Cases are grouped by (category, expected skill). Each group is shuffled with the seed and
dealt to the three splits in proportion: a group of n cases puts floor(n x share) or
ceil(n x share) cases in each split, so every kind of case is represented as evenly as its
size allows, and the leftovers (when n x share is not whole) go where the suite as a whole
is furthest from its target. The same cases and seed give the same split; no case is in
two splits.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from routelens.errors import InputError
from routelens.suite.models import Case

SPLIT_NAMES = ("train", "validation", "test")
DEFAULT_SPLIT = (0.6, 0.2, 0.2)


@dataclass(frozen=True)
class CaseSplit:
    """The case ids of each split, each in suite order."""

    train: tuple[str, ...]
    validation: tuple[str, ...]
    test: tuple[str, ...]

    def as_dict(self) -> dict[str, list[str]]:
        """The split as `--json` prints it."""
        return {
            "train": list(self.train),
            "validation": list(self.validation),
            "test": list(self.test),
        }

    @property
    def selection(self) -> tuple[str, ...]:
        """The cases a proposal may be chosen on: train and validation, never test."""
        return self.train + self.validation


def parse_split(text: str) -> tuple[float, float, float]:
    """`"0.6,0.2,0.2"` → (0.6, 0.2, 0.2); shares must be > 0 and add up to 1."""
    parts = [part.strip() for part in text.split(",")]
    try:
        shares = tuple(float(part) for part in parts)
    except ValueError:
        shares = ()
    if len(shares) != 3:
        raise InputError("--split", f"{text!r} is not three numbers TRAIN,VALIDATION,TEST")
    if any(not share > 0 for share in shares):
        raise InputError("--split", f"{text!r}: every share must be greater than 0")
    if not math.isclose(sum(shares), 1.0, abs_tol=1e-6):
        raise InputError("--split", f"{text!r}: the shares add up to {sum(shares):g}, not 1")
    return (shares[0], shares[1], shares[2])


def stratum(case: Case) -> tuple[str, str]:
    """The group a case is split with: its category and the skill it expects."""
    return (case.category.value, case.expected_skill or "")


def split_cases(
    cases: Sequence[Case], shares: Sequence[float] = DEFAULT_SPLIT, seed: int = 0
) -> CaseSplit:
    """Split `cases` three ways by `shares`, stratified by `stratum`; InputError when a split
    would be empty (too few cases for these shares)."""
    rng = random.Random(seed)
    groups: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
    for case in cases:
        groups[stratum(case)].append(case.id)
    keys = sorted(groups)
    for key in keys:
        rng.shuffle(groups[key])
    counts = _allocate({key: len(groups[key]) for key in keys}, shares, rng)
    chosen: dict[str, int] = {}
    for key in keys:
        position = 0
        for split_index, count in enumerate(counts[key]):
            for case_id in groups[key][position : position + count]:
                chosen[case_id] = split_index
            position += count
    members: list[list[str]] = [[], [], []]
    for case in cases:
        members[chosen[case.id]].append(case.id)
    for name, ids in zip(SPLIT_NAMES, members, strict=True):
        if not ids:
            raise InputError(
                "--split",
                f"{len(cases)} cases leave the {name} split empty; add cases or change --split",
            )
    return CaseSplit(tuple(members[0]), tuple(members[1]), tuple(members[2]))


def _allocate(
    sizes: dict[tuple[str, str], int], shares: Sequence[float], rng: random.Random
) -> dict[tuple[str, str], list[int]]:
    """How many cases of each group go to each split: floor or ceil of size x share."""
    counts = {key: [math.floor(size * share) for share in shares] for key, size in sizes.items()}
    total = sum(sizes.values())
    assigned = [sum(counts[key][index] for key in sizes) for index in range(len(shares))]
    targets = [total * share for share in shares]
    keys = list(sizes)
    rng.shuffle(keys)  # which group gives up a leftover first is left to the seed
    for key in keys:
        leftover = sizes[key] - sum(counts[key])
        fractions = [sizes[key] * share - counts[key][index] for index, share in enumerate(shares)]
        # only splits whose ideal count for this group is fractional may take a leftover, so
        # each group stays within one case of its proportional share
        candidates = [index for index, fraction in enumerate(fractions) if fraction > 1e-9]
        for _ in range(leftover):
            index = max(candidates, key=lambda i: (targets[i] - assigned[i], fractions[i], -i))
            counts[key][index] += 1
            assigned[index] += 1
            candidates.remove(index)
    return counts
