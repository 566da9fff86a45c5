"""Routing confidence: how consistently, and how surely, the router picks a route for a case.

Per case (grouped as in `analytics.flaky`: case id, input, skills hash, router, model), the
store counts decided attempts by route (the skill chosen, "clarified", or "none") and sums
the router's own confidence where it recorded one. `summarize_confidence` turns those counts
into the share of the most common route, the Shannon entropy of the route distribution, and
a `low_confidence` flag: such a case likely needs a disambiguation rule (docs/flaky.md).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from routelens.analytics.flaky import CaseKey
from routelens.analytics.summary import expectation_label

MIN_TOP_SHARE = 0.8
"""Below this share of attempts on the most common route, a case is low-confidence."""
MIN_MEAN_CONFIDENCE = 0.5
"""Below this mean router confidence (where recorded), a case is low-confidence.

Routers report confidence on their own scales (the local router: the top BM25 score's share
of all scores); 0.5 means "the router gave the chosen route less than half its weight"."""


@dataclass(frozen=True)
class RouteCount:
    """Decided attempts of one group that took one route, with their recorded confidences."""

    key: CaseKey
    route: str
    attempts: int
    confidence_sum: float = 0.0
    confidence_count: int = 0
    expected_skill: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class CaseConfidence:
    """How one case's attempts spread over routes, and how sure the router said it was.

    Example::

        rows = [RouteCount(key, "deploy", 7), RouteCount(key, "clarified", 3)]
        [case] = summarize_confidence(rows)
        case.top_route, case.top_share, case.low_confidence  # "deploy", 0.7, True
    """

    key: CaseKey
    expected_skill: str | None
    attempts: int
    routes: dict[str, int]
    top_route: str
    top_share: float
    entropy_bits: float
    mean_confidence: float | None
    low_confidence: bool
    category: str | None = None

    @property
    def expected_label(self) -> str:
        """What the case expects: its skill, or "(ask)", "(negative)", ... by its category."""
        return expectation_label(self.category or "", self.expected_skill)


def entropy_bits(counts: Iterable[int]) -> float:
    """Shannon entropy, in bits, of the distribution the counts describe (0 for one route)."""
    values = [count for count in counts if count > 0]
    total = sum(values)
    return max(0.0, -sum(count / total * math.log2(count / total) for count in values))


def case_confidence(
    key: CaseKey,
    rows: Iterable[RouteCount],
    *,
    min_top_share: float = MIN_TOP_SHARE,
    min_mean_confidence: float = MIN_MEAN_CONFIDENCE,
) -> CaseConfidence:
    """Route distribution, top share, entropy and mean confidence of one group's rows."""
    routes: dict[str, int] = defaultdict(int)
    confidence_sum, confidence_count = 0.0, 0
    expected: str | None = None
    category: str | None = None
    for row in rows:
        routes[row.route] += row.attempts
        confidence_sum += row.confidence_sum
        confidence_count += row.confidence_count
        expected = expected if row.expected_skill is None else row.expected_skill
        category = category if row.category is None else row.category
    attempts = sum(routes.values())
    if attempts == 0:
        raise ValueError(f"no attempts for case {key.case_id!r}")
    # Ties go to the alphabetically first route, so reports do not change between reads.
    top_route = min(routes, key=lambda route: (-routes[route], route))
    top_share = routes[top_route] / attempts
    mean_confidence = confidence_sum / confidence_count if confidence_count else None
    low = top_share < min_top_share or (
        mean_confidence is not None and mean_confidence < min_mean_confidence
    )
    return CaseConfidence(
        key=key,
        expected_skill=expected,
        attempts=attempts,
        routes=dict(sorted(routes.items(), key=lambda item: (-item[1], item[0]))),
        top_route=top_route,
        top_share=top_share,
        entropy_bits=entropy_bits(routes.values()),
        mean_confidence=mean_confidence,
        low_confidence=low,
        category=category,
    )


def summarize_confidence(
    rows: Iterable[RouteCount],
    *,
    min_top_share: float = MIN_TOP_SHARE,
    min_mean_confidence: float = MIN_MEAN_CONFIDENCE,
) -> list[CaseConfidence]:
    """One `CaseConfidence` per group: low-confidence first, then by top share ascending."""
    groups: dict[CaseKey, list[RouteCount]] = defaultdict(list)
    for row in rows:
        groups[row.key].append(row)
    cases = [
        case_confidence(
            key,
            group,
            min_top_share=min_top_share,
            min_mean_confidence=min_mean_confidence,
        )
        for key, group in groups.items()
    ]
    return sorted(
        cases,
        key=lambda c: (
            not c.low_confidence,
            c.top_share,
            -c.entropy_bits,
            c.key.case_id,
            c.key.router,
            c.key.model or "",
            c.key.skills_hash,
        ),
    )
