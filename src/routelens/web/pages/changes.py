"""`/changes` and `/changes/<event_id>`: recorded SKILL.md changes, and what one of them did.

`/api/changes` rows are the events of `routelens changes scan --json` (newest first, a page
at a time); `/api/changes/<event_id>` is one object of `routelens changes impact --json`
plus `diff`: the SKILL.md before and after, front matter and body, by line and by word.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from routelens.changes.impact_inputs import measure_impact
from routelens.changes.report import event_dict, impact_dict
from routelens.store import schema
from routelens.store.changes import event_from_row, get_change_event
from routelens.web.context import PageNotFound, Params, WebContext
from routelens.web.pages.skill_versions import diff_dict, event_label, text_before, version_text

EVENTS_PER_PAGE = 50


def changes_page(context: WebContext, path: Mapping[str, str], params: Params) -> dict[str, Any]:
    """Change events, newest commit first, optionally of one skill or one new content hash
    (a prefix, as Grafana's tables show it)."""
    skill = params.text("skill")
    content_hash = params.text("hash")
    page = params.page()
    table = schema.change_events
    conditions = [] if skill is None else [table.c.skill == skill]
    if content_hash is not None:
        conditions.append(table.c.new_hash.startswith(content_hash, autoescape=True))
    query = (
        select(table)
        .where(*conditions)
        .order_by(table.c.committed_at.desc(), table.c.event_id.desc())
        .limit(EVENTS_PER_PAGE)
        .offset((page - 1) * EVENTS_PER_PAGE)
    )
    count = select(func.count()).select_from(table).where(*conditions)
    with context.store.engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
        total = int(connection.execute(count).scalar_one())
    events = [event_from_row(row) for row in rows]
    return {
        "filters": {"skill": skill, "hash": content_hash},
        "page": page,
        "page_size": EVENTS_PER_PAGE,
        "total": total,
        "events": [event_dict(stored.event, stored.event_id) for stored in events],
    }


def change_page(context: WebContext, path: Mapping[str, str], params: Params) -> dict[str, Any]:
    """One change: its impact (`changes impact --json`) and the SKILL.md diff."""
    text = path["event_id"]
    stored = get_change_event(context.store, int(text)) if text.isdigit() else None
    if stored is None:
        raise PageNotFound(f"no change event {text!r} in this store")
    report = impact_dict(measure_impact(context.store, stored))
    report["diff"] = diff_dict(
        text_before(stored.event),
        version_text(stored.event),
        (f"before #{stored.event_id}", event_label(stored)),
    )
    return report
