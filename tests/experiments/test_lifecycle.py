"""create → run → status → conclude, on folders and on git refs, with interleaving and resume."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import delete

from routelens.errors import InputError
from routelens.experiments import (
    Arm,
    ArmKind,
    Decision,
    ExperimentPlan,
    ExperimentStatus,
    Recommendation,
    conclude_experiment,
    create_experiment,
    experiment_comparison,
    get_experiment,
    list_experiments,
    run_experiment,
)
from routelens.experiments.execution import interleaved_plan, pending_attempts
from routelens.store import AttemptRecord, RunStatus, Store, schema
from routelens.suite.cases import load_case_suite
from tests.conftest import SMALL_CASES
from tests.experiments.conftest import write_small_skills

KEYWORD_ROUTER = "tests.experiments.routers:keyword_router"


class Recorder:
    """Remembers attempts in the order they finish."""

    def __init__(self) -> None:
        self.attempts: list[AttemptRecord] = []

    def attempt_finished(self, attempt: AttemptRecord) -> None:
        self.attempts.append(attempt)


@pytest.fixture
def cases(tmp_path: Path) -> Path:
    path = tmp_path / "cases.yaml"
    path.write_text(SMALL_CASES, encoding="utf-8")
    return path


def _plan(name: str, control: Path | str, treatment: Path | str, cases: Path, **kw: object):
    return ExperimentPlan(name, str(control), str(treatment), cases, **kw)  # type: ignore[arg-type]


def test_folders_with_a_planted_difference_end_in_adopt(
    store: Store, control_dir: Path, treatment_dir: Path, cases: Path
) -> None:
    plan = _plan("sharper", control_dir, treatment_dir, cases, router=KEYWORD_ROUTER, repeat=10)
    created = create_experiment(store, plan)
    assert created.status is ExperimentStatus.DRAFT
    assert created.control.kind is ArmKind.FOLDER
    assert created.control.skills_hash != created.treatment.skills_hash

    outcome = run_experiment(store, "sharper")

    assert outcome.attempts_made == {Arm.CONTROL: 40, Arm.TREATMENT: 40}
    assert not outcome.interrupted
    record = outcome.experiment
    assert record.status is ExperimentStatus.RUNNING
    for arm in Arm:
        run = store.get_run(record.run_id(arm) or "")
        assert run is not None
        assert run.labels == {"experiment": "sharper", "arm": str(arm)}
        assert run.status is RunStatus.COMPLETED
        assert run.skills_hash == record.arm(arm).skills_hash
    comparison = experiment_comparison(store, record)
    assert comparison.control.accuracy == pytest.approx(0.25)
    assert comparison.treatment.accuracy == 1.0
    assert comparison.sequence.estimate == pytest.approx(0.75)
    assert comparison.recommendation is Recommendation.TREATMENT_BETTER
    assert comparison.planned_pairs == 40  # the control run's 4 cases x 10 repeats
    assert comparison.complete

    concluded = conclude_experiment(store, "sharper")
    assert concluded.status is ExperimentStatus.CONCLUDED
    assert concluded.decision is Decision.ADOPT
    assert concluded.summary is not None
    assert concluded.summary["recommendation"] == "treatment-better"
    assert concluded.summary["fixed_sample_comparison"]["paired_attempts"] == 40
    assert get_experiment(store, "sharper") == concluded


def test_git_refs_of_one_repository_run_with_the_local_router(
    store: Store, skills_repo: Path, cases: Path
) -> None:
    plan = _plan(
        "search-v2", "v1", "main", cases, repo=skills_repo, skills_path="plugin/skills", repeat=2
    )
    created = create_experiment(store, plan)
    assert created.control.kind is ArmKind.GIT
    assert created.control.skills_path == "plugin/skills"
    assert created.control.skills_hash != created.treatment.skills_hash

    outcome = run_experiment(store, "search-v2")

    assert outcome.attempts_made == {Arm.CONTROL: 8, Arm.TREATMENT: 8}
    searched = {
        arm: {s.name: s.description for s in store.run_skills(outcome.experiment.run_id(arm) or "")}
        for arm in Arm
    }
    assert searched[Arm.CONTROL]["jira-search"] != searched[Arm.TREATMENT]["jira-search"]
    comparison = experiment_comparison(store, outcome.experiment)
    assert comparison.pairs == 8


def test_the_skills_path_defaults_to_the_control_folder_in_its_repository(
    store: Store, skills_repo: Path, cases: Path
) -> None:
    plan = _plan("mixed", skills_repo / "plugin" / "skills", "v1", cases)
    created = create_experiment(store, plan)
    assert created.control.kind is ArmKind.FOLDER
    assert created.treatment.kind is ArmKind.GIT
    assert created.treatment.skills_path == "plugin/skills"


def test_attempts_of_both_arms_interleave_in_a_seeded_order(
    store: Store, control_dir: Path, treatment_dir: Path, cases: Path
) -> None:
    plan = _plan("order", control_dir, treatment_dir, cases, repeat=6, concurrency=1, seed=11)
    record = create_experiment(store, plan)
    recorder = Recorder()
    run_experiment(store, "order", observer=recorder)

    arm_of = {record_run: arm for arm in Arm if (record_run := _run_id(store, "order", arm))}
    order = [(arm_of[a.run_id], a.case_id, a.repeat_index) for a in recorder.attempts]
    arms = [arm for arm, _, _ in order]
    # each (case, repeat) is attempted on both arms back to back...
    for first, second in zip(order[::2], order[1::2], strict=True):
        assert first[1:] == second[1:]
        assert first[0] != second[0]
    # ...in a random order of keys, and with neither arm always going first
    firsts = Counter(arms[::2])
    assert 0 < firsts[Arm.CONTROL] < len(order) // 2
    assert [key for _, *key in order[::2]] != sorted(key for _, *key in order[::2])
    # the same seed gives the same plan
    suite = load_case_suite(cases)
    again = interleaved_plan(dict.fromkeys(Arm, suite.cases), 6, record.seed, _no_done())
    assert [(arm, item.case.id, item.repeat_index) for arm, item in again] == order


def test_with_several_workers_the_arms_interleave_in_time(
    store: Store, control_dir: Path, treatment_dir: Path, cases: Path
) -> None:
    plan = _plan("time", control_dir, treatment_dir, cases, repeat=8, concurrency=4)
    create_experiment(store, plan)
    run_experiment(store, "time")
    attempts = sorted(
        (a for arm in Arm for a in store.attempts(_run_id(store, "time", arm))),
        key=lambda a: (a.started_at, a.run_id),
    )
    arms = [a.run_id for a in attempts]
    switches = sum(1 for x, y in itertools.pairwise(arms) if x != y)
    assert switches >= len(arms) // 4
    halves = (Counter(arms[: len(arms) // 2]), Counter(arms[len(arms) // 2 :]))
    assert all(len(half) == 2 for half in halves)  # both arms in each half of the time


def test_deleted_attempts_are_redone_and_nothing_else(
    store: Store, control_dir: Path, treatment_dir: Path, cases: Path
) -> None:
    record = create_experiment(store, _plan("gaps", control_dir, treatment_dir, cases, repeat=2))
    assert pending_attempts(store, record) == 16
    run_id = run_experiment(store, "gaps").experiment.treatment_run_id
    with store.engine.begin() as connection:
        table = schema.attempts
        connection.execute(
            delete(table).where(table.c.run_id == run_id, table.c.case_id.in_(["C1", "C2"]))
        )
    stored = get_experiment(store, "gaps")
    assert stored is not None
    assert pending_attempts(store, stored) == 4
    again = run_experiment(store, "gaps")
    assert again.attempts_made == {Arm.CONTROL: 0, Arm.TREATMENT: 4}
    assert again.experiment.treatment_run_id == run_id
    assert len(store.attempts(run_id or "")) == 8


def test_lifecycle_errors_are_input_errors(
    store: Store, control_dir: Path, treatment_dir: Path, cases: Path, tmp_path: Path
) -> None:
    create_experiment(store, _plan("once", control_dir, treatment_dir, cases, repeat=1))
    with pytest.raises(InputError, match="exists"):
        create_experiment(store, _plan("once", control_dir, treatment_dir, cases))
    with pytest.raises(InputError, match="has not run yet"):
        conclude_experiment(store, "once")
    with pytest.raises(InputError, match="no experiment"):
        run_experiment(store, "never-created")

    run_experiment(store, "once")
    concluded = conclude_experiment(store, "once", Decision.REJECT, "kept the old wording")
    assert (concluded.decision, concluded.decision_reason) == (
        Decision.REJECT,
        "kept the old wording",
    )
    with pytest.raises(InputError, match="was concluded"):
        conclude_experiment(store, "once")
    with pytest.raises(InputError, match="is concluded"):
        run_experiment(store, "once")
    assert [r.name for r in list_experiments(store)] == ["once"]


def test_bad_arms_fail_at_create_and_store_nothing(
    store: Store, control_dir: Path, cases: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # outside any git repository
    broken = tmp_path / "broken"
    (broken / "x").mkdir(parents=True)
    (broken / "x" / "SKILL.md").write_text(
        "---\nname: [x]\ndescription: y\n---\n", encoding="utf-8"
    )
    renamed = write_small_skills(tmp_path / "renamed")
    (renamed / "search" / "SKILL.md").unlink()
    with pytest.raises(InputError, match="must be a string, not list"):
        create_experiment(store, _plan("bad", control_dir, broken, cases))
    with pytest.raises(InputError):  # the cases name a skill this arm lacks
        create_experiment(store, _plan("bad", control_dir, renamed, cases))
    with pytest.raises(InputError, match="is not a folder"):
        create_experiment(store, _plan("bad", control_dir, "no-such-ref", cases))
    assert list_experiments(store) == []


def test_a_folder_arm_edited_after_create_is_refused_at_run(
    store: Store, control_dir: Path, treatment_dir: Path, cases: Path
) -> None:
    create_experiment(store, _plan("edited", control_dir, treatment_dir, cases))
    (treatment_dir / "issue" / "SKILL.md").write_text(
        "---\nname: jira-issue\ndescription: changed\n---\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match="skills changed since the experiment was created"):
        run_experiment(store, "edited")
    record = get_experiment(store, "edited")
    assert record is not None
    assert record.status is ExperimentStatus.DRAFT


def _run_id(store: Store, name: str, arm: Arm) -> str:
    record = get_experiment(store, name)
    assert record is not None
    run_id = record.run_id(arm)
    assert run_id is not None
    return run_id


def _no_done() -> dict[Arm, set[tuple[str, int]]]:
    return {arm: set() for arm in Arm}
