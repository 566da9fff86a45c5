"""`routelens optimize` from loaded skills and cases: split, select per skill, test, record.

One skill, or with `--all` every skill in turn, worst first, each on the suite as already
improved (the chosen descriptions of the skills before it, whatever their test said).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from routelens.errors import InputError
from routelens.optimize.loop import (
    Announce,
    FinalMeasurement,
    LoopSettings,
    Selection,
    measure_on_test,
    select_description,
    worst_first,
)
from routelens.optimize.proposals import Proposer
from routelens.optimize.split import DEFAULT_SPLIT, CaseSplit, split_cases
from routelens.optimize.trials import BudgetExhausted, TrialRunner
from routelens.optimize.verdict import final_verdict
from routelens.suite.models import CaseSuite, SkillSet


@dataclass(frozen=True)
class OptimizeRequest:
    """What `optimize` was asked: one skill or all, the proposer, the split, the loop."""

    proposer: Proposer
    skill: str | None = None
    all_skills: bool = False
    shares: tuple[float, float, float] = DEFAULT_SPLIT
    seed: int = 0
    loop: LoopSettings = field(default_factory=LoopSettings)


@dataclass(frozen=True)
class SkillResult:
    """One skill: its selection, its test measurement (None: the budget ran out first),
    the reason for the recommendation and the experiment that records it."""

    selection: Selection
    measurement: FinalMeasurement | None
    reason: str
    experiment: str | None = None


@dataclass(frozen=True)
class OptimizeResult:
    """Every skill optimised, the split, the suite's test comparison with `--all`."""

    split: CaseSplit
    seed: int
    skills: tuple[SkillResult, ...]
    all_skills: bool
    descriptions: Mapping[str, str]
    """The chosen descriptions that differ from the files, by skill."""
    suite: FinalMeasurement | None = None
    stopped: str | None = None


Recorder = Callable[[Selection, FinalMeasurement, dict[str, Any]], str]
"""Records a skill's test comparison (as an experiment) and returns its name."""


def skills_to_optimize(request: OptimizeRequest, skills: SkillSet) -> list[str]:
    """The skill names asked for, canonical; InputError for an unknown one."""
    if request.all_skills:
        return list(skills.names)
    if request.skill is None:
        raise InputError("routelens optimize", "give --skill NAME or --all", field="skill")
    found = skills.resolve(request.skill)
    if found is None:
        raise InputError(
            "--skill",
            f"unknown skill {request.skill!r} (known: {', '.join(skills.names)})",
        )
    return [found.name]


def optimize(
    trials: TrialRunner,
    skills: SkillSet,
    suite: CaseSuite,
    request: OptimizeRequest,
    *,
    record: Recorder | None = None,
    announce: Announce | None = None,
) -> OptimizeResult:
    """Run the whole optimisation; every trial is a recorded run in `trials.store`."""
    from routelens.optimize.report import skill_report

    say = announce or (lambda message: None)
    names = skills_to_optimize(request, skills)
    split = split_cases(suite.cases, request.shares, request.seed)
    cases = {case.id: case for case in suite.cases}
    base: dict[str, str] = {}
    results: list[SkillResult] = []
    stopped: str | None = None
    try:
        if request.all_skills:
            start = trials.run({}, split.selection, {**request.loop.labels, "optimize": "all"})
            names = worst_first(start, split.train, skills)
        for name in names:
            selection = select_description(
                trials,
                skills,
                cases,
                name,
                split.train,
                split.validation,
                request.proposer,
                base=base,
                settings=request.loop,
                announce=say,
            )
            if selection.changed:
                base = {**base, name: selection.chosen.description}
            try:
                measurement = measure_on_test(trials, selection, split.test, request.loop)
            except BudgetExhausted as spent:
                results.append(SkillResult(selection, None, f"not measured on test: {spent}"))
                raise
            result = SkillResult(selection, measurement, measurement.verdict.reason)
            if record is not None and selection.changed:
                name_recorded = record(selection, measurement, skill_report(result, split))
                result = replace(result, experiment=name_recorded)
            results.append(result)
    except BudgetExhausted as spent:
        stopped = str(spent)
    suite_measurement = None
    if request.all_skills and stopped is None:
        suite_measurement = _suite_measurement(trials, base, split, request.loop)
    return OptimizeResult(
        split=split,
        seed=request.seed,
        skills=tuple(results),
        all_skills=request.all_skills,
        descriptions=base,
        suite=suite_measurement,
        stopped=stopped,
    )


def _suite_measurement(
    trials: TrialRunner, chosen: Mapping[str, str], split: CaseSplit, loop: LoopSettings
) -> FinalMeasurement | None:
    labels = {**loop.labels, "optimize": "all", "split": "test"}
    try:
        before = trials.run({}, split.test, {**labels, "arm": "original"})
        after = trials.run(chosen, split.test, {**labels, "arm": "chosen"})
    except BudgetExhausted:
        return None
    verdict = final_verdict("", before.outcomes, after.outcomes, split.test)
    return FinalMeasurement(before, after, verdict, split.test)
