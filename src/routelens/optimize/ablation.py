"""`routelens ablate`: remove each part of a description and measure what routing loses.

A baseline run of the whole suite finds the cases a part can affect: those that name the
skill or expect it, and those the router took to it or offered it in a question. Each
part is then removed in turn and only those cases, plus a seeded sample of the rest (to
catch interference), are run again. Each part gets the accuracy change on the cases that
expect the skill, on the cases routed to it, and on every other case, with McNemar's exact
p-value on the cases that changed, adjusted across parts by Benjamini-Hochberg.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from routelens.analytics.stats import benjamini_hochberg, mcnemar_exact
from routelens.optimize.outcomes import CaseOutcome, paired_table
from routelens.optimize.parts import DescriptionPart, description_parts, without_part
from routelens.optimize.proposals import concerns
from routelens.optimize.trials import TrialRunner
from routelens.suite.models import Case, SkillSet

DEFAULT_SAMPLE = 0.25
DEFAULT_ALPHA = 0.05
ABLATE_LABEL = "ablate"


class PartVerdict(StrEnum):
    """What removing a part does: routing gets worse, cases move both ways in equal numbers,
    nothing changes, or it gets better."""

    CARRIES = "carries the routing"
    MIXED = "mixed"
    DEAD_WEIGHT = "dead weight"
    HARMFUL = "harmful"


def part_verdict(b: int, c: int) -> PartVerdict:
    """The verdict of a part from the cases that fail (b) and pass (c) only without it."""
    if b > c:
        return PartVerdict.CARRIES
    if c > b:
        return PartVerdict.HARMFUL
    return PartVerdict.MIXED if b else PartVerdict.DEAD_WEIGHT


@dataclass(frozen=True)
class AblationCases:
    """The cases every ablated run repeats: those the skill touches, and a sample of the rest."""

    affected: tuple[str, ...]
    sampled: tuple[str, ...]

    @property
    def all(self) -> tuple[str, ...]:
        """Affected then sampled."""
        return self.affected + self.sampled


def ablation_cases(
    skill: str,
    cases: Sequence[Case],
    baseline: Mapping[str, CaseOutcome],
    *,
    sample: float = DEFAULT_SAMPLE,
    seed: int = 0,
) -> AblationCases:
    """The affected cases (in suite order) and `sample` of the others, drawn with `seed`."""
    affected: list[str] = []
    rest: list[str] = []
    for case in cases:
        outcome = baseline.get(case.id)
        named = [name for _, name in case.named_skills()]
        if outcome is not None and concerns(outcome, skill, named):
            affected.append(case.id)
        elif outcome is not None:
            rest.append(case.id)
    count = min(len(rest), math.ceil(len(rest) * sample))
    drawn = set(random.Random(seed).sample(rest, count))
    return AblationCases(tuple(affected), tuple(c for c in rest if c in drawn))


@dataclass(frozen=True)
class GroupChange:
    """Accuracy of a group of cases with the part and without it."""

    cases: int
    before: float | None
    after: float | None

    @property
    def change(self) -> float | None:
        """after - before."""
        if self.before is None or self.after is None:
            return None
        return self.after - self.before

    def as_dict(self) -> dict[str, Any]:
        """The group as `--json` prints it."""
        return {
            "cases": self.cases,
            "before": self.before,
            "after": self.after,
            "change": self.change,
        }


def group_change(
    before: Mapping[str, CaseOutcome], after: Mapping[str, CaseOutcome], case_ids: Sequence[str]
) -> GroupChange:
    """The accuracy of `case_ids` in both runs (cases decided in both)."""
    table = paired_table(before, after, case_ids)
    if table.n == 0:
        return GroupChange(0, None, None)
    return GroupChange(table.n, table.first_successes / table.n, table.second_successes / table.n)


@dataclass(frozen=True)
class PartEffect:
    """What removing one part did."""

    part: DescriptionPart
    description: str
    """The description without the part."""
    run_id: str
    own: GroupChange
    routed: GroupChange
    others: GroupChange
    overall: GroupChange
    b: int
    """Cases that passed with the part and fail without it."""
    c: int
    """Cases that failed with the part and pass without it."""
    p_value: float
    p_adjusted: float
    verdict: PartVerdict
    significant: bool

    def as_dict(self) -> dict[str, Any]:
        """The part as `--json` prints it."""
        return {
            "index": self.part.index,
            "kind": str(self.part.kind),
            "text": self.part.text,
            "description_without": self.description,
            "run_id": self.run_id,
            "own": self.own.as_dict(),
            "routed": self.routed.as_dict(),
            "others": self.others.as_dict(),
            "overall": self.overall.as_dict(),
            "b": self.b,
            "c": self.c,
            "p_value": self.p_value,
            "p_adjusted": self.p_adjusted,
            "verdict": str(self.verdict),
            "significant": self.significant,
        }


@dataclass(frozen=True)
class PartRun:
    """One part removed: the description left and the outcomes of its run."""

    part: DescriptionPart
    description: str
    run_id: str
    outcomes: Mapping[str, CaseOutcome]


def part_effects(
    skill: str,
    baseline: Mapping[str, CaseOutcome],
    runs: Sequence[PartRun],
    case_ids: Sequence[str],
    *,
    alpha: float = DEFAULT_ALPHA,
) -> list[PartEffect]:
    """Each part's effect, ranked from "carries the routing" to "harmful" (pure)."""
    own = [c for c in case_ids if c in baseline and baseline[c].expected == skill]
    routed = [c for c in case_ids if c in baseline and skill in baseline[c].routes]
    others = [c for c in case_ids if c in baseline and baseline[c].expected != skill]
    tables = [paired_table(baseline, run.outcomes, case_ids) for run in runs]
    p_values = [mcnemar_exact(t.first_only, t.second_only) for t in tables]
    adjusted = benjamini_hochberg(p_values)
    effects = []
    for run, table, p, p_adj in zip(runs, tables, p_values, adjusted, strict=True):
        b, c = table.first_only, table.second_only
        verdict = part_verdict(b, c)
        effects.append(
            PartEffect(
                part=run.part,
                description=run.description,
                run_id=run.run_id,
                own=group_change(baseline, run.outcomes, own),
                routed=group_change(baseline, run.outcomes, routed),
                others=group_change(baseline, run.outcomes, others),
                overall=group_change(baseline, run.outcomes, case_ids),
                b=b,
                c=c,
                p_value=p,
                p_adjusted=p_adj,
                verdict=verdict,
                significant=p_adj < alpha,
            )
        )
    # net loss first; among equal nets, parts that move cases before those that move none
    return sorted(effects, key=lambda e: (e.c - e.b, -(e.b + e.c), e.p_value, e.part.index))


