"""`LatestFacts`: facts gathered in the background, never waited for, refreshed when old."""

from __future__ import annotations

from typing import Any

import pytest

from routelens.analytics.window import AttemptFilter
from routelens.errors import InputError
from routelens.store import Store
from routelens.summaries.facts import SummaryFacts, facts_dict
from routelens.summaries.gather import gather_facts
from routelens.summaries.latest import LatestFacts


class CountingGather:
    """`gather_facts`, counting its calls and the filters it got."""

    def __init__(self) -> None:
        self.filters: list[AttemptFilter] = []

    def __call__(self, store: Store, attempt_filter: AttemptFilter, **kwargs: Any) -> SummaryFacts:
        self.filters.append(attempt_filter)
        return gather_facts(store, attempt_filter, **kwargs)


def test_first_get_is_none_then_the_gathered_facts(two_weeks: Store) -> None:
    gather = CountingGather()
    latest = LatestFacts(two_weeks, slo=0.9, daily_budget_usd=1.0, gather=gather)
    assert latest.get("7d") is None
    assert latest.wait(30)
    facts = latest.get("7d")
    assert facts is not None
    assert facts.accuracy.decided == 24
    assert facts.accuracy.slo == 0.9
    assert facts.cost.daily_budget_usd == 1.0
    assert facts_dict(facts)["worst_skills"][0]["skill"] == "jira-search"
    assert latest.get("7d") is facts  # still fresh: no second read
    assert latest.wait(30)
    assert len(gather.filters) == 1


def test_old_facts_are_served_while_new_ones_are_gathered(two_weeks: Store) -> None:
    gather = CountingGather()
    latest = LatestFacts(two_weeks, max_age_s=0.0, gather=gather)
    latest.get("7d", {"team": "x"})
    assert latest.wait(30)
    stale = latest.get("7d", {"team": "x"})
    assert stale is not None
    assert stale.accuracy.decided == 0  # no run has team=x
    assert latest.wait(30)
    assert len(gather.filters) == 2
    assert gather.filters[0].labels == {"team": "x"}


def test_a_bad_window_is_bad_input_at_once(two_weeks: Store) -> None:
    with pytest.raises(InputError, match="--window"):
        LatestFacts(two_weeks).get("soon")
