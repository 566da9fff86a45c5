"""NUL characters never reach the store: replaced (and flagged on attempts), on both backends.

PostgreSQL's text type cannot hold NUL; before, a response with one ended the run with
`psycopg.DataError` in a traceback. Runs on SQLite, and on PostgreSQL when configured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from routelens.routers.base import RetryEvent, RouteRequest, RouteResult
from routelens.routers.function import FunctionRouter
from routelens.runner.session import RunSettings, create_run, execute_run
from routelens.store import (
    AttemptRecord,
    ImportSummary,
    RunCaseRecord,
    RunRecord,
    RunStatus,
    Store,
    export_run_jsonl,
    import_jsonl,
)
from routelens.store.nul_text import attempt_without_nul, record_without_nul, replace_nul
from routelens.suite.models import CaseSuite, SkillSet

StoreFactory = Callable[[], Store]


def test_replace_nul_only_touches_nul() -> None:
    assert replace_nul("a\x00b\x00") == "a\ufffdb\ufffd"
    assert replace_nul("plain") == "plain"


def test_an_attempt_is_flagged_only_when_something_was_replaced(
    make_attempt: Callable[..., AttemptRecord],
) -> None:
    clean = make_attempt("a", 0)
    assert attempt_without_nul(clean) is clean
    dirty = make_attempt(
        "a",
        0,
        response_text="ok\x00",
        error_message="e\x00",
        retry_log=(RetryEvent("rate\x00limit", 429, 1.0),),
    )
    cleaned = attempt_without_nul(dirty)
    assert (cleaned.response_text, cleaned.error_message, cleaned.nul_replaced) == (
        "ok\ufffd",
        "e\ufffd",
        True,
    )
    assert cleaned.retry_log == (RetryEvent("rate\ufffdlimit", 429, 1.0),)


def test_a_response_with_nul_is_recorded_replaced_and_flagged_and_travels(
    store_factory: StoreFactory,
    make_run: Callable[..., RunRecord],
    make_attempt: Callable[..., AttemptRecord],
    tmp_path: Path,
) -> None:
    store = store_factory()
    store.create_run(
        make_run(labels={"team": "q\x00a"}),
        [],
        [RunCaseRecord("run-1", "a", "direct", 0, {"id": "a", "notes": "n\x00"})],
    )
    assert store.record_attempt(make_attempt("a", 0, response_text="I'll \x00 deploy"))
    [stored] = store.attempts("run-1")
    assert (stored.response_text, stored.nul_replaced) == ("I'll \ufffd deploy", True)
    run = store.get_run("run-1")
    assert run is not None
    assert run.labels == {"team": "q\ufffda"}
    assert store.run_cases("run-1")[0].definition == {"id": "a", "notes": "n\ufffd"}
    bundle = tmp_path / "nul.jsonl"
    export_run_jsonl(store, "run-1", bundle)
    other = store_factory()
    assert import_jsonl(other, bundle) == ImportSummary(1, 1, 0)
    assert other.attempts("run-1") == [stored]


def test_record_without_nul_leaves_clean_records_alone(
    make_run: Callable[..., RunRecord],
) -> None:
    run = make_run()
    assert record_without_nul(run) == (run, False)
    assert record_without_nul(replace(run, suite_name="x\x00")) == (
        replace(run, suite_name="x\ufffd"),
        True,
    )


def test_a_run_whose_router_answers_with_nul_completes_on_every_backend(
    store_factory: StoreFactory, small_skills: SkillSet, small_suite: CaseSuite
) -> None:
    store = store_factory()
    settings = RunSettings(router="function", repeat=1)
    run = create_run(store, small_skills, small_suite, settings)

    def answer(request: RouteRequest) -> RouteResult:
        return RouteResult(skill="jira-issue", response_text="routing \x00 to jira-issue")

    outcome = execute_run(
        store, run, small_skills, small_suite.cases, FunctionRouter(answer), settings
    )
    assert outcome.run.status is RunStatus.COMPLETED
    attempts = store.attempts(run.run_id)
    assert len(attempts) == 4
    assert {(a.response_text, a.nul_replaced) for a in attempts} == {
        ("routing \ufffd to jira-issue", True)
    }
