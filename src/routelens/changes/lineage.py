"""A skill's identity across renames: its lineage (pure).

Real skills change their front-matter `name` (`JIRA Issue Management` → `jira-issue-management`)
and move folders (`skills/jira-issue` ↔ `plugins/p/skills/jira-issue`). Filing events under
the name a commit gave loses half a skill's history, so events are grouped into lineages:

1. git's rename following: a `renamed` event joins its old and new path;
2. then the folder name: two SKILL.md paths in folders of the same name join when they
   never exist at the same time (a move git did not see as a rename: a delete and an add,
   or a rewrite in the same commit). Two plugins each shipping a `search` skill at once
   stay apart.

Every name a lineage was ever known by (front-matter names and folder names) resolves to it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from routelens.changes.model import ChangeEvent, ChangeKind


@dataclass(frozen=True)
class Lineage:
    """One skill through its history: every path, name and hash it had, and its events.

    `lineage_id` is the first path it had (stable as long as history is); `name` is the
    name of its latest event.
    """

    lineage_id: str
    name: str
    names: tuple[str, ...]
    folders: tuple[str, ...]
    paths: tuple[str, ...]
    hashes: frozenset[str]
    events: tuple[ChangeEvent, ...]

    @property
    def aliases(self) -> frozenset[str]:
        """Every name that resolves to this lineage: front-matter names and folder names."""
        return frozenset((*self.names, *self.folders))

    @property
    def other_names(self) -> tuple[str, ...]:
        """The names and folders it was known by besides its current name."""
        return tuple(n for n in dict.fromkeys((*self.names, *self.folders)) if n != self.name)


def folder_of(path: str) -> str:
    """The folder holding a SKILL.md (`skills/jira-issue/SKILL.md` → `jira-issue`)."""
    pure = PurePosixPath(path)
    return pure.parent.name or pure.stem


class _Paths:
    """Union-find over SKILL.md paths."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, path: str) -> str:
        self.parent.setdefault(path, path)
        while self.parent[path] != path:
            self.parent[path] = self.parent[self.parent[path]]
            path = self.parent[path]
        return path

    def join(self, first: str, second: str) -> None:
        a, b = self.find(first), self.find(second)
        if a != b:
            self.parent[b] = a


def _lifetimes(events: Sequence[ChangeEvent]) -> dict[str, list[tuple[int, int]]]:
    """Each path's [start, end) spans, in commit positions (a path may come and go; a move
    deletes and adds within one commit, so those two spans only touch)."""
    spans: defaultdict[str, list[tuple[int, int]]] = defaultdict(list)
    alive: dict[str, int] = {}
    commits: dict[str, int] = {}
    for event in events:
        position = commits.setdefault(event.commit_sha, len(commits))
        if event.kind is ChangeKind.RENAMED and event.old_path is not None:
            start = alive.pop(event.old_path, position)
            spans[event.old_path].append((start, position))
        if event.kind is ChangeKind.DELETED:
            start = alive.pop(event.path, position)
            spans[event.path].append((start, position))
        elif event.path not in alive:
            alive[event.path] = position
    end = len(commits) + 1
    for path, start in alive.items():
        spans[path].append((start, end))
    return spans


def _overlap(first: list[tuple[int, int]], second: list[tuple[int, int]]) -> bool:
    return any(a < d and c < b for a, b in first for c, d in second)


def build_lineages(events: Iterable[ChangeEvent]) -> list[Lineage]:
    """Group events (any order; they are sorted by commit time) into lineages, oldest first.

    Events of different repositories never share a lineage.
    """
    by_repository: defaultdict[str, list[ChangeEvent]] = defaultdict(list)
    for event in events:
        by_repository[event.repository].append(event)
    lineages: list[Lineage] = []
    for repository in sorted(by_repository):
        lineages += _repository_lineages(
            sorted(by_repository[repository], key=lambda e: e.committed_at)
        )
    return lineages


def _repository_lineages(events: list[ChangeEvent]) -> list[Lineage]:
    paths = _Paths()
    for event in events:
        paths.find(event.path)
        if event.kind is ChangeKind.RENAMED and event.old_path is not None:
            paths.join(event.old_path, event.path)
    lifetimes = _lifetimes(events)
    by_folder: defaultdict[str, list[str]] = defaultdict(list)
    for path in dict.fromkeys(p for e in events for p in (e.old_path, e.path) if p):
        by_folder[folder_of(path)].append(path)
    for group in by_folder.values():
        for index, path in enumerate(group):
            for other in group[:index]:
                if paths.find(path) == paths.find(other):
                    continue
                mine = [span for p in _members(paths, path) for span in lifetimes.get(p, [])]
                theirs = [span for p in _members(paths, other) for span in lifetimes.get(p, [])]
                if not _overlap(mine, theirs):
                    paths.join(other, path)
    grouped: defaultdict[str, list[ChangeEvent]] = defaultdict(list)
    for event in events:
        grouped[paths.find(event.path)].append(event)
    return [_lineage(members) for members in grouped.values()]


def _members(paths: _Paths, path: str) -> list[str]:
    root = paths.find(path)
    return [p for p in list(paths.parent) if paths.find(p) == root]


def _lineage(events: list[ChangeEvent]) -> Lineage:
    ordered_paths = list(dict.fromkeys(p for e in events for p in (e.old_path, e.path) if p))
    return Lineage(
        lineage_id=ordered_paths[0],
        name=events[-1].skill,
        names=tuple(dict.fromkeys(e.skill for e in events)),
        folders=tuple(dict.fromkeys(folder_of(p) for p in ordered_paths)),
        paths=tuple(ordered_paths),
        hashes=frozenset(h for e in events for h in (e.old_hash, e.new_hash) if h),
        events=tuple(events),
    )


def resolve_lineages(lineages: Iterable[Lineage], name: str) -> list[Lineage]:
    """The lineages `name` (a current, old or folder name, or a lineage id) resolves to."""
    return [
        lineage for lineage in lineages if name in lineage.aliases or name == lineage.lineage_id
    ]
