"""A skill's versions as text, and two of them diffed: what the description diff viewer shows.

A version is the SKILL.md as a change event's commit left it, read from the scanned
repository (`changes.scan.skill_text_at`). When the repository is not readable from the
server (moved, or scanned elsewhere), only the descriptions the events recorded are
compared, as front matter: `source` says which.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from routelens.changes.diff import diff_skill_texts
from routelens.changes.model import ChangeEvent, ChangeKind, StoredChangeEvent
from routelens.changes.scan import skill_text_at
from routelens.web.pages.formats import word_spans

SOURCE_GIT = "git"
SOURCE_DESCRIPTIONS = "descriptions"
BEFORE_FIRST = 0
"""The `from` version that stands for "before the skill existed"."""


def _description_text(description: str | None) -> str:
    if description is None:
        return ""
    return f"---\ndescription: {json.dumps(description, ensure_ascii=False)}\n---\n"


def version_text(event: ChangeEvent) -> tuple[str, str]:
    """The SKILL.md text after `event`, and where it came from (`git` or `descriptions`)."""
    if event.kind is ChangeKind.DELETED:
        return "", SOURCE_GIT
    text = skill_text_at(Path(event.repository), event.commit_sha, event.path)
    if text is None:
        return _description_text(event.new_description), SOURCE_DESCRIPTIONS
    return text, SOURCE_GIT


def text_before(event: ChangeEvent) -> tuple[str, str]:
    """The SKILL.md text just before `event` (empty for an addition)."""
    if event.kind is ChangeKind.ADDED or event.parent_sha is None:
        return "", SOURCE_GIT
    path = event.old_path or event.path
    text = skill_text_at(Path(event.repository), event.parent_sha, path)
    if text is None:
        return _description_text(event.old_description), SOURCE_DESCRIPTIONS
    return text, SOURCE_GIT


def diff_dict(
    old: tuple[str, str], new: tuple[str, str], labels: tuple[str, str]
) -> dict[str, Any]:
    """Front matter and body of two texts, diffed by line and by word, for a template."""
    source = SOURCE_GIT if old[1] == new[1] == SOURCE_GIT else SOURCE_DESCRIPTIONS
    parts = diff_skill_texts(old[0], new[0], *labels)
    return {
        "source": source,
        "from_label": labels[0],
        "to_label": labels[1],
        "parts": [
            {
                "part": part.part,
                "changed": part.changed,
                "unified": part.unified,
                "words": word_spans(part.words),
            }
            for part in parts
        ],
    }


def event_label(stored: StoredChangeEvent) -> str:
    """`#12 2025-01-02 1a2b3c4d modified`: how a version is named in the viewer."""
    event = stored.event
    return f"#{stored.event_id} {event.committed_at:%Y-%m-%d} {event.commit_sha[:8]} {event.kind}"


def versions_diff(
    events: list[StoredChangeEvent], from_id: int | None, to_id: int | None
) -> dict[str, Any] | None:
    """The diff between the versions two events left (`from_id` 0: before the first event).

    Defaults: the newest event against the one before it. None when there are no events;
    a `from`/`to` id that is not one of the events falls back to the default.
    """
    if not events:
        return None
    by_id = {stored.event_id: stored for stored in events}
    newest = events[-1]
    to_event = by_id.get(to_id or newest.event_id, newest)
    position = events.index(to_event)
    if from_id is None or (from_id != BEFORE_FIRST and from_id not in by_id):
        from_event = events[position - 1] if position > 0 else None
    else:
        from_event = by_id.get(from_id)
    if from_event is None:
        old = text_before(events[0].event)
        from_label = "before the first recorded change"
    else:
        old = version_text(from_event.event)
        from_label = event_label(from_event)
    diff = diff_dict(old, version_text(to_event.event), (from_label, event_label(to_event)))
    diff["from"] = BEFORE_FIRST if from_event is None else from_event.event_id
    diff["to"] = to_event.event_id
    diff["choices"] = [
        {"event_id": stored.event_id, "label": event_label(stored)} for stored in events
    ]
    return diff
