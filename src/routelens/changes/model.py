"""A SKILL.md change event: one skill, one commit, what changed and by whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ChangeKind(StrEnum):
    """How a commit touched a SKILL.md."""

    ADDED = "added"
    MODIFIED = "modified"
    RENAMED = "renamed"
    DELETED = "deleted"


@dataclass(frozen=True)
class ChangeEvent:
    """One SKILL.md changed by one commit; hashes are the content hash runs record.

    `path` is the file after the commit (before it, for a deletion); `old_path` is set for
    a rename. `old_hash` is None for an addition, `new_hash` None for a deletion.
    `committed_at` keeps the commit's own UTC offset, so dates print as the author saw them.
    """

    repository: str
    skill: str
    kind: ChangeKind
    path: str
    old_path: str | None
    commit_sha: str
    parent_sha: str | None
    author: str
    committed_at: datetime
    message: str
    old_hash: str | None
    new_hash: str | None
    old_description: str | None
    new_description: str | None
    description_changed: bool
    lines_added: int
    lines_removed: int
    new_has_front_matter: bool | None = None
    """Whether the SKILL.md after the commit has front matter (None: deleted, or unknown
    for events recorded before routelens kept it)."""

    @property
    def subject(self) -> str:
        """The first line of the commit message."""
        return self.message.split("\n", 1)[0]


@dataclass(frozen=True)
class StoredChangeEvent:
    """A change event as the store keeps it: with its id and when it was recorded."""

    event_id: int
    recorded_at: datetime
    event: ChangeEvent
