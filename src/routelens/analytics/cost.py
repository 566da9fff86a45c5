"""Spend: by day, model and skill; the monthly projection, budget burn and cost anomalies.

* Projection: the mean daily spend over the last 7 UTC days (today and the six before;
  a day without attempts counts as $0) x 30.
* Burn rate: today's spend ÷ the daily budget (1.0 = the whole budget spent); days over
  budget are the days whose spend exceeds it.
* Anomalies (Iglewicz & Hoaglin 1993): the modified z-score z = 0.6745 (x - median) / MAD,
  MAD being the median absolute deviation from the median; |z| > 3.5 is an outlier.
  When MAD is 0 (more than half the values equal), z falls back to (x - median) ÷
  (1.253314 · mean absolute deviation), the usual substitute; if that is 0 too, every value
  equals the median and nothing is an outlier.
* Cost per correct route: a skill's spend ÷ its passed attempts (None when none passed).
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from routelens.analytics.summary import TokenTotals

MODIFIED_Z_CONSTANT = 0.6745
"""Iglewicz & Hoaglin's constant: the 0.75 quantile of the standard normal (MAD → sigma)."""
MEAN_AD_CONSTANT = 1.253314
"""√(π/2): scales the mean absolute deviation to sigma for a normal sample (the MAD = 0 case)."""
OUTLIER_Z = 3.5
"""|modified z| above this is an outlier (Iglewicz & Hoaglin)."""
PROJECTION_DAYS = 7
ANOMALY_BASELINE_DAYS = 28
"""The exporter compares today's spend with this many days before it."""
MONTH_DAYS = 30


@dataclass(frozen=True)
class DaySpend:
    """Spend and attempts of one UTC day (one SQL group)."""

    day: date
    cost_usd: float
    attempts: int


@dataclass(frozen=True)
class SpendGroup:
    """Spend, tokens and passed attempts of one model or one expected skill (one SQL group)."""

    key: str
    attempts: int
    passed: int
    cost_usd: float
    tokens: TokenTotals

    @property
    def cost_per_correct_route_usd(self) -> float | None:
        """Spend ÷ passed attempts; None when none passed."""
        return self.cost_usd / self.passed if self.passed else None


@dataclass(frozen=True)
class CostCount:
    """How many attempts cost this much (per-attempt costs grouped in SQL)."""

    cost_usd: float
    count: int


@dataclass(frozen=True)
class AttemptCost:
    """One attempt's cost, named by its natural key."""

    run_id: str
    case_id: str
    repeat_index: int
    cost_usd: float


@dataclass(frozen=True)
class RobustScale:
    """Median and spread for modified z-scores: z = 0.6745 (x - median) / spread.

    `spread` is the MAD, or 0.6745 · 1.253314 · MeanAD when the MAD is 0.
    """

    median: float
    mad: float
    spread: float

    def z(self, value: float) -> float:
        """The modified z-score of `value` (0 when every value equals the median)."""
        if self.spread == 0:
            return 0.0
        return MODIFIED_Z_CONSTANT * (value - self.median) / self.spread

    def bounds(self, threshold: float = OUTLIER_Z) -> tuple[float, float]:
        """Values outside (low, high) have |z| > threshold."""
        reach = threshold * self.spread / MODIFIED_Z_CONSTANT
        return self.median - reach, self.median + reach


