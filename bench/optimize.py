"""How honest is `routelens optimize`? The example suite, the local router, the offline proposer.

Part 1, the gain. For each seed, `optimize --all` (split 0.6/0.2/0.2, 5 proposals a skill)
as the command runs it; printed: the suite's test accuracy before and after, the McNemar
p-value of the difference, and how many skills were recommended.

Part 2, the optimism of choosing by test. For each seed the cases are split four ways,
stratified: train 0.4, validation 0.2, test 0.2 and a fresh 0.2 that no choice ever sees.
Every skill is optimised on its own from the original suite (proposals from train), and
every candidate description is run on validation, test and fresh. Two rules then choose:

- by validation (routelens): the candidate with the best validation accuracy;
- by test (the skill-creator's rule): the candidate with the best test accuracy.

Each reports the gain of its choice over the original on test; the fresh split says what
that gain really is. Optimism = reported gain - fresh gain, in points, averaged over every
(seed, skill). Choosing by test should report more than the fresh split confirms;
choosing by validation should not, on average. The paired difference of the two rules'
optimism is tested with the Wilcoxon signed-rank test (scipy).

Run: `PYTHONPATH=. python bench/optimize.py` (`--seeds 40`, `--iterations 5`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from scipy import stats as scipy_stats

from routelens.config import RoutelensConfig
from routelens.optimize.loop import LoopSettings, select_description
from routelens.optimize.offline import OfflineProposer
from routelens.optimize.optimizer import OptimizeRequest, optimize
from routelens.optimize.outcomes import Accuracy, accuracy_over
from routelens.optimize.selection import Candidate, best_by, choose_on_validation
from routelens.optimize.split import split_cases
from routelens.optimize.trials import TrialRunner, TrialSettings, plan_first
from routelens.store.sqlstore import open_store
from routelens.suite.models import Case, CaseSuite, SkillSet

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "jira"


@dataclass(frozen=True)
class Choice:
    """One rule's choice for one (seed, skill): its reported and its fresh gain, in points."""

    reported: float
    fresh: float

    @property
    def optimism(self) -> float:
        """What the rule claims beyond what the fresh split confirms."""
        return self.reported - self.fresh


def _accuracy(trials: TrialRunner, overrides: Mapping[str, str], ids: Sequence[str]) -> Accuracy:
    """A recorded run of `overrides` on `ids`, and its accuracy there."""
    return accuracy_over(trials.run(overrides, ids, {"bench": "optimize"}).outcomes, ids)


def _points(accuracy: Accuracy) -> float:
    return 100 * (accuracy.value or 0.0)


def four_way_split(cases: Sequence[Case], seed: int) -> tuple[tuple[str, ...], ...]:
    """train 0.4, validation 0.2, test 0.2, fresh 0.2, each stratified."""
    first = split_cases(cases, (0.4, 0.2, 0.4), seed)
    held_out = [case for case in cases if case.id in set(first.test)]
    second = split_cases(held_out, (0.5, 0.25, 0.25), seed + 1)
    return first.train, first.validation, second.train, second.validation + second.test


def optimism_for_seed(
    trials: TrialRunner, skills: SkillSet, suite: CaseSuite, seed: int, iterations: int
) -> list[tuple[Choice, Choice]]:
    """(by validation, by test) for every skill of one seed."""
    train, validation, test, fresh = four_way_split(suite.cases, seed)
    cases = {case.id: case for case in suite.cases}
    pairs = []
    for skill in skills.names:
        selection = select_description(
            trials,
            skills,
            cases,
            skill,
            train,
            validation,
            OfflineProposer(),
            settings=LoopSettings(iterations=iterations),
        )
        candidates = [selection.original] + [
            i.candidate for i in selection.iterations if i.candidate is not None
        ]
        overrides = {
            c.iteration: {} if c.iteration == 0 else {skill: c.description} for c in candidates
        }
        on_test = {i: _accuracy(trials, o, test) for i, o in overrides.items()}
        on_fresh = {i: _accuracy(trials, o, fresh) for i, o in overrides.items()}
        by_validation = choose_on_validation(candidates)
        by_test = best_by(candidates, lambda c, scores=on_test: scores[c.iteration])  # type: ignore[misc]
        pairs.append(
            (_choice(by_validation, on_test, on_fresh), _choice(by_test, on_test, on_fresh))
        )
    return pairs


