"""Flaky cases: which cases pass and fail under the same conditions, and how sure we are.

A case's attempts are grouped by what they ran under: the case id, its input text, the run's
skills hash, router and model. The store aggregates each group in SQL (decided attempts,
passes, errors, and flips: outcome changes in time order; see `store/flaky_history.py`);
`classify_flaky` turns those aggregates into pass rates, Wilson intervals, flip rates, a
stability score and a class.
The rules are explained in docs/flaky.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

from routelens.analytics.stats import wilson_interval

DEFAULT_MIN_ATTEMPTS = 5
PASS_THRESHOLD = 0.9
"""Stable-pass when the 95% Wilson interval puts the pass rate at or above this."""
FAIL_THRESHOLD = 0.1
"""Broken when the 95% Wilson interval puts the pass rate at or below this."""
PLAN_FLAKY_LOW = 0.3
PLAN_FLAKY_HIGH = 0.7
"""The dashboard plan's rule (Appendix B): flaky when 0.3 < pass rate < 0.7."""


class FlakyClass(StrEnum):
    """What a case's attempts say about it."""

    FLAKY = "flaky"
    BROKEN = "broken"
    STABLE_PASS = "stable-pass"
    INSUFFICIENT_DATA = "insufficient-data"


class FlakyRule(StrEnum):
    """How cases are classified: by Wilson interval (default) or by the plan's 30-70% band."""

    INTERVAL = "interval"
    PLAN = "plan"


class CaseKey(NamedTuple):
    """The conditions a group of attempts shares: one case, one input, one setup."""

    case_id: str
    input: str
    skills_hash: str
    router: str
    model: str | None

    @property
    def input_hash(self) -> str:
        """A short sha256 of the input text, to tell two versions of a case apart."""
        return _short_input_hash(self.input)


@lru_cache(maxsize=65_536)
def _short_input_hash(text: str) -> str:
    # Every group of a case shares its input: hash each text once.
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class FlakyAggregate(NamedTuple):
    """One group's counts, as the store aggregates them.

    `attempts` counts decided attempts (pass or fail); `errors` are counted apart and never
    enter the pass rate; `flips` counts outcome changes between consecutive decided attempts.
    """

    key: CaseKey
    attempts: int
    passes: int
    errors: int
    flips: int


class FlakyCase(NamedTuple):
    """How flaky one case is under one setup.

    Example::

        [case] = classify_flaky([FlakyAggregate(key, attempts=10, passes=6, errors=0, flips=5)])
        case.flaky_class  # FlakyClass.FLAKY; case.ci_low ≈ 0.313, case.flip_rate ≈ 0.556
    """

    key: CaseKey
    attempts: int
    passes: int
    errors: int
    flips: int
    pass_rate: float | None
    ci_low: float
    ci_high: float
    flip_rate: float
    stability: float
    flaky_class: FlakyClass


def flip_rate(flips: int, attempts: int) -> float:
    """Outcome changes per consecutive pair of decided attempts: flips / (attempts - 1)."""
    return flips / (attempts - 1) if attempts > 1 else 0.0


def stability_score(ci_low: float, ci_high: float, flips_per_pair: float) -> float:
    """0-100: how predictable a case's outcome is (see docs/flaky.md).

    100 x (1 - flip rate) x the least consistency |2p - 1| the Wilson interval allows:
    0 when the interval holds 0.5 (a coin flip cannot be ruled out), near 100 for a long,
    unbroken run of one outcome. It measures predictability, not success: a case that
    always fails is as stable as one that always passes.
    """
    consistency = max(0.0, 2 * ci_low - 1, 1 - 2 * ci_high)
    return 100.0 * (1.0 - flips_per_pair) * consistency


def interval_class(
    passes: int,
    attempts: int,
    ci_low: float,
    ci_high: float,
    *,
    pass_threshold: float = PASS_THRESHOLD,
    fail_threshold: float = FAIL_THRESHOLD,
) -> FlakyClass:
    """The default rule: flaky when both outcomes occurred and the interval cannot place the
    pass rate above `pass_threshold` or below `fail_threshold`."""
    if ci_low >= pass_threshold or passes == attempts:
        return FlakyClass.STABLE_PASS
    if ci_high <= fail_threshold or passes == 0:
        return FlakyClass.BROKEN
    return FlakyClass.FLAKY


