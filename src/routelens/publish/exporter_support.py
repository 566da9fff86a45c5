"""What the exporter's family builders share: the scrape context, SQL helpers, label helpers.

Every builder takes a `ScrapeContext` (one open connection, the injected "now", the config)
and returns `{spec.name: family}` for the catalogue entries it fills. Families are made
only through `new_family` and filled through `add_sample` / `add_info`, which take labels
by name and order them as the catalogue declares, so a builder cannot swap two labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)
from sqlalchemy import ColumnElement, Connection

from routelens.config import RoutelensConfig
from routelens.publish import catalogue
from routelens.publish.catalogue import MetricSpec
from routelens.store import Store, schema

SHORT_HASH_LENGTH = 12
"""Hashes in labels are shortened to this many characters (as `skill_version` documents)."""
WINDOW_LENGTHS: Mapping[str, timedelta] = {
    catalogue.WINDOW_DAY: timedelta(days=1),
    catalogue.WINDOW_WEEK: timedelta(days=7),
}
"""The `window` label values and how far back from "now" each reaches."""

Families = dict[str, Metric]
"""A builder's result: catalogue name → the family it filled."""


@dataclass(frozen=True)
class ScrapeContext:
    """What one scrape reads from: an open connection (one snapshot), the store, now, config."""

    store: Store
    connection: Connection
    now: datetime
    config: RoutelensConfig

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`: the few queries that differ branch on it."""
        return self.connection.dialect.name

    def since(self, window: str) -> datetime:
        """The earliest attempt start a window admits."""
        return self.now - WINDOW_LENGTHS[window]


def started_within(context: ScrapeContext, since: datetime) -> ColumnElement[bool]:
    """The attempt started at or after `since` and not after now."""
    started = schema.attempts.c.started_at
    return (started >= since) & (started <= context.now)


def short_hash(value: str | None) -> str:
    """A hash shortened for a label, or `none`."""
    return value[:SHORT_HASH_LENGTH] if value else catalogue.NO_SKILL


def label_or_none(value: str | None) -> str:
    """A label value, `none` when absent (a missing skill, model or decision)."""
    return catalogue.NO_SKILL if value is None or value == "" else str(value)


def ratio(part: float, whole: float) -> float | None:
    """part ÷ whole, None when whole is 0."""
    return part / whole if whole else None


def new_family(spec: MetricSpec) -> Metric:
    """An empty family of the spec's kind, name, help and labels."""
    labels = list(spec.labels)
    if spec.kind == "counter":
        return CounterMetricFamily(spec.family_name, spec.help, labels=labels)
    if spec.kind == "gaugehistogram":
        return GaugeHistogramMetricFamily(spec.family_name, spec.help, labels=labels)
    if spec.kind == "info":
        return InfoMetricFamily(spec.family_name, spec.help, labels=[])
    return GaugeMetricFamily(spec.family_name, spec.help, labels=labels)


def _ordered(spec: MetricSpec, labels: Mapping[str, str]) -> list[str]:
    if set(labels) != set(spec.labels):
        raise ValueError(f"{spec.name} takes labels {spec.labels}, not {tuple(labels)}")
    return [labels[name] for name in spec.labels]


def add_sample(families: Families, spec: MetricSpec, value: float | None, **labels: str) -> None:
    """Add one sample of a gauge or counter (creating its family); None adds nothing."""
    family = families.setdefault(spec.name, new_family(spec))
    if value is None:
        return
    values = _ordered(spec, labels)
    if isinstance(family, CounterMetricFamily | GaugeMetricFamily):
        family.add_metric(values, value)
    else:
        raise TypeError(f"{spec.name} is a {spec.kind}; use add_info or add_histogram")


def add_info(families: Families, spec: MetricSpec, **labels: str) -> None:
    """Add one series of an info family."""
    family = families.setdefault(spec.name, new_family(spec))
    if not isinstance(family, InfoMetricFamily):
        raise TypeError(f"{spec.name} is a {spec.kind}, not an info")
    family.add_metric([], dict(zip(spec.labels, _ordered(spec, labels), strict=True)))


def add_histogram(
    families: Families,
    spec: MetricSpec,
    buckets: list[tuple[str, float]],
    total: float,
    **labels: str,
) -> None:
    """Add one series of a gauge histogram: cumulative buckets ending at +Inf, and the sum."""
    family = families.setdefault(spec.name, new_family(spec))
    if not isinstance(family, GaugeHistogramMetricFamily):
        raise TypeError(f"{spec.name} is a {spec.kind}, not a gaugehistogram")
    family.add_metric(_ordered(spec, labels), buckets, total)


def ensure(families: Families, *specs: MetricSpec) -> Families:
    """Make sure each spec has a family (empty when nothing was added)."""
    for spec in specs:
        families.setdefault(spec.name, new_family(spec))
    return families
