"""How honest is `routelens optimize`? Two suites, the local router, the offline proposer.

The suites: examples/jira (70 cases; its failures are mostly one-off inputs) and
examples/optimize (340 cases; a benchmark fixture whose descriptions lack the words their
users use, so there is something real to find).

Part 1, the gain. For each seed, `optimize --all` (5 proposals a skill) as the command
runs it, with the default split 0.6/0.2/0.2 and again with a test-heavy 0.4/0.2/0.4 (more
test cases per skill, so a skill's own gain can reach significance); per seed: the
suite's test accuracy before and after, McNemar's p on the test cases, and per skill how
many test gains were significant and how many were recommended (a significant gain is
still blocked when another group's test accuracy drops by more than 2 points).

Part 2, the optimism of choosing by test. For each seed the cases are split four ways,
stratified: train 0.4, validation 0.2, test 0.2 and a fresh 0.2 that no choice ever sees
(test and fresh swap halves from one seed to the next). Every skill is optimised on its
own from the original suite (proposals from train), and every candidate description is run
on validation, test and fresh. Two rules then choose:

- by validation (routelens): the candidate with the best validation accuracy;
- by test (the skill-creator's rule): the candidate with the best test accuracy.

Each reports the gain of its choice over the original on test; the fresh split says what
that gain really is. Optimism = reported gain - fresh gain, in points. Each seed's
optimism is the mean over its skills; the figures are means over seeds with their
standard errors, and the two rules are compared seed by seed (paired) with the Wilcoxon
signed-rank test (scipy). Choosing by test should report more than the fresh split
confirms; choosing by validation should not, on average.

Run: `PYTHONPATH=. python bench/optimize.py` (`--seeds 30`, `--iterations 5`,
`--suite jira|optimize` to run one).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import sys
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

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SUITES = {"jira": EXAMPLES / "jira", "optimize": EXAMPLES / "optimize"}
SPLITS = ((0.6, 0.2, 0.2), (0.4, 0.2, 0.4))


@dataclass(frozen=True)
class Choice:
    """One rule's choice for one (seed, skill): its reported and its fresh gain, in points."""

    reported: float
    fresh: float

    @property
    def optimism(self) -> float:
        """What the rule claims beyond what the fresh split confirms."""
        return self.reported - self.fresh


@dataclass(frozen=True)
class SkillChoices:
    """Both rules' choices for one (seed, skill), and how many proposals they chose among."""

    by_validation: Choice
    by_test: Choice
    proposals: int


@dataclass(frozen=True)
class Gain:
    """One seed of `optimize --all`: the suite on test, and the skills' verdicts."""

    test_cases: int
    before: float
    after: float
    improved: int
    regressed: int
    p_value: float
    skills: int
    significant: int
    """Skills whose test gain was significant (p < 0.05, more improved than regressed)."""
    recommended: int

    @property
    def points(self) -> float:
        """The change of the suite's test accuracy, in points."""
        return 100 * (self.after - self.before)


def _accuracy(trials: TrialRunner, overrides: Mapping[str, str], ids: Sequence[str]) -> Accuracy:
    """A recorded run of `overrides` on `ids`, and its accuracy there."""
    return accuracy_over(trials.run(overrides, ids, {"bench": "optimize"}).outcomes, ids)


def _points(accuracy: Accuracy) -> float:
    return 100 * (accuracy.value or 0.0)


def four_way_split(cases: Sequence[Case], seed: int) -> tuple[tuple[str, ...], ...]:
    """train 0.4, validation 0.2, test 0.2, fresh 0.2, each stratified. The held-out 0.4 is
    cut in two halves that the stratified rounding may fill a little differently; which half
    is test and which is fresh alternates with the seed, so neither role is favoured."""
    first = split_cases(cases, (0.4, 0.2, 0.4), seed)
    held_out = [case for case in cases if case.id in set(first.test)]
    second = split_cases(held_out, (0.5, 0.25, 0.25), seed + 1)
    halves = (second.train, second.validation + second.test)
    test, fresh = halves if seed % 2 == 0 else halves[::-1]
    return first.train, first.validation, test, fresh


