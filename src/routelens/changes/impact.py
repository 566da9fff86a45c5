"""`changes impact`: what one SKILL.md change did to the cases it can affect (pure).

The runs on either side are the ones whose recorded hash of the skill is the event's old hash
(before) and new hash (after); `impact_inputs` picks the nearest of each from the store.
The paired comparison is `routelens compare`'s (`analytics.compare.compare_outcomes`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from routelens.analytics.compare import (
    AttemptOutcome,
    Comparison,
    case_passes,
    compare_outcomes,
)
from routelens.changes.diff import WordChange, word_diff
from routelens.changes.model import StoredChangeEvent
from routelens.store.records import (
    AttemptRecord,
    RunCaseRecord,
    RunRecord,
    RunSkillRecord,
    Verdict,
)

REASON_EXPECTED = "expected"
REASON_ALTERNATE = "alternate"
REASON_NOT_SKILL = "not_skill"
REASON_OPTION = "option"
REASON_WORKFLOW = "workflow"
REASON_ROUTED_BEFORE = "routed before"
REASON_ROUTED_AFTER = "routed after"


@dataclass(frozen=True)
class ImpactSide:
    """One run on one side of a change, with its skills, cases and attempts."""

    run: RunRecord
    skills: Sequence[RunSkillRecord]
    cases: Sequence[RunCaseRecord]
    attempts: Sequence[AttemptRecord]


@dataclass(frozen=True)
class MissingSide:
    """A side without a run: why, and the command that would produce one."""

    side: str  # "before" or "after"
    reason: str
    command: str


@dataclass(frozen=True)
class CaseImpact:
    """An affected case: why it is affected, and its majority outcome on each side."""

    case_id: str
    reasons: tuple[str, ...]
    before: bool | None  # passes (majority of decided attempts); None: not run or all errors
    after: bool | None

    @property
    def flip(self) -> str | None:
        """`regressed`, `improved`, or None when the outcome held (or a side is unknown)."""
        if self.before is True and self.after is False:
            return "regressed"
        if self.before is False and self.after is True:
            return "improved"
        return None


@dataclass(frozen=True)
class SideAccuracy:
    """A side's run and its accuracy on the affected cases."""

    run: RunRecord
    passed: int
    decided: int
    errors: int

    @property
    def accuracy(self) -> float | None:
        """Passed ÷ decided (None when no affected attempt was decided)."""
        return self.passed / self.decided if self.decided else None


@dataclass(frozen=True)
class ChangeImpact:
    """What a change did: affected cases, both sides' accuracy, the paired test, flips."""

    event: StoredChangeEvent
    cases: list[CaseImpact]
    before: SideAccuracy | None
    after: SideAccuracy | None
    comparison: Comparison | None
    comparison_note: str | None
    missing: list[MissingSide] = field(default_factory=list)
    description_diff: list[WordChange] = field(default_factory=list)

    @property
    def flipped(self) -> list[CaseImpact]:
        """The affected cases whose outcome changed."""
        return [case for case in self.cases if case.flip is not None]


def skill_names(
    event: StoredChangeEvent, sides: Iterable[ImpactSide], lineage_names: Iterable[str] = ()
) -> set[str]:
    """The names the changed skill answers to on either side (front matter and folder),
    and every name its lineage had."""
    hashes = {event.event.old_hash, event.event.new_hash} - {None}
    names = {event.event.skill, *lineage_names}
    for side in sides:
        for skill in side.skills:
            if skill.content_hash in hashes:
                names.update((skill.name, skill.folder_name))
    return names


def case_reasons(definition: dict[str, Any], names: set[str]) -> list[str]:
    """Why a case definition can be affected by a change of a skill with these names."""
    reasons: list[str] = []
    if definition.get("expected_skill") in names:
        reasons.append(REASON_EXPECTED)
    if names.intersection(definition.get("alternate_skills") or ()):
        reasons.append(REASON_ALTERNATE)
    if definition.get("not_skill") in names:
        reasons.append(REASON_NOT_SKILL)
    if names.intersection(definition.get("disambiguation_options") or ()):
        reasons.append(REASON_OPTION)
    steps = definition.get("workflow") or ()
    if any(isinstance(step, dict) and step.get("skill") in names for step in steps):
        reasons.append(REASON_WORKFLOW)
    return reasons


