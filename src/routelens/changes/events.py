"""Turn a commit's SKILL.md changes and their blob contents into change events (pure)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import yaml

from routelens.changes.git_history import CommitChanges, FileChange
from routelens.changes.model import ChangeEvent, ChangeKind
from routelens.suite.hashing import skill_content_hash

_KINDS = {"A": ChangeKind.ADDED, "D": ChangeKind.DELETED, "R": ChangeKind.RENAMED}


@dataclass(frozen=True)
class SkillText:
    """A SKILL.md as text, split leniently: front matter (YAML text), body, name, description.

    Unlike `suite.skills.parse_skill_text` this never raises: history holds broken versions
    too, and they still have a hash and a diff.
    """

    text: str
    front_matter: str
    body: str
    name: str | None
    description: str | None
    has_front_matter: bool = True

    @property
    def content_hash(self) -> str:
        """The content hash a run records for this text."""
        return skill_content_hash(self.text)


def decode_skill_blob(content: bytes) -> str:
    """A blob as the runs read it: UTF-8 (undecodable bytes replaced; no run can load those)."""
    return content.decode("utf-8", errors="replace")


def split_front_matter(text: str) -> tuple[str, str]:
    """(front matter, body): the text between the opening and closing '---' lines, and the rest.

    Without a closed front matter block everything is body.
    """
    front, body, _ = _split(text)
    return front, body


def _split(text: str) -> tuple[str, str, bool]:
    lines = text.removeprefix("\ufeff").splitlines(keepends=True)
    if lines and lines[0].strip() == "---":
        for index in range(1, len(lines)):
            if lines[index].strip() == "---":
                return "".join(lines[1:index]), "".join(lines[index + 1 :]), True
    return "", text.removeprefix("\ufeff"), False


def read_skill_text(text: str) -> SkillText:
    """Split and leniently read a SKILL.md's name and description (None when unreadable)."""
    front_text, body, has_front_matter = _split(text)
    try:
        front: Any = yaml.safe_load(front_text) if front_text else None
    except yaml.YAMLError:
        front = None
    fields = front if isinstance(front, dict) else {}
    name = fields.get("name")
    description = fields.get("description")
    return SkillText(
        text=text,
        front_matter=front_text,
        body=body,
        name=name.strip() if isinstance(name, str) and name.strip() else None,
        description=description.strip() if isinstance(description, str) else None,
        has_front_matter=has_front_matter,
    )


def _folder_name(path: str) -> str:
    parent = PurePosixPath(path).parent.name
    return parent or PurePosixPath(path).stem


def event_from_change(
    repository: str,
    commit: CommitChanges,
    change: FileChange,
    blobs: Mapping[str, bytes],
) -> ChangeEvent:
    """The change event for one SKILL.md of one commit; `blobs` holds both sides' contents."""
    old = _side(change.old_blob, blobs)
    new = _side(change.new_blob, blobs)
    kind = _KINDS.get(change.status, ChangeKind.MODIFIED)
    named = new if new is not None else old
    skill = (named.name if named else None) or _folder_name(change.path)
    old_description = old.description if old else None
    new_description = new.description if new else None
    return ChangeEvent(
        repository=repository,
        skill=skill,
        kind=kind,
        path=change.path,
        old_path=change.old_path,
        commit_sha=commit.sha,
        parent_sha=commit.parents[0] if commit.parents else None,
        author=commit.author,
        committed_at=commit.committed_at,
        message=commit.message,
        old_hash=old.content_hash if old else None,
        new_hash=new.content_hash if new else None,
        old_description=old_description,
        new_description=new_description,
        description_changed=old_description != new_description,
        lines_added=change.lines_added,
        lines_removed=change.lines_removed,
        new_has_front_matter=None if new is None else new.has_front_matter,
    )


def _side(blob_id: str | None, blobs: Mapping[str, bytes]) -> SkillText | None:
    if blob_id is None or blob_id not in blobs:
        return None
    return read_skill_text(decode_skill_blob(blobs[blob_id]))


def events_from_commits(
    repository: str, commits: list[CommitChanges], blobs: Mapping[str, bytes]
) -> Iterator[ChangeEvent]:
    """Every event of these commits, in commit order then path order.

    A mode-only change (same blob on both sides) is no change of the content and is skipped.
    """
    for commit in commits:
        for change in sorted(commit.changes, key=lambda c: c.path):
            if change.status not in "ARD" and change.old_blob == change.new_blob:
                continue
            yield event_from_change(repository, commit, change, blobs)


def blob_ids(commits: list[CommitChanges]) -> set[str]:
    """Every blob id the events of these commits read."""
    ids: set[str] = set()
    for commit in commits:
        for change in commit.changes:
            ids.update(b for b in (change.old_blob, change.new_blob) if b is not None)
    return ids
