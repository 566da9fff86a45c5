"""`/skills/<name>`: a skill's versions, what each change did, and what it is confused with.

The dict holds `timeline` (one skill of `routelens changes list --json`: its versions and
the runs that tested each), `impacts` (`routelens changes impact --json` objects for its
newest changes), `diff` (the description diff viewer: `?from=` and `?to=` event ids), and
`confused_with` (decided attempts in the window routed to another skill when this one was
expected, and routed here when another was).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select

from routelens.analytics.confusion import (
    OUTCOME_LABELS,
    RouteCount,
    expected_row_label,
    is_correct,
    outcome_label,
)
from routelens.changes.impact_inputs import measure_impact
from routelens.changes.report import impact_dict, timeline_dict
from routelens.changes.timeline import build_timelines
from routelens.store import schema
from routelens.store.changes import list_change_events, version_runs
from routelens.store.confusion_reads import decided_route_counts
from routelens.web.context import PageNotFound, Params, WebContext
from routelens.web.pages.skill_versions import versions_diff

DEFAULT_WINDOW = "7d"
IMPACTS_SHOWN = 10
"""Impacts are measured for this many of the skill's newest changes (each reads two runs)."""


def route_counts(
    context: WebContext, window_text: str | None, window: timedelta | None
) -> list[RouteCount]:
    """Decided attempts by (expected, actual, asked) in the window, shared between pages."""

    def compute() -> list[RouteCount]:
        return decided_route_counts(context.store.engine, context.window_filter(window))

    counts: list[RouteCount] = context.cached(("route_counts", window_text), compute)
    return counts


def confused_with(counts: list[RouteCount], skill: str) -> list[dict[str, Any]]:
    """Skills `skill` is mistaken for (`routed_elsewhere`) and that are mistaken for it
    (`routed_here`), most attempts first."""
    pairs: dict[str, dict[str, Any]] = {}
    for group in counts:
        expected = expected_row_label(group.expected_skill)
        actual = outcome_label(group.actual_skill, group.asked_clarification)
        if is_correct(expected, actual):
            continue
        if expected == skill and actual not in OUTCOME_LABELS:
            other, direction = actual, "routed_elsewhere"
        elif actual == skill:
            other, direction = expected, "routed_here"
        else:
            continue
        entry = pairs.setdefault(other, {"skill": other, "routed_elsewhere": 0, "routed_here": 0})
        entry[direction] += group.count
    return sorted(
        pairs.values(),
        key=lambda e: (-(e["routed_elsewhere"] + e["routed_here"]), e["skill"]),
    )


def skill_page(context: WebContext, path: Mapping[str, str], params: Params) -> dict[str, Any]:
    """The skill's timeline, change impacts, description diff and confusions."""
    name = path["name"]
    store = context.store
    events = list_change_events(store, skill=name)
    timelines = build_timelines(events, version_runs(store, [name]))
    window_text, window = params.window(DEFAULT_WINDOW)
    confusions = confused_with(route_counts(context, window_text, window), name)
    if not events and not timelines and not confusions and not _is_known(context, name):
        raise PageNotFound(f"no skill {name!r} in this store")
    impacts = [measure_impact(store, stored) for stored in events[-IMPACTS_SHOWN:]]
    return {
        "skill": name,
        "window": window_text,
        "timeline": timeline_dict(timelines[0]) if timelines else {"skill": name, "versions": []},
        "impacts": [impact_dict(impact) for impact in reversed(impacts)],
        "diff": versions_diff(events, _event_id(params, "from"), _event_id(params, "to")),
        "confused_with": confusions,
    }


def _event_id(params: Params, name: str) -> int | None:
    return params.integer(name, -1, minimum=0) if params.text(name) else None


def _is_known(context: WebContext, name: str) -> bool:
    """Whether a run tested the skill, or an attempt expected it or was routed to it."""
    attempts = schema.attempts.c
    tested = select(schema.run_skills.c.run_id).where(schema.run_skills.c.name == name)
    named = select(attempts.attempt_id).where(
        or_(attempts.expected_skill == name, attempts.actual_skill == name)
    )
    with context.store.engine.connect() as connection:
        return any(connection.execute(query.limit(1)).first() for query in (tested, named))