def optimism_for_seed(
    trials: TrialRunner, skills: SkillSet, suite: CaseSuite, seed: int, iterations: int
) -> list[SkillChoices]:
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
            SkillChoices(
                _choice(by_validation, on_test, on_fresh),
                _choice(by_test, on_test, on_fresh),
                len(candidates) - 1,
            )
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
    trials: TrialRunner,
    skills: SkillSet,
    suite: CaseSuite,
    seed: int,
    iterations: int,
    shares: tuple[float, float, float],
) -> Gain:
    """`optimize --all` as the command runs it, on one seed."""
    request = OptimizeRequest(
        proposer=OfflineProposer(),
        all_skills=True,
        shares=shares,
        seed=seed,
        loop=LoopSettings(iterations=iterations),
    )
    result = optimize(trials, skills, suite, request)
    assert result.suite is not None
    measurement = result.suite
    verdicts = [r.measurement.verdict for r in result.skills if r.measurement is not None]
    return Gain(
        test_cases=len(measurement.test),
        before=measurement.accuracy(measurement.before).value or 0.0,
        after=measurement.accuracy(measurement.after).value or 0.0,
        improved=measurement.verdict.mcnemar.c,
        regressed=measurement.verdict.mcnemar.b,
        p_value=measurement.verdict.mcnemar.p_value,
        skills=len(verdicts),
        significant=sum(
            1 for v in verdicts if v.mcnemar.c > v.mcnemar.b and v.mcnemar.p_value < 0.05
        ),
        recommended=sum(1 for v in verdicts if v.recommended),
    )


def _load(folder: Path) -> tuple[TrialSettings, SkillSet, CaseSuite]:
    settings = TrialSettings(
        config=RoutelensConfig(), skills_dir=folder / "skills", cases_path=folder / "cases.yaml"
    )
    plan = plan_first(settings, None)
    if plan.router is not None:
        asyncio.run(plan.router.aclose())
    return settings, plan.skills, plan.suite


