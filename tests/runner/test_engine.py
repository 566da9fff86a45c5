"""The executor: plan order, concurrency, error capture, and one store write per attempt."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from routelens.routers.base import RouteRequest, RouterError, RouteResult
from routelens.routers.function import FunctionRouter
from routelens.runner.engine import AttemptExecutor, plan_work
from routelens.runner.session import RunSettings, create_run
from routelens.store import Store, Verdict, open_store
from routelens.suite.models import CaseSuite, SkillSet


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(tmp_path / "store.sqlite")


def test_plan_interleaves_repeats_and_skips_what_is_done(small_suite: CaseSuite) -> None:
    items = plan_work(small_suite.cases, 2, {("C2", 0), ("C1", 1)})
    assert [(i.case.id, i.repeat_index) for i in items] == [
        ("C1", 0),
        ("C3", 0),
        ("C4", 0),
        ("C2", 1),
        ("C3", 1),
        ("C4", 1),
    ]


def _executor(
    store: Store,
    skills: SkillSet,
    suite: CaseSuite,
    router: FunctionRouter,
    timeout_s: float | None = None,
) -> AttemptExecutor:
    run = create_run(store, skills, suite, RunSettings(router="function"))
    return AttemptExecutor(run=run, skills=skills, router=router, store=store, timeout_s=timeout_s)


def test_concurrency_is_bounded_and_every_attempt_is_recorded_once(
    store: Store, small_skills: SkillSet, small_suite: CaseSuite
) -> None:
    in_flight = 0
    peak = 0

    async def answer(request: RouteRequest) -> str:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return "jira-issue"

    executor = _executor(store, small_skills, small_suite, FunctionRouter(answer))
    asyncio.run(executor.run_all(plan_work(small_suite.cases, 5, set()), concurrency=3))
    recorded = store.attempts(executor.run.run_id)
    assert peak == 3
    assert len(recorded) == 20
    assert sorted(a.sequence_number for a in recorded) == list(range(20))
    assert {a.worker_id for a in recorded} == {0, 1, 2}
    assert len({(a.case_id, a.repeat_index) for a in recorded}) == 20


def test_router_failures_become_error_attempts_with_their_type(
    store: Store, small_skills: SkillSet, small_suite: CaseSuite
) -> None:
    async def answer(request: RouteRequest) -> RouteResult:
        if request.case_id == "C1":
            raise RouterError(
                "overloaded",
                error_type="overloaded_error",
                http_status=529,
                retries=3,
                retry_wait_s=1.5,
            )
        if request.case_id == "C2":
            raise ValueError("router bug")
        if request.case_id == "C3":
            await asyncio.sleep(5)
        return RouteResult(skill=None, asked_clarification=True)

    executor = _executor(store, small_skills, small_suite, FunctionRouter(answer), timeout_s=0.05)
    asyncio.run(executor.run_all(plan_work(small_suite.cases, 1, set()), concurrency=4))
    by_case = {a.case_id: a for a in store.attempts(executor.run.run_id)}
    assert by_case["C1"].verdict is Verdict.ERROR
    assert (by_case["C1"].error_type, by_case["C1"].http_status, by_case["C1"].retries) == (
        "overloaded_error",
        529,
        3,
    )
    assert by_case["C1"].retry_wait_s == 1.5
    assert (by_case["C2"].error_type, by_case["C2"].error_message) == ("ValueError", "router bug")
    assert by_case["C3"].error_type == "timeout"
    assert by_case["C4"].verdict is Verdict.PASS  # null expected, the router asked


def test_attempts_carry_usage_scores_and_skill_hashes(
    store: Store, small_skills: SkillSet, small_suite: CaseSuite
) -> None:
    from routelens.routers.base import TokenUsage

    result = RouteResult(
        skill="issue",
        tokens=TokenUsage(100, 5, 80, 20),
        cost_usd=0.002,
        http_status=200,
        response_model="m-1",
        confidence=0.9,
    )
    executor = _executor(store, small_skills, small_suite, FunctionRouter(lambda r: result))
    asyncio.run(executor.run_all(plan_work(small_suite.cases[:1], 1, set()), concurrency=1))
    (attempt,) = store.attempts(executor.run.run_id)
    issue = small_skills.resolve("jira-issue")
    assert issue is not None
    assert attempt.actual_skill == "jira-issue"  # the folder name is canonicalised
    assert attempt.verdict is Verdict.PASS
    assert (
        attempt.input_tokens,
        attempt.output_tokens,
        attempt.cache_read_tokens,
        attempt.cache_write_tokens,
    ) == (100, 5, 80, 20)
    assert attempt.cost_usd == 0.002
    assert attempt.confidence == 0.9
    assert attempt.expected_skill_hash == attempt.actual_skill_hash == issue.content_hash
    assert attempt.started_at <= attempt.finished_at
