"""What an experiment is: two arms (skill versions), how they run, and where it stands."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class ExperimentStatus(StrEnum):
    """draft (created, nothing run) → running (runs exist, attempts accrue) → concluded."""

    DRAFT = "draft"
    RUNNING = "running"
    CONCLUDED = "concluded"


class Decision(StrEnum):
    """What was decided about the treatment when the experiment was concluded."""

    ADOPT = "adopt"
    REJECT = "reject"
    INCONCLUSIVE = "inconclusive"


class Arm(StrEnum):
    """The two sides of an experiment; also the `arm` label of each side's run."""

    CONTROL = "control"
    TREATMENT = "treatment"


class ArmKind(StrEnum):
    """Where an arm's skills come from: a folder as it is, or a commit of a git repository."""

    FOLDER = "folder"
    GIT = "git"


@dataclass(frozen=True)
class ArmSpec:
    """One arm's skills: a folder, or `skills_path` inside `repo` at `commit` (from `ref`).

    A git ref is resolved to its commit when the experiment is created, so a branch that
    moves later does not change what the arm tests. `skills_hash` is the hash at creation;
    a run refuses an arm whose skills no longer match it.
    """

    kind: ArmKind
    source: str
    skills_hash: str
    repo: str | None = None
    skills_path: str | None = None
    commit: str | None = None
    descriptions: Mapping[str, str] = field(default_factory=dict)
    """Descriptions replaced without editing the files (skill → text), as `run
    --description` replaces them; `routelens optimize` records its arms this way."""

    def describe(self) -> str:
        """`skills/` or `main@1a2b3c4d5e6f:skills`, for people (plus the skills whose
        description is replaced)."""
        if self.kind is ArmKind.FOLDER:
            place = self.source
        else:
            place = f"{self.source}@{(self.commit or '')[:12]}:{self.skills_path}"
        if self.descriptions:
            place += f" (new description: {', '.join(sorted(self.descriptions))})"
        return place

    def to_json(self) -> dict[str, Any]:
        """The arm as stored in the `experiments` table."""
        return {
            "kind": str(self.kind),
            "source": self.source,
            "skills_hash": self.skills_hash,
            "repo": self.repo,
            "skills_path": self.skills_path,
            "commit": self.commit,
        } | ({"descriptions": dict(self.descriptions)} if self.descriptions else {})

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> ArmSpec:
        """An arm from its stored form."""
        return cls(
            kind=ArmKind(stored["kind"]),
            source=stored["source"],
            skills_hash=stored["skills_hash"],
            repo=stored.get("repo"),
            skills_path=stored.get("skills_path"),
            commit=stored.get("commit"),
            descriptions=dict(stored.get("descriptions") or {}),
        )


@dataclass(frozen=True)
class ExperimentRecord:
    """An experiment as stored: its arms, its settings, its runs and its outcome."""

    name: str
    control: ArmSpec
    treatment: ArmSpec
    cases_path: str
    router: str
    model: str | None
    repeat: int
    concurrency: int
    seed: int
    created_at: datetime
    status: ExperimentStatus = ExperimentStatus.DRAFT
    started_at: datetime | None = None
    concluded_at: datetime | None = None
    control_run_id: str | None = None
    treatment_run_id: str | None = None
    decision: Decision | None = None
    decision_reason: str | None = None
    summary: dict[str, Any] | None = field(default=None)

    def arm(self, arm: Arm) -> ArmSpec:
        """The spec of one arm."""
        return self.control if arm is Arm.CONTROL else self.treatment

    def run_id(self, arm: Arm) -> str | None:
        """The run of one arm, once the experiment has started."""
        return self.control_run_id if arm is Arm.CONTROL else self.treatment_run_id