def plan_class(pass_rate: float) -> FlakyClass:
    """The dashboard plan's rule: flaky when 30% < pass rate < 70%."""
    if pass_rate <= PLAN_FLAKY_LOW:
        return FlakyClass.BROKEN
    if pass_rate >= PLAN_FLAKY_HIGH:
        return FlakyClass.STABLE_PASS
    return FlakyClass.FLAKY


def classify_case(
    aggregate: FlakyAggregate,
    *,
    min_attempts: int = DEFAULT_MIN_ATTEMPTS,
    rule: FlakyRule = FlakyRule.INTERVAL,
    pass_threshold: float = PASS_THRESHOLD,
    fail_threshold: float = FAIL_THRESHOLD,
) -> FlakyCase:
    """Pass rate, Wilson 95% interval, flip rate, stability and class of one group."""
    statistics = _group_statistics(
        aggregate.attempts,
        aggregate.passes,
        aggregate.flips,
        min_attempts,
        rule,
        pass_threshold,
        fail_threshold,
    )
    return FlakyCase(
        aggregate.key,
        aggregate.attempts,
        aggregate.passes,
        aggregate.errors,
        aggregate.flips,
        *statistics,
    )


# A million attempts make about a hundred thousand groups but only a few thousand distinct
# (attempts, passes, flips) counts, so the statistics are computed once per count.
@lru_cache(maxsize=65_536)
def _group_statistics(
    attempts: int,
    passes: int,
    flips: int,
    min_attempts: int,
    rule: FlakyRule,
    pass_threshold: float,
    fail_threshold: float,
) -> tuple[float | None, float, float, float, float, FlakyClass]:
    ci_low, ci_high = wilson_interval(passes, attempts)
    flips_per_pair = flip_rate(flips, attempts)
    pass_rate = passes / attempts if attempts else None
    if pass_rate is None or attempts < min_attempts:
        flaky_class = FlakyClass.INSUFFICIENT_DATA
    elif rule is FlakyRule.PLAN:
        flaky_class = plan_class(pass_rate)
    else:
        flaky_class = interval_class(
            passes,
            attempts,
            ci_low,
            ci_high,
            pass_threshold=pass_threshold,
            fail_threshold=fail_threshold,
        )
    stability = stability_score(ci_low, ci_high, flips_per_pair)
    return pass_rate, ci_low, ci_high, flips_per_pair, stability, flaky_class


_REPORT_RANKS = {
    FlakyClass.FLAKY: 0,
    FlakyClass.BROKEN: 1,
    FlakyClass.STABLE_PASS: 1,
    FlakyClass.INSUFFICIENT_DATA: 2,
}


def _report_order(case: FlakyCase) -> tuple[int, float, float, str, str, str, str]:
    # Flaky first, insufficient data last; within a rank the least stable first.
    rank = _REPORT_RANKS[case.flaky_class]
    key = case.key
    return (
        rank,
        case.stability,
        -case.flip_rate,
        key.case_id,
        key.router,
        key.model or "",
        key.skills_hash,
    )


def classify_flaky(
    aggregates: Iterable[FlakyAggregate],
    *,
    min_attempts: int = DEFAULT_MIN_ATTEMPTS,
    rule: FlakyRule = FlakyRule.INTERVAL,
    pass_threshold: float = PASS_THRESHOLD,
    fail_threshold: float = FAIL_THRESHOLD,
) -> list[FlakyCase]:
    """Classify every group; flaky first, then by stability ascending, insufficient data last."""
    if not 0.0 <= fail_threshold < pass_threshold <= 1.0:
        raise ValueError("thresholds need 0 <= fail_threshold < pass_threshold <= 1")
    cases = [
        classify_case(
            aggregate,
            min_attempts=min_attempts,
            rule=rule,
            pass_threshold=pass_threshold,
            fail_threshold=fail_threshold,
        )
        for aggregate in aggregates
    ]
    return sorted(cases, key=_report_order)
