"""The final comparison of `optimize` as an experiment, shown with the others.

The two test runs (original and chosen description, same test cases) become a concluded
experiment: the control arm is the skills folder with the descriptions in force before, the
treatment the same folder with the chosen description too. Its summary holds the same
comparison `experiment conclude` stores, plus the optimize report under `optimize`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from routelens.analytics.compare import AttemptOutcome, compare_outcomes, comparison_as_dict
from routelens.experiments.analysis import compare_arms
from routelens.experiments.model import (
    ArmKind,
    ArmSpec,
    Decision,
    ExperimentRecord,
    ExperimentStatus,
)
from routelens.experiments.storage import insert_experiment
from routelens.optimize.loop import FinalMeasurement, Selection
from routelens.store.sqlstore import Store
from routelens.suite.models import SkillSet

OPTIMIZE_SUMMARY_KEY = "optimize"


def experiment_name(skill: str, treatment_run_id: str) -> str:
    """`optimize-<skill>-<treatment run id>`: unique, since run ids are."""
    return f"optimize-{skill}-{treatment_run_id}"


def _arm(skills_dir: Path, skills: SkillSet, descriptions: Mapping[str, str]) -> ArmSpec:
    return ArmSpec(
        ArmKind.FOLDER,
        str(skills_dir.resolve()),
        skills_hash=skills.with_descriptions(descriptions).skills_hash,
        descriptions=dict(descriptions),
    )


def _decision(measurement: FinalMeasurement) -> Decision:
    verdict = measurement.verdict
    if verdict.recommended:
        return Decision.ADOPT
    worse = verdict.mcnemar.b > verdict.mcnemar.c
    return Decision.REJECT if worse else Decision.INCONCLUSIVE


def record_experiment(
    store: Store,
    *,
    skills_dir: Path,
    cases_path: Path,
    skills: SkillSet,
    selection: Selection,
    measurement: FinalMeasurement,
    seed: int,
    report: Mapping[str, Any],
    now: datetime | None = None,
) -> ExperimentRecord:
    """Store the test comparison of `selection` as a concluded experiment."""
    before, after = measurement.before, measurement.after
    control_run = store.get_run(before.run_id)
    assert control_run is not None
    control_attempts = store.attempts(before.run_id)
    treatment_attempts = store.attempts(after.run_id)
    repeat = int(control_run.settings.get("repeat", 1))
    summary = compare_arms(
        control_attempts, treatment_attempts, planned_pairs=len(measurement.test) * repeat
    ).to_dict()
    try:
        summary["fixed_sample_comparison"] = comparison_as_dict(
            compare_outcomes(
                [AttemptOutcome.from_attempt(a) for a in control_attempts],
                [AttemptOutcome.from_attempt(a) for a in treatment_attempts],
            )
        )
    except ValueError:  # no (case, repeat) decided on both sides: every attempt errored
        summary["fixed_sample_comparison"] = None
    summary[OPTIMIZE_SUMMARY_KEY] = dict(report)
    concluded = now or datetime.now(UTC)
    record = ExperimentRecord(
        name=experiment_name(selection.skill, after.run_id),
        control=_arm(skills_dir, skills, before.descriptions),
        treatment=_arm(skills_dir, skills, after.descriptions),
        cases_path=str(cases_path.resolve()),
        router=control_run.router,
        model=control_run.model,
        repeat=repeat,
        concurrency=int(control_run.settings.get("concurrency", 4)),
        seed=seed,
        created_at=control_run.started_at,
        status=ExperimentStatus.CONCLUDED,
        started_at=control_run.started_at,
        concluded_at=concluded,
        control_run_id=before.run_id,
        treatment_run_id=after.run_id,
        decision=_decision(measurement),
        decision_reason=measurement.verdict.reason,
        summary=summary,
    )
    insert_experiment(store, record)
    return record
