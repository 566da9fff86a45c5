"""`changes list`: each skill's versions from its change events, with the runs that tested each.

Pure: the store gives events and `VersionRun` rows (`routelens.store.changes.version_runs`);
a run tested a version when the content hash it recorded for the skill is that version's hash.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

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
    """A skill's versions, oldest first; versions only runs know come last."""

    skill: str
    versions: tuple[SkillVersion, ...]


def _home_event(run: VersionRun, candidates: Sequence[StoredChangeEvent]) -> StoredChangeEvent:
    """The version a run tested when a hash recurs (a revert): the latest made before it."""
    before = [c for c in candidates if c.event.committed_at <= run.started_at]
    return before[-1] if before else candidates[0]


def build_timelines(
    events: Iterable[StoredChangeEvent], runs: Iterable[VersionRun]
) -> list[SkillTimeline]:
    """Timelines by skill name: each event is a version, with the runs of its new hash."""
    ordered = sorted(events, key=lambda e: (e.event.committed_at, e.event_id))
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
            untracked[(run.skill, run.content_hash)].append(run)
    versions: defaultdict[str, list[SkillVersion]] = defaultdict(list)
    for stored in ordered:
        versions[stored.event.skill].append(
            SkillVersion(stored.event.new_hash, stored, tuple(tested[stored.event_id]))
        )
    for (skill, content_hash), version_runs in untracked.items():
        versions[skill].append(SkillVersion(content_hash, None, tuple(version_runs)))
    return [SkillTimeline(skill, tuple(versions[skill])) for skill in sorted(versions)]