def affected_cases(
    names: set[str], before: ImpactSide | None, after: ImpactSide | None
) -> dict[str, list[str]]:
    """Case id → reasons, for every case of either side the change can affect."""
    reasons: defaultdict[str, list[str]] = defaultdict(list)
    for side in (before, after):
        for case in side.cases if side else ():
            for reason in case_reasons(case.definition, names):
                if reason not in reasons[case.case_id]:
                    reasons[case.case_id].append(reason)
    for side, reason in ((before, REASON_ROUTED_BEFORE), (after, REASON_ROUTED_AFTER)):
        for attempt in side.attempts if side else ():
            if attempt.actual_skill in names and reason not in reasons[attempt.case_id]:
                reasons[attempt.case_id].append(reason)
    return dict(reasons)


def nearest_run(
    runs: Sequence[RunRecord], at: datetime, like: RunRecord | None = None
) -> RunRecord | None:
    """The run started closest to `at` (ties: the later); runs with `like`'s suite, router
    and model first, so both sides of a change are measured the same way when they can be."""
    if like is not None:
        same = [
            r
            for r in runs
            if (r.suite_name, r.router, r.model) == (like.suite_name, like.router, like.model)
        ]
        runs = same or runs
    if not runs:
        return None
    return min(
        runs, key=lambda r: (abs((r.started_at - at).total_seconds()), -r.started_at.timestamp())
    )


def _side_accuracy(side: ImpactSide | None, case_ids: set[str]) -> SideAccuracy | None:
    if side is None:
        return None
    verdicts = [a.verdict for a in side.attempts if a.case_id in case_ids]
    passed = sum(v is Verdict.PASS for v in verdicts)
    errors = sum(v is Verdict.ERROR for v in verdicts)
    return SideAccuracy(side.run, passed, len(verdicts) - errors, errors)


def _case_outcomes(side: ImpactSide | None) -> dict[str, bool | None]:
    by_case: defaultdict[str, list[Verdict]] = defaultdict(list)
    for attempt in side.attempts if side else ():
        by_case[attempt.case_id].append(attempt.verdict)
    return {case_id: case_passes(verdicts) for case_id, verdicts in by_case.items()}


def _outcomes(side: ImpactSide, case_ids: set[str]) -> list[AttemptOutcome]:
    return [AttemptOutcome.from_attempt(a) for a in side.attempts if a.case_id in case_ids]


def analyse_impact(
    event: StoredChangeEvent,
    before: ImpactSide | None,
    after: ImpactSide | None,
    *,
    missing: Sequence[MissingSide] = (),
    alpha: float = 0.05,
    lineage_names: Iterable[str] = (),
) -> ChangeImpact:
    """The impact of `event` measured by the `before` and `after` runs (either may be None);
    `lineage_names` are the skill's other names across its history."""
    names = skill_names(event, [s for s in (before, after) if s is not None], lineage_names)
    reasons = affected_cases(names, before, after)
    case_ids = set(reasons)
    before_outcomes, after_outcomes = _case_outcomes(before), _case_outcomes(after)
    cases = [
        CaseImpact(
            case_id,
            tuple(reasons[case_id]),
            before_outcomes.get(case_id),
            after_outcomes.get(case_id),
        )
        for case_id in sorted(case_ids)
    ]
    comparison: Comparison | None = None
    note: str | None = None
    if event.event.old_hash is not None and event.event.old_hash == event.event.new_hash:
        note = "no comparison: the SKILL.md text did not change (a rename only)"
    elif before is None or after is None:
        note = "no comparison: a side has no run"
    elif not case_ids:
        note = "no comparison: no case expects, names or was routed to the skill"
    else:
        try:
            comparison = compare_outcomes(
                _outcomes(before, case_ids), _outcomes(after, case_ids), alpha=alpha
            )
        except ValueError as error:
            note = f"no comparison: {error}"
    old, new = event.event.old_description, event.event.new_description
    return ChangeImpact(
        event=event,
        cases=cases,
        before=_side_accuracy(before, case_ids),
        after=_side_accuracy(after, case_ids),
        comparison=comparison,
        comparison_note=note,
        missing=list(missing),
        description_diff=word_diff(old or "", new or "") if old != new else [],
    )
