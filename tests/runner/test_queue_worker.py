"""One worker's handling of orders, in process, on a real Redis and store: what it attempts,
what it skips without calling a router, and where it finds a run's skills."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from routelens.config import RoutelensConfig
from routelens.runner.queue_broker import WorkOrder, connect, publish_skill_texts
from routelens.runner.queue_submit import mark_submission
from routelens.runner.queue_worker import SkillsUnavailable, WorkerContext
from routelens.runner.session import RunSettings, create_run
from routelens.store import RunStatus, Store, Verdict, open_store
from routelens.suite.cases import load_case_suite
from routelens.suite.skill_texts import skill_texts
from routelens.suite.skills import load_skill_set
from tests.conftest import write_skill
from tests.factories import make_attempt

TOKEN = "submission-1"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "store.sqlite") as opened:
        yield opened


def _queued_run(store: Store, skills_dir: Path, cases_file: Path, executor: str) -> str:
    skills = load_skill_set(skills_dir)
    suite = load_case_suite(cases_file, skills)
    run = create_run(store, skills, suite, RunSettings(router="local", repeat=2))
    mark_submission(store, run.run_id, TOKEN, executor)
    return run.run_id


def _context(store: Store, redis_url: str, **changes: object) -> WorkerContext:
    return WorkerContext(
        store=store,
        config=RoutelensConfig(),
        concurrency=2,
        broker=connect(redis_url),
        **changes,  # type: ignore[arg-type]
    )


def _handle(context: WorkerContext, order: WorkOrder) -> str:
    return asyncio.run(context.handle(order))


def test_an_order_is_attempted_once_and_later_deliveries_are_skipped(
    store: Store, skills_dir: Path, cases_file: Path, redis_url: str
) -> None:
    run_id = _queued_run(store, skills_dir, cases_file, redis_url)
    context = _context(store, redis_url)
    order = WorkOrder(run_id, "C1", 1, sequence_number=5, submission=TOKEN)

    assert _handle(context, order) == "pass"
    (attempt,) = store.attempts(run_id)
    assert (attempt.case_id, attempt.repeat_index, attempt.sequence_number) == ("C1", 1, 5)
    assert attempt.actual_skill == "jira-issue"
    assert attempt.worker_id == context.worker_id

    # a second delivery (its first worker died after storing) writes nothing
    assert _handle(context, order) == "skipped (already stored)"
    stale = WorkOrder(run_id, "C2", 0, sequence_number=6, submission="an-older-one")
    assert _handle(context, stale) == "skipped (from an earlier submission)"
    store.set_run_status(run_id, RunStatus.INTERRUPTED)
    fresh = WorkOrder(run_id, "C2", 0, sequence_number=6, submission=TOKEN)
    assert _handle(context, fresh) == "skipped (run is interrupted)"
    assert [a.case_id for a in store.attempts(run_id)] == ["C1"]
    asyncio.run(context.aclose())


def test_an_order_to_redo_an_error_replaces_it_once(
    store: Store, skills_dir: Path, cases_file: Path, redis_url: str
) -> None:
    run_id = _queued_run(store, skills_dir, cases_file, redis_url)
    store.record_attempt(make_attempt("C2", Verdict.ERROR, run_id=run_id, sequence_number=0))
    context = _context(store, redis_url)
    redo = WorkOrder(run_id, "C2", 0, sequence_number=9, submission=TOKEN, replace=True)

    assert _handle(context, redo) == "pass"
    (attempt,) = store.attempts(run_id)
    assert (attempt.verdict, attempt.sequence_number) == (Verdict.PASS, 9)
    assert _handle(context, redo) == "skipped (already stored)"
    asyncio.run(context.aclose())


def test_a_worker_without_the_folder_rebuilds_the_skills_from_redis(
    store: Store, skills_dir: Path, cases_file: Path, redis_url: str, tmp_path: Path
) -> None:
    run_id = _queued_run(store, skills_dir, cases_file, redis_url)
    files = skill_texts(load_skill_set(skills_dir))
    run = store.get_run(run_id)
    assert run is not None
    shutil.rmtree(skills_dir)  # the run's recorded folder is not on this machine
    order = WorkOrder(run_id, "C2", 0, sequence_number=0, submission=TOKEN)

    with pytest.raises(SkillsUnavailable, match="pass --skills DIR"):
        _handle(_context(store, redis_url), order)

    edited = {name: text + "\nedited\n" for name, text in files.items()}
    publish_skill_texts(connect(redis_url), run.skills_hash, edited)
    with pytest.raises(SkillsUnavailable):  # a copy that is not the run's skills is refused
        _handle(_context(store, redis_url, cache_dir=tmp_path / "edited"), order)

    publish_skill_texts(connect(redis_url), run.skills_hash, files)
    # a --skills folder that holds other skills is passed over for the published copy
    other = tmp_path / "other-skills"
    write_skill(other, "deploy", "deploy-app", "Deploy the app.")
    context = _context(store, redis_url, skills_dir=other, cache_dir=tmp_path / "cache")
    assert _handle(context, order) == "pass"
    assert store.attempts(run_id)[0].actual_skill == "jira-search"
    assert (tmp_path / "cache" / run.skills_hash / "search" / "SKILL.md").exists()
    asyncio.run(context.aclose())


def test_an_order_for_a_run_this_store_lacks_fails_so_the_queue_retries_it(
    store: Store, redis_url: str
) -> None:
    order = WorkOrder("not-here", "C1", 0, sequence_number=0, submission=TOKEN)
    with pytest.raises(LookupError, match="no run 'not-here'"):
        _handle(_context(store, redis_url), order)