def _choice(
    chosen: Candidate, on_test: Mapping[int, Accuracy], on_fresh: Mapping[int, Accuracy]
) -> Choice:
    """The chosen candidate's gain over the original (iteration 0), on test and on fresh."""
    return Choice(
        reported=_points(on_test[chosen.iteration]) - _points(on_test[0]),
        fresh=_points(on_fresh[chosen.iteration]) - _points(on_fresh[0]),
    )


def gain_for_seed(
    trials: TrialRunner, skills: SkillSet, suite: CaseSuite, seed: int, iterations: int
) -> tuple[float, float, float, int]:
    """`optimize --all`: test accuracy before, after, the McNemar p-value, skills recommended."""
    request = OptimizeRequest(
        proposer=OfflineProposer(),
        all_skills=True,
        seed=seed,
        loop=LoopSettings(iterations=iterations),
    )
    result = optimize(trials, skills, suite, request)
    assert result.suite is not None
    measurement = result.suite
    before = measurement.accuracy(measurement.before).value or 0.0
    after = measurement.accuracy(measurement.after).value or 0.0
    recommended = sum(
        1 for r in result.skills if r.measurement is not None and r.measurement.verdict.recommended
    )
    return before, after, measurement.verdict.mcnemar.p_value, recommended


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--iterations", type=int, default=5)
    arguments = parser.parse_args()
    settings = TrialSettings(
        config=RoutelensConfig(),
        skills_dir=EXAMPLE / "skills",
        cases_path=EXAMPLE / "cases.yaml",
    )
    plan = plan_first(settings, None)
    asyncio.run(plan.router.aclose())
    skills, suite = plan.skills, plan.suite
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    started = time.perf_counter()
    gains: list[tuple[float, float, float, int]] = []
    pairs: list[tuple[Choice, Choice]] = []
    with tempfile.TemporaryDirectory(prefix="routelens-bench-optimize-") as folder:
        for seed in range(arguments.seeds):
            with open_store(f"sqlite:///{Path(folder) / f'seed-{seed}.sqlite'}") as store:
                trials = TrialRunner(store, settings)
                gains.append(gain_for_seed(trials, skills, suite, seed, arguments.iterations))
                pairs += optimism_for_seed(trials, skills, suite, seed, arguments.iterations)
    elapsed = time.perf_counter() - started
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{arguments.seeds} seeds, {arguments.iterations} proposals a skill, {elapsed:.0f} s")
    _print_gains(gains)
    _print_optimism(pairs)


def _print_gains(gains: list[tuple[float, float, float, int]]) -> None:
    print("\nPart 1: optimize --all, split 0.6/0.2/0.2, the suite on test (14 cases)")
    print("seed  before  after  gain (points)  McNemar p  skills recommended")
    for seed, (before, after, p_value, recommended) in enumerate(gains):
        print(
            f"{seed:>4}  {before:6.1%}  {after:6.1%}  {100 * (after - before):+13.1f}  "
            f"{p_value:9.3g}  {recommended:>18}"
        )
    differences = [100 * (after - before) for before, after, _, _ in gains]
    significant = sum(1 for _, _, p, _ in gains if p < 0.05)
    print(
        f"mean gain {statistics.mean(differences):+.2f} points; median p "
        f"{statistics.median(p for _, _, p, _ in gains):.3g}; p < 0.05 in {significant} of "
        f"{len(gains)} seeds; skills recommended: {sum(r for *_, r in gains)}"
    )


def _print_optimism(pairs: list[tuple[Choice, Choice]]) -> None:
    print("\nPart 2: optimism (reported gain on test - gain on a fresh split), points")
    for label, index in (("by validation", 0), ("by test", 1)):
        choices = [pair[index] for pair in pairs]
        optimism = [c.optimism for c in choices]
        spread = statistics.stdev(optimism) / len(optimism) ** 0.5 if len(optimism) > 1 else 0.0
        print(
            f"choose {label:<14} reported {statistics.mean(c.reported for c in choices):+6.2f}  "
            f"fresh {statistics.mean(c.fresh for c in choices):+6.2f}  "
            f"optimism {statistics.mean(optimism):+6.2f} ± {spread:.2f} (standard error)"
        )
    differences = [by_test.optimism - by_validation.optimism for by_validation, by_test in pairs]
    nonzero = [d for d in differences if d != 0]
    p_value = float(scipy_stats.wilcoxon(nonzero, alternative="greater").pvalue) if nonzero else 1.0
    print(
        f"by test - by validation: {statistics.mean(differences):+.2f} points over "
        f"{len(pairs)} (seed, skill) choices; they differ in {len(nonzero)}; Wilcoxon "
        f"signed-rank p (by test more optimistic) = {p_value:.3g}"
    )


if __name__ == "__main__":
    main()
