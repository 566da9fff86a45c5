"""`changes scan`: walk a repository's SKILL.md history into change events, and record them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from routelens.changes.events import (
    blob_ids,
    decode_skill_blob,
    events_from_commits,
    read_skill_text,
)
from routelens.changes.git_history import (
    log_skill_commits,
    read_blobs,
    repository_root,
    resolve_commit,
    skill_files_at,
)
from routelens.changes.lineage import build_lineages, resolve_lineages
from routelens.changes.model import ChangeEvent
from routelens.errors import InputError


@dataclass(frozen=True)
class Since:
    """Where a scan starts: after a commit, or from a date (None for both: all history)."""

    commit: str | None = None
    moment: datetime | None = None


def parse_since(repo: Path, text: str | None) -> Since:
    """`--since`: an ISO date or datetime, else a commit, branch or tag of `repo`."""
    if text is None or not text.strip():
        return Since()
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        commit = resolve_commit(repo, text)
        if commit is None:
            raise InputError(
                "--since",
                f"{text!r} is neither an ISO date (2025-01-31) nor a commit, branch or tag",
                field="since",
            ) from None
        return Since(commit=commit)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return Since(moment=moment)


@dataclass(frozen=True)
class ScanResult:
    """The repository scanned (its top folder) and the events its history holds."""

    repository: Path
    events: list[ChangeEvent]


def scan_repository(folder: Path, since: str | None = None) -> ScanResult:
    """Every SKILL.md change event reachable from HEAD in the repository holding `folder`.

    InputError when `folder` is in no repository, or in a shallow clone.
    """
    root = repository_root(folder)
    start = parse_since(root, since)
    return ScanResult(root, scan_commits(root, since_commit=start.commit, since_date=start.moment))


def scan_commits(
    root: Path, *, since_commit: str | None = None, since_date: datetime | None = None
) -> list[ChangeEvent]:
    """The events of the commits `log_skill_commits` lists for these bounds."""
    commits = log_skill_commits(root, since_commit=since_commit, since_date=since_date)
    blobs = read_blobs(root, blob_ids(commits))
    return list(events_from_commits(str(root), commits, blobs))


@dataclass(frozen=True)
class SkillAtRef:
    """A skill's SKILL.md as a commit has it."""

    commit: str
    path: str
    text: str


def skill_at_ref(
    root: Path, ref: str, skill: str, flag: str, lineage_paths: Sequence[str] = ()
) -> SkillAtRef | None:
    """The SKILL.md of `skill` at `ref`, or None: the newest of `lineage_paths` (the paths
    its lineage had, see `lineage`) that exists there, else the file answering to `skill`
    by front-matter or folder name.

    InputError naming `flag` when `ref` is no commit, branch or tag.
    """
    commit = resolve_commit(root, ref)
    if commit is None:
        raise InputError(flag, f"{ref!r} is no commit, branch or tag of {root}", field="ref")
    files = skill_files_at(root, commit)
    for path in reversed(lineage_paths):
        if path in files:
            blob = read_blobs(root, [files[path]]).get(files[path], b"")
            return SkillAtRef(commit, path, decode_skill_blob(blob))
    blobs = read_blobs(root, files.values())
    for path, blob_id in sorted(files.items()):
        text = decode_skill_blob(blobs.get(blob_id, b""))
        if skill in (read_skill_text(text).name, PurePosixPath(path).parent.name):
            return SkillAtRef(commit, path, text)
    return None


def lineage_paths(root: Path, skill: str, events: Sequence[ChangeEvent] = ()) -> tuple[str, ...]:
    """Every path the skill named `skill` (now or before, or its folder) had in `root`'s
    history: from `events` when given (a store's), else from git."""
    history = list(events) if events else scan_commits(root)
    return tuple(
        path
        for lineage in resolve_lineages(build_lineages(history), skill)
        for path in lineage.paths
    )