def run_suite(name: str, seeds: int, iterations: int) -> float:
    """Both parts on one suite, printed; returns the seconds it took."""
    settings, skills, suite = _load(SUITES[name])
    print(f"\n=== examples/{name}: {len(skills.skills)} skills, {len(suite.cases)} cases ===")
    started = time.perf_counter()
    gains: dict[tuple[float, float, float], list[Gain]] = {shares: [] for shares in SPLITS}
    per_seed: list[list[SkillChoices]] = []
    with tempfile.TemporaryDirectory(prefix="routelens-bench-optimize-") as folder:
        for seed in range(seeds):
            with open_store(f"sqlite:///{Path(folder) / f'seed-{seed}.sqlite'}") as store:
                trials = TrialRunner(store, settings)
                for shares, found in gains.items():
                    found.append(gain_for_seed(trials, skills, suite, seed, iterations, shares))
                per_seed.append(optimism_for_seed(trials, skills, suite, seed, iterations))
            print(
                f"  seed {seed + 1}/{seeds} done, {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    elapsed = time.perf_counter() - started
    for shares, found in gains.items():
        _print_gains(shares, found)
    _print_optimism(per_seed)
    return elapsed


def _mean_and_error(values: Sequence[float]) -> tuple[float, float]:
    """The mean and its standard error (0 for a single value)."""
    spread = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return statistics.mean(values), spread


def _wilcoxon(differences: Sequence[float], alternative: str) -> float:
    """Wilcoxon signed-rank p-value of `differences` (1 when every difference is zero)."""
    if not any(differences):  # scipy refuses an all-zero sample
        return 1.0
    return float(scipy_stats.wilcoxon(differences, alternative=alternative).pvalue)


def _print_gains(shares: tuple[float, float, float], gains: list[Gain]) -> None:
    split = "/".join(f"{share:g}" for share in shares)
    print(
        f"\nPart 1: optimize --all, split {split}, the suite on test ({gains[0].test_cases} cases)"
    )
    print(
        "seed  before  after   gain  improved  regressed  McNemar p  "
        "skills: significant  recommended"
    )
    for seed, gain in enumerate(gains):
        print(
            f"{seed:>4}  {gain.before:6.1%}  {gain.after:6.1%}  {gain.points:+5.1f}  "
            f"{gain.improved:>8}  {gain.regressed:>9}  {gain.p_value:9.2g}  "
            f"{gain.significant:>19}  {gain.recommended:>11}"
        )
    mean, error = _mean_and_error([gain.points for gain in gains])
    significant = sum(1 for gain in gains if gain.p_value < 0.05 and gain.improved > gain.regressed)
    skills = sum(gain.skills for gain in gains)
    print(
        f"mean gain {mean:+.1f} ± {error:.1f} points (standard error over seeds); median p "
        f"{statistics.median(gain.p_value for gain in gains):.2g}; suite gain significant "
        f"(p < 0.05) in {significant} of {len(gains)} seeds; skill verdicts: "
        f"{sum(gain.significant for gain in gains)} significant gains of {skills}, "
        f"{sum(gain.recommended for gain in gains)} of them recommended (the rest blocked by "
        f"the interference rule)"
    )


def _print_optimism(per_seed: list[list[SkillChoices]]) -> None:
    everything = [choices for seed in per_seed for choices in seed]
    differ = sum(1 for choices in everything if choices.by_validation != choices.by_test)
    print(
        f"\nPart 2: optimism = reported gain on test - gain on a fresh split, points; "
        f"{len(per_seed)} seeds x {len(per_seed[0])} skills; "
        f"{sum(c.proposals for c in everything)} proposals run in all "
        f"({statistics.mean(c.proposals for c in everything):.2f} a skill)"
    )
    optimism: dict[str, list[float]] = {}
    for label in ("by validation", "by test"):
        chosen = [
            [c.by_validation if label == "by validation" else c.by_test for c in seed]
            for seed in per_seed
        ]
        reported = [statistics.mean(c.reported for c in seed) for seed in chosen]
        fresh = [statistics.mean(c.fresh for c in seed) for seed in chosen]
        optimism[label] = [r - f for r, f in zip(reported, fresh, strict=True)]
        shown = [_mean_and_error(values) for values in (reported, fresh, optimism[label])]
        print(
            f"choose {label:<14} reported {shown[0][0]:+6.2f} ± {shown[0][1]:.2f}  "
            f"fresh {shown[1][0]:+6.2f} ± {shown[1][1]:.2f}  "
            f"optimism {shown[2][0]:+6.2f} ± {shown[2][1]:.2f}"
        )
    differences = [
        t - v for v, t in zip(optimism["by validation"], optimism["by test"], strict=True)
    ]
    mean, error = _mean_and_error(differences)
    print(
        f"by test - by validation: {mean:+.2f} ± {error:.2f} points (paired over seeds); the "
        f"rules chose differently in {differ} of {len(everything)} (seed, skill) choices; Wilcoxon "
        f"signed-rank p (by test more optimistic) = {_wilcoxon(differences, 'greater'):.2g}; "
        f"by validation's optimism differs from 0: p = "
        f"{_wilcoxon(optimism['by validation'], 'two-sided'):.2g}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--suite", choices=sorted(SUITES), action="append")
    arguments = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    took = {
        name: run_suite(name, arguments.seeds, arguments.iterations)
        for name in arguments.suite or sorted(SUITES)
    }
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"{arguments.seeds} seeds, {arguments.iterations} proposals a skill; "
        + ", ".join(f"examples/{name} {seconds:.0f} s" for name, seconds in took.items())
    )


if __name__ == "__main__":
    main()