def weighted_median(values: Sequence[float], weights: Sequence[int]) -> float:
    """The median of `values` each repeated `weights` times (the mean of the middle two)."""
    order = np.argsort(np.asarray(values, dtype=float), kind="stable")
    sorted_values = np.asarray(values, dtype=float)[order]
    cumulative = np.cumsum(np.asarray(weights, dtype=np.int64)[order])
    total = int(cumulative[-1]) if len(cumulative) else 0
    if total == 0:
        raise ValueError("median of no values")
    lower = sorted_values[np.searchsorted(cumulative, (total - 1) // 2, side="right")]
    upper = sorted_values[np.searchsorted(cumulative, total // 2, side="right")]
    return float((lower + upper) / 2)


def robust_scale(values: Sequence[float], weights: Sequence[int] | None = None) -> RobustScale:
    """Median and MAD of values (optionally weighted by counts), with the MeanAD fallback."""
    counts = list(weights) if weights is not None else [1] * len(values)
    median = weighted_median(values, counts)
    deviations = [abs(value - median) for value in values]
    mad = weighted_median(deviations, counts)
    if mad > 0:
        return RobustScale(median, mad, mad)
    mean_ad = math.fsum(d * c for d, c in zip(deviations, counts, strict=True)) / sum(counts)
    return RobustScale(median, 0.0, MEAN_AD_CONSTANT * mean_ad * MODIFIED_Z_CONSTANT)


def modified_z_scores(values: Sequence[float]) -> list[float]:
    """Modified z-scores of a sample (see `RobustScale`); empty for an empty sample."""
    if not values:
        return []
    scale = robust_scale(values)
    return [scale.z(value) for value in values]


@dataclass(frozen=True)
class DayPoint:
    """A day's spend with its modified z-score among the days of the window."""

    day: date
    cost_usd: float
    attempts: int
    z: float
    anomaly: bool


@dataclass(frozen=True)
class Projection:
    """Monthly spend projected from the last `PROJECTION_DAYS` days."""

    last_days_usd: float
    mean_daily_usd: float
    monthly_usd: float


@dataclass(frozen=True)
class BudgetBurn:
    """Today's spend against the daily budget, and the days that went over it."""

    daily_budget_usd: float
    today: date
    today_usd: float
    burn_rate: float | None
    days_over_budget: tuple[date, ...]


@dataclass(frozen=True)
class AttemptAnomalies:
    """Per-attempt cost outliers: the robust scale, the outlier bounds, how many, the worst."""

    scale: RobustScale | None
    low_usd: float | None
    high_usd: float | None
    count: int
    top: tuple[tuple[AttemptCost, float], ...]


def day_points(days: Iterable[DaySpend], threshold: float = OUTLIER_Z) -> tuple[DayPoint, ...]:
    """Days in order with their modified z-score among all days given."""
    ordered = sorted(days, key=lambda item: item.day)
    scores = modified_z_scores([item.cost_usd for item in ordered])
    return tuple(
        DayPoint(item.day, item.cost_usd, item.attempts, z, abs(z) > threshold)
        for item, z in zip(ordered, scores, strict=True)
    )


def monthly_projection(days: Iterable[DaySpend], today: date) -> Projection:
    """Mean spend over today and the six days before (missing days are $0), x 30."""
    first = today - timedelta(days=PROJECTION_DAYS - 1)
    spent = math.fsum(item.cost_usd for item in days if first <= item.day <= today)
    mean = spent / PROJECTION_DAYS
    return Projection(last_days_usd=spent, mean_daily_usd=mean, monthly_usd=mean * MONTH_DAYS)


def projected_month_usd(
    spend_by_day: dict[date, float], today: date, mean_daily_usd: float
) -> float:
    """This month's spend so far plus `mean_daily_usd` for each day of the month left.

    The calendar-month figure the exporter serves; `monthly_projection` is the rolling
    "7-day mean x 30" that `routelens cost` prints.
    """
    first = today.replace(day=1)
    so_far = math.fsum(usd for day, usd in spend_by_day.items() if first <= day <= today)
    days_left = calendar.monthrange(today.year, today.month)[1] - today.day
    return so_far + mean_daily_usd * days_left


def daily_cost_anomaly(spend_by_day: dict[date, float], today: date) -> float:
    """Modified z-score of today's spend against the previous 28 days ($0 for missing days)."""
    baseline = [
        spend_by_day.get(today - timedelta(days=back), 0.0)
        for back in range(1, ANOMALY_BASELINE_DAYS + 1)
    ]
    return robust_scale(baseline).z(spend_by_day.get(today, 0.0))


def budget_burn(days: Iterable[DaySpend], today: date, daily_budget_usd: float) -> BudgetBurn:
    """Today's spend ÷ budget (None for a zero budget) and the days spending more than it."""
    rows = sorted(days, key=lambda item: item.day)
    today_usd = math.fsum(item.cost_usd for item in rows if item.day == today)
    return BudgetBurn(
        daily_budget_usd=daily_budget_usd,
        today=today,
        today_usd=today_usd,
        burn_rate=today_usd / daily_budget_usd if daily_budget_usd > 0 else None,
        days_over_budget=tuple(item.day for item in rows if item.cost_usd > daily_budget_usd),
    )


def attempt_anomalies(
    cost_counts: Sequence[CostCount],
    worst: Iterable[AttemptCost] = (),
    threshold: float = OUTLIER_Z,
) -> AttemptAnomalies:
    """Outliers among per-attempt costs, given as (cost, count) groups; `worst` are the
    attempts outside the bounds that the caller fetched (ranked here by |z|)."""
    if not cost_counts or sum(group.count for group in cost_counts) == 0:
        return AttemptAnomalies(None, None, None, 0, ())
    scale = robust_scale([g.cost_usd for g in cost_counts], [g.count for g in cost_counts])
    if scale.spread == 0:
        return AttemptAnomalies(scale, None, None, 0, ())
    count = sum(g.count for g in cost_counts if abs(scale.z(g.cost_usd)) > threshold)
    ranked = sorted(
        ((attempt, scale.z(attempt.cost_usd)) for attempt in worst),
        key=lambda pair: (-abs(pair[1]), pair[0].run_id, pair[0].case_id, pair[0].repeat_index),
    )
    low, high = scale.bounds(threshold)
    return AttemptAnomalies(
        scale, low, high, count, tuple(p for p in ranked if abs(p[1]) > threshold)
    )


@dataclass(frozen=True)
class CostReport:
    """Everything `routelens cost` shows."""

    days: tuple[DayPoint, ...]
    by_model: tuple[SpendGroup, ...]
    by_skill: tuple[SpendGroup, ...]
    projection: Projection
    budget: BudgetBurn
    attempt_anomalies: AttemptAnomalies

    @property
    def total_usd(self) -> float:
        """All spend in the report."""
        return math.fsum(group.cost_usd for group in self.by_model)

    @property
    def tokens(self) -> TokenTotals:
        """Tokens by type over all attempts."""
        groups = self.by_model
        return TokenTotals(
            input=sum(g.tokens.input for g in groups),
            output=sum(g.tokens.output for g in groups),
            cache_read=sum(g.tokens.cache_read for g in groups),
            cache_write=sum(g.tokens.cache_write for g in groups),
        )


def cost_report(
    days: Sequence[DaySpend],
    by_model: Iterable[SpendGroup],
    by_skill: Iterable[SpendGroup],
    cost_counts: Sequence[CostCount],
    worst: Iterable[AttemptCost],
    *,
    today: date,
    daily_budget_usd: float,
) -> CostReport:
    """Put the aggregates together: series with z-scores, projection, burn, outliers."""
    return CostReport(
        days=day_points(days),
        by_model=tuple(sorted(by_model, key=lambda g: (-g.cost_usd, g.key))),
        by_skill=tuple(sorted(by_skill, key=lambda g: (-g.cost_usd, g.key))),
        projection=monthly_projection(days, today),
        budget=budget_burn(days, today, daily_budget_usd),
        attempt_anomalies=attempt_anomalies(cost_counts, worst),
    )


def _tokens_dict(tokens: TokenTotals) -> dict[str, int]:
    return {
        "input": tokens.input,
        "output": tokens.output,
        "cache_read": tokens.cache_read,
        "cache_write": tokens.cache_write,
    }


def cost_report_dict(report: CostReport) -> dict[str, Any]:
    """The JSON object of `routelens cost --json`."""
    burn, projection, outliers = report.budget, report.projection, report.attempt_anomalies
    return {
        "total_cost_usd": report.total_usd,
        "attempts": sum(group.attempts for group in report.by_model),
        "tokens": _tokens_dict(report.tokens),
        "by_day": [
            {
                "day": d.day.isoformat(),
                "cost_usd": d.cost_usd,
                "attempts": d.attempts,
                "z": d.z,
                "anomaly": d.anomaly,
            }
            for d in report.days
        ],
        "by_model": [
            {"model": g.key, "attempts": g.attempts, "cost_usd": g.cost_usd}
            | {"tokens": _tokens_dict(g.tokens)}
            for g in report.by_model
        ],
        "by_skill": [
            {
                "skill": g.key,
                "attempts": g.attempts,
                "passed": g.passed,
                "cost_usd": g.cost_usd,
                "cost_per_correct_route_usd": g.cost_per_correct_route_usd,
                "tokens": _tokens_dict(g.tokens),
            }
            for g in report.by_skill
        ],
        "projection": {
            "days": PROJECTION_DAYS,
            "last_days_usd": projection.last_days_usd,
            "mean_daily_usd": projection.mean_daily_usd,
            "monthly_usd": projection.monthly_usd,
        },
        "budget": {
            "daily_budget_usd": burn.daily_budget_usd,
            "today": burn.today.isoformat(),
            "today_usd": burn.today_usd,
            "burn_rate": burn.burn_rate,
            "days_over_budget": [day.isoformat() for day in burn.days_over_budget],
        },
        "anomalies": {
            "threshold": OUTLIER_Z,
            "daily": [
                {"day": d.day.isoformat(), "cost_usd": d.cost_usd, "z": d.z}
                for d in report.days
                if d.anomaly
            ],
            "attempts": {
                "median_usd": None if outliers.scale is None else outliers.scale.median,
                "mad_usd": None if outliers.scale is None else outliers.scale.mad,
                "low_usd": outliers.low_usd,
                "high_usd": outliers.high_usd,
                "count": outliers.count,
                "top": [
                    {
                        "run_id": a.run_id,
                        "case_id": a.case_id,
                        "repeat_index": a.repeat_index,
                        "cost_usd": a.cost_usd,
                        "z": z,
                    }
                    for a, z in outliers.top
                ],
            },
        },
    }
