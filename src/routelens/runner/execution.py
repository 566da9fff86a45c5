"""Execute a prepared run where its distribution says: here, as one shard, or on a queue."""

from __future__ import annotations

from routelens.runner.engine import AttemptObserver, WorkItem, plan_work
from routelens.runner.launch import PreparedRun
from routelens.runner.session import RunOutcome, execute_run
from routelens.runner.shards import execute_shard, shard_work
from routelens.store.records import Verdict
from routelens.store.sqlstore import Store


def pending_work(store: Store, prepared: PreparedRun, *, retry_errors: bool) -> list[WorkItem]:
    """The items this process will attempt or wait for (what its progress bar counts)."""
    run_id, settings = prepared.run.run_id, prepared.settings
    keep = {Verdict.PASS, Verdict.FAIL} if retry_errors else None
    done = store.attempt_keys(run_id, keep)
    shard = prepared.distribution.shard
    every = settings.include_skipped
    if shard is not None:
        return shard_work(prepared.cases, settings.repeat, shard, done, include_skipped=every)
    return plan_work(prepared.cases, settings.repeat, done, include_skipped=every)


def execute_prepared(
    store: Store,
    prepared: PreparedRun,
    *,
    retry_errors: bool = False,
    observer: AttemptObserver | None = None,
) -> RunOutcome:
    """Run what `prepared` is missing: on queue workers (`--executor`), as its shard
    (`--shard`), or here."""
    if prepared.distribution.executor is not None:
        from routelens.runner.queue_submit import execute_queued_run

        return execute_queued_run(store, prepared, retry_errors=retry_errors, observer=observer)
    if prepared.distribution.shard is not None:
        return execute_shard(store, prepared, prepared.distribution.shard, observer=observer)
    assert prepared.router is not None, "a run executed here has its router"
    return execute_run(
        store,
        prepared.run,
        prepared.skills,
        prepared.cases,
        prepared.router,
        prepared.settings,
        retry_errors=retry_errors,
        observer=observer,
    )
