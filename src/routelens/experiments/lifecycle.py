"""An experiment's life: create (validate both arms) → run → status → conclude."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from routelens.analytics.compare import AttemptOutcome, compare_outcomes, comparison_as_dict
from routelens.errors import InputError
from routelens.experiments.analysis import (
    ArmAttempt,
    ExperimentComparison,
    Recommendation,
    compare_arms,
)
from routelens.experiments.arms import (
    default_skills_path,
    describe_arm_input,
    load_arm_skills,
    materialised,
    repository_root,
)
from routelens.experiments.model import (
    ArmSpec,
    Decision,
    ExperimentRecord,
    ExperimentStatus,
)
from routelens.experiments.storage import (
    arm_attempts,
    arm_case_count,
    insert_experiment,
    require_experiment,
    save_experiment,
)
from routelens.store.sqlstore import Store
from routelens.suite.cases import load_case_suite


@dataclass(frozen=True)
class ExperimentPlan:
    """What `experiment create` was asked for."""

    name: str
    control: str
    treatment: str
    cases: Path
    skills_path: str | None = None
    repo: Path | None = None
    router: str = "local"
    model: str | None = None
    repeat: int = 3
    concurrency: int = 4
    seed: int | None = None


def _repository(plan: ExperimentPlan) -> Path | None:
    if plan.repo is not None:
        root = repository_root(plan.repo)
        if root is None:
            raise InputError(plan.repo, "not inside a git repository", field="repo")
        return root
    for value in (plan.control, plan.treatment):
        if Path(value).is_dir():
            root = repository_root(Path(value))
            if root is not None:
                return root
    return repository_root(Path.cwd())


def _validated_arm(value: str, flag: str, plan: ExperimentPlan, repo: Path | None) -> ArmSpec:
    skills_path = plan.skills_path or default_skills_path(plan.control, repo)
    arm = describe_arm_input(value, repo=repo, skills_path=skills_path, flag=flag)
    with materialised(arm) as root:
        skills = load_arm_skills(arm, root)
        load_case_suite(plan.cases, skills)  # the cases must make sense for both arms
    return replace(arm, skills_hash=skills.skills_hash)


def create_experiment(store: Store, plan: ExperimentPlan) -> ExperimentRecord:
    """Validate both arms (materialise, load skills and cases) and record a draft."""
    record = planned_experiment(plan)
    insert_experiment(store, record)
    return record


def planned_experiment(plan: ExperimentPlan) -> ExperimentRecord:
    """The draft experiment `plan` describes, both arms validated; nothing is written."""
    if not plan.name.strip():
        raise InputError("experiment create", "the name must not be empty", field="name")
    if not plan.cases.is_file():
        raise InputError(plan.cases, "no such case file", field="cases")
    repo = _repository(plan)
    record = ExperimentRecord(
        name=plan.name,
        control=_validated_arm(plan.control, "--control", plan, repo),
        treatment=_validated_arm(plan.treatment, "--treatment", plan, repo),
        cases_path=str(plan.cases.resolve()),
        router=plan.router,
        model=plan.model,
        repeat=plan.repeat,
        concurrency=plan.concurrency,
        seed=plan.seed if plan.seed is not None else secrets.randbits(32),
        created_at=datetime.now(UTC),
    )
    return record


ArmRows = tuple[Sequence[ArmAttempt], Sequence[ArmAttempt]]
"""The control arm's attempts and the treatment arm's, as `arm_attempts` reads them."""


def experiment_comparison(
    store: Store, record: ExperimentRecord, arms: ArmRows | None = None
) -> ExperimentComparison:
    """Compare the arms of an experiment as the store has them now (`arms`: their attempts,
    when the caller has read them already)."""
    if record.control_run_id is None or record.treatment_run_id is None:
        raise InputError(
            store.display_url,
            f"experiment {record.name!r} has not run yet; run `routelens experiment run "
            f"{record.name}` first",
            field="status",
        )
    planned = arm_case_count(store, record.control_run_id) * record.repeat
    if arms is None:
        arms = (
            arm_attempts(store, record.control_run_id),
            arm_attempts(store, record.treatment_run_id),
        )
    return compare_arms(*arms, planned_pairs=planned)


def _fixed_sample_comparison(store: Store, record: ExperimentRecord) -> dict[str, Any] | None:
    """routelens.analytics.compare over the two runs (per skill, per category, case-level
    McNemar): fixed-sample statistics, valid at the planned end only."""
    assert record.control_run_id is not None
    assert record.treatment_run_id is not None
    control, treatment = (
        [AttemptOutcome.from_attempt(a) for a in store.attempts(run_id)]
        for run_id in (record.control_run_id, record.treatment_run_id)
    )
    try:
        return comparison_as_dict(compare_outcomes(control, treatment))
    except ValueError:  # no decided pair yet
        return None


_DECISION_FOR = {
    Recommendation.TREATMENT_BETTER: Decision.ADOPT,
    Recommendation.TREATMENT_WORSE: Decision.REJECT,
    Recommendation.NO_DIFFERENCE_YET: Decision.INCONCLUSIVE,
}


def conclude_experiment(
    store: Store,
    name: str,
    decision: Decision | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> ExperimentRecord:
    """Store the final comparison and a decision (by default the one the data supports)."""
    record = require_experiment(store, name)
    if record.status is ExperimentStatus.CONCLUDED:
        raise InputError(
            store.display_url,
            f"experiment {name!r} was concluded on {record.concluded_at:%Y-%m-%d %H:%M} "
            f"({record.decision})",
            field="status",
        )
    comparison = experiment_comparison(store, record)
    summary = comparison.to_dict()
    summary["fixed_sample_comparison"] = _fixed_sample_comparison(store, record)
    concluded = replace(
        record,
        status=ExperimentStatus.CONCLUDED,
        concluded_at=now or datetime.now(UTC),
        decision=decision or _DECISION_FOR[comparison.recommendation],
        decision_reason=reason or comparison.reason,
        summary=summary,
    )
    save_experiment(store, concluded)
    return concluded
