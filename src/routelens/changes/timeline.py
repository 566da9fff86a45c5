"""`changes list`: each skill's versions from its change events, with the runs that tested each.

Pure: the store gives events and `VersionRun` rows (`routelens.store.changes.version_runs`);
a run tested a version when the content hash it recorded for the skill is that version's hash.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from routelens.changes.lineage import Lineage, build_lineages
from routelens.changes.model import StoredChangeEvent


@dataclass(frozen=True)
class VersionRun:
    """One run's verdicts on the cases expecting one skill, and the skill's hash in that run."""

    skill: str
    content_hash: str
    run_id: str
    started_at: datetime
    router: str
    model: str | None
    suite_name: str
    passed: int
    failed: int
    errors: int

    @property
    def accuracy(self) -> float | None:
        """Passed ÷ decided on the cases expecting the skill (None when none was decided)."""
        decided = self.passed + self.failed
        return self.passed / decided if decided else None


@dataclass(frozen=True)
class SkillVersion:
    """A version of a skill: the change that made it (None when only runs know the hash)."""

    content_hash: str | None
    event: StoredChangeEvent | None
    runs: tuple[VersionRun, ...]

    @property
    def accuracy(self) -> float | None:
        """Pooled accuracy of the version's runs on the cases expecting the skill."""
        passed = sum(run.passed for run in self.runs)
        decided = passed + sum(run.failed for run in self.runs)
        return passed / decided if decided else None


@dataclass(frozen=True)
class SkillTimeline:
    """A skill's versions, oldest first; versions only runs know come last.

    `skill` is its current name; `aliases` the other names and folders its lineage had.
    """

    skill: str
    versions: tuple[SkillVersion, ...]
    aliases: tuple[str, ...] = ()


def _home_event(run: VersionRun, candidates: Sequence[StoredChangeEvent]) -> StoredChangeEvent:
    """The version a run tested when a hash recurs (a revert): the latest made before it."""
    before = [c for c in candidates if c.event.committed_at <= run.started_at]
    return before[-1] if before else candidates[0]


def build_timelines(
    events: Iterable[StoredChangeEvent], runs: Iterable[VersionRun]
) -> list[SkillTimeline]:
    """Timelines by skill lineage (renames followed, see `lineage`): each event is a
    version, with the runs of its new hash; a run no event knows joins the lineage its
    skill's name belongs to."""
    ordered = sorted(events, key=lambda e: (e.event.committed_at, e.event_id))
    lineages = build_lineages(stored.event for stored in ordered)
    lineage_of: dict[tuple[str, str, str], Lineage] = {
        (event.repository, event.commit_sha, event.path): lineage
        for lineage in lineages
        for event in lineage.events
    }
    by_alias = {alias: lineage for lineage in lineages for alias in sorted(lineage.aliases)}
    by_hash: defaultdict[str, list[StoredChangeEvent]] = defaultdict(list)
    for stored in ordered:
        if stored.event.new_hash is not None:
            by_hash[stored.event.new_hash].append(stored)
    tested: defaultdict[int, list[VersionRun]] = defaultdict(list)
    untracked: defaultdict[tuple[str, str], list[VersionRun]] = defaultdict(list)
    for run in sorted(runs, key=lambda r: (r.started_at, r.run_id)):
        candidates = by_hash.get(run.content_hash)
        if candidates:
            tested[_home_event(run, candidates).event_id].append(run)
        else:
            home = by_alias.get(run.skill)
            untracked[(home.lineage_id if home else run.skill, run.content_hash)].append(run)
    versions: defaultdict[str, list[SkillVersion]] = defaultdict(list)
    titles: dict[str, tuple[str, tuple[str, ...]]] = {}
    for stored in ordered:
        event = stored.event
        lineage = lineage_of[(event.repository, event.commit_sha, event.path)]
        titles[lineage.lineage_id] = (lineage.name, lineage.other_names)
        versions[lineage.lineage_id].append(
            SkillVersion(event.new_hash, stored, tuple(tested[stored.event_id]))
        )
    for (key, content_hash), version_runs in untracked.items():
        titles.setdefault(key, (version_runs[0].skill, ()))
        versions[key].append(SkillVersion(content_hash, None, tuple(version_runs)))
    timelines = [
        SkillTimeline(titles[key][0], tuple(found), titles[key][1])
        for key, found in versions.items()
    ]
    return sorted(timelines, key=lambda timeline: timeline.skill)
