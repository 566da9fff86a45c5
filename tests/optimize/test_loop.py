"""The loop: proposals on train, the choice on validation, the test split run once after."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from routelens.optimize.loop import LoopSettings
from routelens.optimize.offline import OfflineProposer
from routelens.optimize.optimizer import OptimizeRequest, OptimizeResult
from routelens.optimize.trials import TrialSettings
from routelens.suite.cases import load_case_suite
from routelens.suite.skills import load_skill_set
from tests.optimize.support import open_test_store, run_optimize

SKILL = "jira-worklog"


def request(**changes: object) -> OptimizeRequest:
    base = OptimizeRequest(proposer=OfflineProposer(), skill=SKILL, seed=11)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def chosen_path(result: OptimizeResult) -> list[tuple[str | None, float | None, float | None]]:
    """What the selection did: every proposal with its train and validation accuracy."""
    [skill] = result.skills
    return [
        (
            i.description,
            None if i.candidate is None else i.candidate.train.value,
            None if i.candidate is None else i.candidate.validation.value,
        )
        for i in skill.selection.iterations
    ]


def test_the_loop_finds_the_missing_word_and_proves_it_on_test(
    trial_settings: TrialSettings, tmp_path: Path
) -> None:
    result, _ = run_optimize(trial_settings, tmp_path / "s.sqlite", request())
    [skill] = result.skills
    selection, measurement = skill.selection, skill.measurement
    assert selection.changed
    assert "timesheet" in selection.chosen.description
    assert selection.chosen.validation.value == 1.0
    assert selection.original.validation.value is not None
    assert selection.original.validation.value < 0.5
    assert measurement is not None
    assert measurement.verdict.recommended, measurement.verdict.reason
    assert measurement.accuracy(measurement.after).value == 1.0
    assert result.descriptions == {SKILL: selection.chosen.description}


def test_the_choice_is_made_before_any_test_case_runs(
    trial_settings: TrialSettings, tmp_path: Path
) -> None:
    result, runs = run_optimize(trial_settings, tmp_path / "s.sqlite", request())
    split = result.split
    with open_test_store(tmp_path / "s.sqlite") as store:
        ran = [{row.case_id for row in store.run_cases(run_id)} for run_id in runs]
        labels = [store.get_run(run_id).labels for run_id in runs]  # type: ignore[union-attr]
    test_runs = [i for i, cases in enumerate(ran) if cases & set(split.test)]
    # the test split appears only in the last two runs (original and chosen), and alone there
    assert test_runs == [len(runs) - 2, len(runs) - 1]
    for index in test_runs:
        assert ran[index] == set(split.test)
        assert labels[index]["split"] == "test"
    for cases in ran[: len(runs) - 2]:
        assert cases == set(split.train) | set(split.validation)


def test_adversarial_test_scores_leave_the_choice_unchanged(
    trial_settings: TrialSettings, tmp_path: Path
) -> None:
    honest, _ = run_optimize(trial_settings, tmp_path / "honest.sqlite", request())
    [honest_skill] = honest.skills
    chosen = honest_skill.selection.chosen.description
    skills = load_skill_set(trial_settings.skills_dir)
    punished = skills.with_descriptions({SKILL: chosen}).skills_hash
    suite = load_case_suite(trial_settings.cases_path, skills)
    expected = {c.id: c.expected_skill for c in suite.cases if c.id in honest.split.test}
    adversarial_settings = dataclasses.replace(
        trial_settings,
        router="tests.optimize.routers:adversarial_router",
        router_options={"expected": expected, "punish": punished},
    )
    rigged, _ = run_optimize(adversarial_settings, tmp_path / "rigged.sqlite", request())
    [rigged_skill] = rigged.skills
    # on test, every description but the chosen one is now perfect and the chosen one fails
    assert rigged_skill.measurement is not None
    assert honest_skill.measurement is not None
    rigged_test = rigged_skill.measurement
    assert rigged_test.accuracy(rigged_test.after).value == 0.0
    assert rigged_test.accuracy(rigged_test.before).value == 1.0
    assert honest_skill.measurement.accuracy(honest_skill.measurement.after).value == 1.0
    # ... and yet the proposals, their scores and the choice are exactly the same
    assert rigged.split == honest.split
    assert chosen_path(rigged) == chosen_path(honest)
    assert rigged_skill.selection.chosen.description == chosen
    assert not rigged_test.verdict.recommended


def test_all_goes_worst_first_each_on_the_suite_as_already_improved(
    trial_settings: TrialSettings, tmp_path: Path
) -> None:
    result, _ = run_optimize(
        trial_settings,
        tmp_path / "s.sqlite",
        request(skill=None, all_skills=True, loop=LoopSettings(iterations=2)),
    )
    order = [skill.selection.skill for skill in result.skills]
    assert order[0] == SKILL  # the only skill with failures on train
    assert sorted(order) == ["jira-issue", "jira-lifecycle", "jira-search", SKILL]
    worklog = result.skills[0].selection.chosen.description
    for later in result.skills[1:]:
        assert later.selection.base[SKILL] == worklog
    later_runs = [
        candidate.run_id
        for later in result.skills[1:]
        for candidate in (
            later.selection.original,
            *(i.candidate for i in later.selection.iterations if i.candidate is not None),
        )
    ]
    with open_test_store(tmp_path / "s.sqlite") as store:
        found = [store.get_run(run_id) for run_id in later_runs]
    # every run the skills after jira-worklog were judged on has its chosen description in force
    assert len(found) >= 3
    assert all(
        run is not None and run.settings["description_overrides"].get(SKILL) == worklog
        for run in found
    )
    assert result.suite is not None
    assert result.suite.accuracy(result.suite.after).value == 1.0


def test_the_budget_stops_the_loop_and_says_so(
    trial_settings: TrialSettings, tmp_path: Path
) -> None:
    priced = dataclasses.replace(
        trial_settings,
        router="tests.support_routers:priced_router",
        router_options={"cost_usd": 0.01},
    )
    result, runs = run_optimize(priced, tmp_path / "s.sqlite", request(), budget=0.5)
    assert result.stopped is not None
    assert "budget" in result.stopped
    [skill] = result.skills
    assert skill.measurement is None
    with open_test_store(tmp_path / "s.sqlite") as store:
        spent = sum(a.cost_usd for run_id in runs for a in store.attempts(run_id))
    assert spent <= 0.5 + 1e-9
