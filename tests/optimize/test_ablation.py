"""Ablation: each part removed in turn, measured on the cases it can touch."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from statsmodels.stats.multitest import multipletests

from routelens.config import RoutelensConfig
from routelens.optimize.ablation import (
    PartRun,
    PartVerdict,
    ablate,
    ablation_cases,
    part_effects,
)
from routelens.optimize.outcomes import CaseOutcome
from routelens.optimize.parts import description_parts
from routelens.optimize.trials import TrialRunner, TrialSettings, plan_first
from routelens.store.sqlstore import open_store
from routelens.suite.models import Case, Category
from tests.conftest import write_skill

SEARCH = "Find issues with JQL queries. Show the weather forecast. TRIGGERS: saved filters, sprint."


def outcome(case_id: str, expected: str, passed: bool, routes: tuple[str, ...] = ()) -> CaseOutcome:
    actual = routes[0] if routes else expected
    return CaseOutcome(
        case_id, "direct", "text", expected, actual, routes or (actual,), None, passed
    )


def test_affected_cases_and_a_seeded_sample_of_the_rest() -> None:
    cases = [
        Case(id="A", category=Category.DIRECT, input="x", expected_skill="jira-search"),
        Case(
            id="B",
            category=Category.NEGATIVE,
            input="x",
            expected_skill="jira-agile",
            not_skill="jira-search",
        ),
        Case(id="C", category=Category.DIRECT, input="x", expected_skill="jira-agile"),
        *(
            Case(id=f"R{i}", category=Category.DIRECT, input="x", expected_skill="jira-issue")
            for i in range(8)
        ),
    ]
    baseline = {case.id: outcome(case.id, case.expected_skill or "", True) for case in cases}
    baseline["C"] = outcome("C", "jira-agile", False, ("jira-search",))  # taken by the skill
    chosen = ablation_cases("jira-search", cases, baseline, sample=0.25, seed=3)
    assert chosen.affected == ("A", "B", "C")
    assert len(chosen.sampled) == 2
    assert set(chosen.sampled) <= {f"R{i}" for i in range(8)}
    assert ablation_cases("jira-search", cases, baseline, sample=0.25, seed=3) == chosen
    assert ablation_cases("jira-search", cases, baseline, sample=0.0, seed=3).sampled == ()


def test_effects_are_ranked_and_adjusted_across_parts() -> None:
    parts = description_parts(SEARCH)
    ids = [f"C{i}" for i in range(12)]
    baseline = {
        c: outcome(c, "jira-search" if i < 8 else "jira-agile", i < 10) for i, c in enumerate(ids)
    }

    def without(failing: set[str], passing: set[str]) -> dict[str, CaseOutcome]:
        return {
            c: outcome(
                c, baseline[c].expected, (baseline[c].passed and c not in failing) or c in passing
            )
            for c in ids
        }

    runs = [
        PartRun(parts[0], "a", "r0", without({f"C{i}" for i in range(10)}, set())),  # carries
        PartRun(parts[1], "b", "r1", without(set(), set())),  # dead weight
        PartRun(parts[2], "c", "r2", without({"C0"}, set())),  # carries a little
        PartRun(parts[3], "d", "r3", without(set(), {"C10", "C11"})),  # harmful
    ]
    effects = part_effects("jira-search", baseline, runs, ids)
    assert [e.part.index for e in effects] == [0, 2, 1, 3]
    assert [e.verdict for e in effects] == [
        PartVerdict.CARRIES,
        PartVerdict.CARRIES,
        PartVerdict.DEAD_WEIGHT,
        PartVerdict.HARMFUL,
    ]
    by_index = {e.part.index: e for e in effects}
    assert (by_index[0].b, by_index[0].c) == (10, 0)
    assert by_index[0].own.change == pytest.approx(-1.0)
    assert by_index[0].others.change == pytest.approx(-2 / 4)
    assert by_index[3].others.change == pytest.approx(2 / 4)
    raw = [by_index[i].p_value for i in range(4)]
    expected = multipletests(raw, method="fdr_bh")[1]
    assert [by_index[i].p_adjusted for i in range(4)] == pytest.approx(list(expected))
    assert by_index[0].significant
    assert not by_index[2].significant


def test_ablating_a_real_suite_finds_what_carries_and_what_harms(tmp_path: Path) -> None:
    skills = tmp_path / "skills"
    write_skill(skills, "search", "jira-search", SEARCH)
    write_skill(
        skills, "agile", "jira-agile", "Plan sprints on the board: start or close a sprint."
    )
    write_skill(skills, "issue", "jira-issue", "Create or delete a single issue: bug, story, task.")
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        'version: "1"\nname: ablate\ntests:\n'
        + "".join(
            f'  - id: {case_id}\n    category: direct\n    input: "{text}"\n'
            f"    expected_skill: {skill}\n"
            for case_id, text, skill in [
                ("S1", "find issues with a JQL query", "jira-search"),
                ("S2", "JQL for my open issues", "jira-search"),
                ("S3", "run my saved filters", "jira-search"),
                ("A1", "what is in the sprint", "jira-agile"),
                ("A2", "close the sprint", "jira-agile"),
                ("I1", "create a bug", "jira-issue"),
            ]
        ),
        encoding="utf-8",
    )
    settings = TrialSettings(config=RoutelensConfig(), skills_dir=skills, cases_path=cases)
    plan = plan_first(settings, None)
    asyncio.run(plan.router.aclose())
    with open_store(f"sqlite:///{tmp_path / 's.sqlite'}") as store:
        trials = TrialRunner(store, settings)
        result = ablate(trials, plan.skills, plan.suite.cases, "search", sample=1.0)
        runs = {run_id: store.get_run(run_id) for run_id in trials.runs}
    assert result.skill == "jira-search"
    verdicts = {e.part.text: e.verdict for e in result.effects}
    assert verdicts["Find issues with JQL queries."] is PartVerdict.CARRIES
    assert verdicts["saved filters"] is PartVerdict.CARRIES
    assert verdicts["Show the weather forecast."] is PartVerdict.DEAD_WEIGHT
    assert result.effects[0].verdict is PartVerdict.CARRIES
    assert result.effects[-1].verdict is not PartVerdict.CARRIES
    # one baseline run, then one run per part, each with its override recorded
    assert len(runs) == 1 + len(description_parts(SEARCH))
    overrides = [run.settings["description_overrides"] for run in runs.values() if run]
    assert overrides[0] == {}
    assert {o["jira-search"] for o in overrides[1:]} == {e.description for e in result.effects}


def test_a_part_that_moves_cases_both_ways_is_mixed_not_dead_weight() -> None:
    from routelens.optimize.ablation import part_verdict

    assert part_verdict(3, 3) is PartVerdict.MIXED
    assert part_verdict(0, 0) is PartVerdict.DEAD_WEIGHT
    assert part_verdict(2, 1) is PartVerdict.CARRIES
    assert part_verdict(1, 2) is PartVerdict.HARMFUL
    parts = description_parts(SEARCH)
    ids = ["C0", "C1", "C2"]
    baseline = {c: outcome(c, "jira-search", c != "C2") for c in ids}
    swapped = {c: outcome(c, "jira-search", c != "C0") for c in ids}
    effects = part_effects(
        "jira-search",
        baseline,
        [PartRun(parts[0], "a", "r0", dict(baseline)), PartRun(parts[1], "b", "r1", swapped)],
        ids,
    )
    assert [(e.part.index, e.verdict) for e in effects] == [
        (1, PartVerdict.MIXED),
        (0, PartVerdict.DEAD_WEIGHT),
    ]