@dataclass(frozen=True)
class Ablation:
    """A skill's description, its parts' effects and the runs behind them."""

    skill: str
    description: str
    baseline_run_id: str
    cases: AblationCases
    alpha: float
    effects: tuple[PartEffect, ...]

    def as_dict(self) -> dict[str, Any]:
        """The `--json` object."""
        return {
            "skill": self.skill,
            "description": self.description,
            "baseline_run_id": self.baseline_run_id,
            "cases": {"affected": list(self.cases.affected), "sampled": list(self.cases.sampled)},
            "alpha": self.alpha,
            "parts": [effect.as_dict() for effect in self.effects],
        }


def ablate(
    trials: TrialRunner,
    skills: SkillSet,
    cases: Sequence[Case],
    skill: str,
    *,
    sample: float = DEFAULT_SAMPLE,
    seed: int = 0,
    alpha: float = DEFAULT_ALPHA,
    announce: Callable[[str], None] | None = None,
) -> Ablation:
    """Run the baseline and one run per part; every run is recorded."""
    say = announce or (lambda message: None)
    found = skills.resolve(skill)
    assert found is not None, skill
    labels = {ABLATE_LABEL: found.name}
    baseline = trials.run({}, [case.id for case in cases], {**labels, "part": "none"})
    say(f"{found.name}: baseline run {baseline.run_id}")
    chosen = ablation_cases(found.name, cases, baseline.outcomes, sample=sample, seed=seed)
    runs = []
    for part in description_parts(found.description):
        text = without_part(found.description, part)
        trial = trials.run({found.name: text}, chosen.all, {**labels, "part": str(part.index)})
        say(f"{found.name}: without part {part.index} ({part.text!r}): run {trial.run_id}")
        runs.append(PartRun(part, text, trial.run_id, trial.outcomes))
    effects = part_effects(found.name, baseline.outcomes, runs, chosen.all, alpha=alpha)
    return Ablation(found.name, found.description, baseline.run_id, chosen, alpha, tuple(effects))
