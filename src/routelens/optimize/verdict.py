"""The verdict on the test split: is the new description better, and does it hurt anyone?

Pure: two runs' case outcomes on the same test cases in, a `FinalVerdict` out. The gain is
McNemar's exact test on the cases that changed verdict, with Newcombe's paired interval for
the accuracy difference (analytics/stats.py). The interference check looks at every other
expectation group of the test split (each other skill's cases, and the cases that expect a
question or no skill) on its own: a group whose accuracy falls by more than the tolerance
blocks the recommendation, whatever the overall gain.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from routelens.analytics.stats import (
    DifferenceInterval,
    mcnemar_exact,
    paired_difference_interval,
)
from routelens.optimize.outcomes import CaseOutcome, paired_table

DEFAULT_ALPHA = 0.05
DEFAULT_TOLERANCE = 0.02
"""A drop of more than 2 points in another skill's test accuracy blocks a recommendation."""

_FLOAT_SLACK = 1e-9  # a drop of exactly the tolerance is allowed, whatever the rounding


@dataclass(frozen=True)
class McNemarCounts:
    """Discordant cases (b: only the original passes, c: only the new one) and the p-value."""

    b: int
    c: int
    p_value: float


@dataclass(frozen=True)
class Interference:
    """Another skill's test accuracy before and after, and the 95% interval of the change."""

    skill: str
    cases: int
    before: float
    after: float
    low: float
    high: float

    @property
    def drop(self) -> float:
        """How far accuracy fell (negative when it rose)."""
        return self.before - self.after

    def as_dict(self) -> dict[str, Any]:
        """The entry of `interference` in `--json`."""
        return {
            "skill": self.skill,
            "before": self.before,
            "after": self.after,
            "low": self.low,
            "high": self.high,
        }


@dataclass(frozen=True)
class FinalVerdict:
    """New against original on the test split: the test, the difference, the interference
    check and whether to adopt the new description (with the reason either way)."""

    cases: int
    mcnemar: McNemarCounts
    difference: DifferenceInterval
    interference: tuple[Interference, ...]
    recommended: bool
    reason: str


def interference_checks(
    skill: str,
    before: Mapping[str, CaseOutcome],
    after: Mapping[str, CaseOutcome],
    case_ids: Sequence[str],
) -> list[Interference]:
    """Each other expectation group's accuracy before and after, with the Newcombe interval
    of after - before, sorted by name."""
    groups: defaultdict[str, list[str]] = defaultdict(list)
    for case_id in case_ids:
        outcome = before.get(case_id)
        if outcome is not None and outcome.expected != skill:
            groups[outcome.expected].append(case_id)
    checks: list[Interference] = []
    for name in sorted(groups):
        table = paired_table(before, after, groups[name])
        if table.n == 0:
            continue
        interval = paired_difference_interval(table)
        checks.append(
            Interference(
                skill=name,
                cases=table.n,
                before=table.first_successes / table.n,
                after=table.second_successes / table.n,
                low=interval.low,
                high=interval.high,
            )
        )
    return checks


def final_verdict(
    skill: str,
    before: Mapping[str, CaseOutcome],
    after: Mapping[str, CaseOutcome],
    case_ids: Sequence[str],
    *,
    alpha: float = DEFAULT_ALPHA,
    tolerance: float = DEFAULT_TOLERANCE,
) -> FinalVerdict:
    """Compare the original (`before`) and the new description (`after`) on `case_ids`."""
    table = paired_table(before, after, case_ids)
    mcnemar = McNemarCounts(
        table.first_only, table.second_only, mcnemar_exact(table.first_only, table.second_only)
    )
    difference = paired_difference_interval(table)
    interference = tuple(interference_checks(skill, before, after, case_ids))
    recommended, reason = _recommendation(mcnemar, difference, interference, alpha, tolerance)
    return FinalVerdict(table.n, mcnemar, difference, interference, recommended, reason)


def _points(value: float) -> str:
    return f"{value * 100:+.1f} points"


def _recommendation(
    mcnemar: McNemarCounts,
    difference: DifferenceInterval,
    interference: Sequence[Interference],
    alpha: float,
    tolerance: float,
) -> tuple[bool, str]:
    changed = f"{mcnemar.c} improved, {mcnemar.b} regressed"
    test = f"McNemar p = {mcnemar.p_value:.3g}"
    if mcnemar.c <= mcnemar.b:
        return False, f"no gain on test ({_points(difference.estimate)}; {changed}; {test})"
    if mcnemar.p_value >= alpha:
        return False, (
            f"the test gain ({_points(difference.estimate)}; {changed}) is not significant: "
            f"{test} ≥ {alpha:g}"
        )
    hurt = [check for check in interference if check.drop > tolerance + _FLOAT_SLACK]
    if hurt:
        named = ", ".join(f"{check.skill} {check.before:.1%} → {check.after:.1%}" for check in hurt)
        return False, (
            f"the test gain is significant ({test}) but it takes from other cases by more than "
            f"{tolerance * 100:g} points: {named}"
        )
    return True, (
        f"test gain {_points(difference.estimate)} ({changed}; {test} < {alpha:g}) and no "
        f"other skill drops more than {tolerance * 100:g} points"
    )
