"""A run from creation to completion; interruption and resume lose and duplicate nothing."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import replace
from pathlib import Path

import pytest

from routelens.errors import InputError
from routelens.routers.base import RouteRequest, RouterError, RouteResult
from routelens.routers.function import FunctionRouter
from routelens.runner.session import (
    RunSettings,
    create_run,
    execute_run,
    load_resumable_run,
)
from routelens.store import RunStatus, Store, Verdict, open_store
from routelens.suite.models import CaseSuite, SkillSet


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(tmp_path / "store.sqlite")


def test_create_run_records_the_skills_cases_and_settings_without_secrets(
    store: Store, small_skills: SkillSet, small_suite: CaseSuite
) -> None:
    settings = RunSettings(
        router="local", repeat=2, router_options={"api_key": "sk-secret", "ambiguity_ratio": 0.7}
    )
    run = create_run(
        store, small_skills, small_suite, settings, labels={"team": "qa"}, environment="ci"
    )
    stored = store.get_run(run.run_id)
    assert stored is not None
    assert stored.status is RunStatus.RUNNING
    assert stored.labels == {"team": "qa"}
    assert stored.environment == "ci"
    assert stored.skills_hash == small_skills.skills_hash
    assert stored.settings["router_options"] == {"ambiguity_ratio": 0.7}
    assert "sk-secret" not in repr(stored)
    assert [s.name for s in store.run_skills(run.run_id)] == sorted(small_skills.names)
    assert [c.case_id for c in store.run_cases(run.run_id)] == ["C1", "C2", "C3", "C4"]


def test_a_complete_run_has_every_case_and_repeat(
    store: Store, small_skills: SkillSet, small_suite: CaseSuite
) -> None:
    settings = RunSettings(router="function", repeat=3, concurrency=2)
    run = create_run(store, small_skills, small_suite, settings)
    outcome = execute_run(
        store,
        run,
        small_skills,
        small_suite.cases,
        FunctionRouter(lambda r: "jira-issue"),
        settings,
    )
    assert outcome.run.status is RunStatus.COMPLETED
    assert not outcome.interrupted
    assert outcome.run.finished_at is not None
    assert outcome.attempts_made == 12
    assert store.attempt_keys(run.run_id) == {
        (c, r) for c in ("C1", "C2", "C3", "C4") for r in range(3)
    }


def test_interrupt_then_resume_runs_only_the_missing_attempts(
    store: Store, small_skills: SkillSet, small_suite: CaseSuite
) -> None:
    settings = RunSettings(router="function", repeat=3, concurrency=1)
    calls = 0

    def interrupting(request: RouteRequest) -> str:
        nonlocal calls
        calls += 1
        if calls == 6:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C in the middle of the sixth attempt
        return "jira-issue"

    run = create_run(store, small_skills, small_suite, settings)
    first = execute_run(
        store, run, small_skills, small_suite.cases, FunctionRouter(interrupting), settings
    )
    assert first.interrupted
    assert first.run.status is RunStatus.INTERRUPTED
    before = {(a.case_id, a.repeat_index): a for a in store.attempts(run.run_id)}
    assert len(before) == 6  # the sixth attempt finishes; the run stops before the seventh

    resumable = load_resumable_run(store, run.run_id)
    assert resumable.cases == small_suite.cases
    assert resumable.settings == settings
    second = execute_run(
        store,
        run,
        resumable.skills,
        resumable.cases,
        FunctionRouter(lambda r: "jira-issue"),
        resumable.settings,
    )
    after = store.attempts(run.run_id)
    assert second.run.status is RunStatus.COMPLETED
    assert second.attempts_made == 6
    assert len(after) == 12
    assert len({(a.case_id, a.repeat_index) for a in after}) == 12
    for attempt in after:  # what was recorded before the interrupt is untouched
        key = (attempt.case_id, attempt.repeat_index)
        if key in before:
            assert attempt == before[key]
    assert sorted(a.sequence_number for a in after) == list(range(12))


def test_retry_errors_redoes_only_the_error_attempts(
    store: Store, small_skills: SkillSet, small_suite: CaseSuite
) -> None:
    settings = RunSettings(router="function", repeat=1)

    def flaky(request: RouteRequest) -> RouteResult:
        if request.case_id == "C2":
            raise RouterError("boom", error_type="api_error", http_status=500)
        return RouteResult(skill="jira-issue")

    run = create_run(store, small_skills, small_suite, settings)
    execute_run(store, run, small_skills, small_suite.cases, FunctionRouter(flaky), settings)
    assert store.attempt_keys(run.run_id, {Verdict.ERROR}) == {("C2", 0)}
    plain = execute_run(
        store,
        run,
        small_skills,
        small_suite.cases,
        FunctionRouter(lambda r: "jira-search"),
        settings,
    )
    assert plain.attempts_made == 0
    redo = execute_run(
        store,
        run,
        small_skills,
        small_suite.cases,
        FunctionRouter(lambda r: "jira-search"),
        settings,
        retry_errors=True,
    )
    assert redo.attempts_made == 1
    by_case = {a.case_id: a for a in store.attempts(run.run_id)}
    assert by_case["C2"].verdict is Verdict.PASS
    assert by_case["C2"].actual_skill == "jira-search"
    assert by_case["C1"].actual_skill == "jira-issue"


def test_resume_refuses_when_the_skills_changed(
    store: Store, skills_dir: Path, small_skills: SkillSet, small_suite: CaseSuite
) -> None:
    run = create_run(store, small_skills, small_suite, RunSettings())
    skill_file = skills_dir / "search" / "SKILL.md"
    skill_file.write_text(skill_file.read_text() + "\nOne more line.\n")
    with pytest.raises(InputError, match="skills changed since run") as raised:
        load_resumable_run(store, run.run_id)
    assert raised.value.field == "skills_hash"
    with pytest.raises(InputError, match="no run 'missing'"):
        load_resumable_run(store, "missing")


def test_budget_stops_scheduling_before_the_cost_would_pass_it_and_resume_goes_on(
    store: Store, small_skills: SkillSet, small_suite: CaseSuite
) -> None:
    settings = RunSettings(router="function", repeat=3, concurrency=1, max_cost_usd=0.035)
    priced = FunctionRouter(lambda r: RouteResult(skill="jira-issue", cost_usd=0.01))
    run = create_run(store, small_skills, small_suite, settings)
    first = execute_run(store, run, small_skills, small_suite.cases, priced, settings)
    assert first.run.status is RunStatus.STOPPED_BY_BUDGET
    spent = sum(a.cost_usd for a in store.attempts(run.run_id))
    assert first.attempts_made == 3
    assert spent <= 0.035

    same_budget = execute_run(store, run, small_skills, small_suite.cases, priced, settings)
    assert same_budget.attempts_made == 0  # the budget covers the whole run, not each call

    raised = replace(settings, max_cost_usd=1.0)
    second = execute_run(store, run, small_skills, small_suite.cases, priced, raised)
    assert second.run.status is RunStatus.COMPLETED
    assert second.attempts_made == 9
    assert len(store.attempt_keys(run.run_id)) == 12


def test_concurrent_workers_stay_within_the_budget(
    store: Store, small_skills: SkillSet, small_suite: CaseSuite
) -> None:
    async def priced(request: RouteRequest) -> RouteResult:
        await asyncio.sleep(0.01)
        return RouteResult(skill="jira-issue", cost_usd=0.01)

    settings = RunSettings(router="function", repeat=10, concurrency=4, max_cost_usd=0.2)
    run = create_run(store, small_skills, small_suite, settings)
    outcome = execute_run(
        store, run, small_skills, small_suite.cases, FunctionRouter(priced), settings
    )
    spent = sum(a.cost_usd for a in store.attempts(run.run_id))
    assert outcome.run.status is RunStatus.STOPPED_BY_BUDGET
    # attempts in flight are counted at the largest cost seen, so the total never passes it
    assert spent <= 0.2 + 1e-9
    assert outcome.attempts_made >= 16


def test_a_resumed_run_keeps_its_overrides_skips_and_rules(
    store: Store, small_skills: SkillSet, small_suite: CaseSuite
) -> None:
    overrides = {"jira-search": "Find issues with JQL."}
    skills = small_skills.with_descriptions(overrides)
    skipping = replace(
        small_suite,
        cases=tuple(
            case.model_copy(update={"skip": case.id == "C4"}) for case in small_suite.cases
        ),
    )
    settings = RunSettings(router="function", description_overrides=overrides)
    run = create_run(store, skills, skipping, settings)
    assert run.skills_hash == skills.skills_hash != small_skills.skills_hash

    resumed = load_resumable_run(store, run.run_id)
    assert resumed.skills.skills_hash == run.skills_hash  # the overrides are applied again
    assert resumed.settings.verdict_rules.workflow == "any-step"
    outcome = execute_run(
        store, run, resumed.skills, resumed.cases, FunctionRouter(lambda r: None), resumed.settings
    )
    assert outcome.attempts_made == 3  # C4 is skipped
    assert {key[0] for key in store.attempt_keys(run.run_id)} == {"C1", "C2", "C3"}


def test_runs_recorded_before_the_workflow_rule_setting_judge_by_the_first_step() -> None:
    assert RunSettings.from_stored({"router": "local"}).workflow_rule == "first-step"
    assert RunSettings.from_stored({"workflow_rule": "any-step"}).workflow_rule == "any-step"


@pytest.mark.parametrize(
    "name",
    [
        "api_key",
        "ANTHROPIC_API_KEY",
        "access_token",  # *token*
        "client_secret",  # *secret*
        "proxy_password",  # *password*
        "authorization",  # *auth*
        "Auth_Header",
    ],
)
def test_options_named_like_secrets_are_never_stored(name: str) -> None:
    settings = RunSettings(router="anthropic", router_options={name: "s3cret", "temperature": 0.5})
    stored = settings.storable()
    assert stored["router_options"] == {"temperature": 0.5}
    assert "s3cret" not in repr(stored)


def test_credentials_in_option_urls_are_never_stored() -> None:
    options = {
        "base_url": "http://user:pa55@api.internal:8080/v1",
        "limiter_url": "redis://:pa55@redis.internal:6379/0",
        "note": "ops@example.com",
    }
    stored = RunSettings(router="anthropic", router_options=options).storable()
    assert stored["router_options"] == {
        "base_url": "http://api.internal:8080/v1",
        "limiter_url": "redis://redis.internal:6379/0",
        "note": "ops@example.com",
    }
