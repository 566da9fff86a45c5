"""The worker side of a queued run: take `WorkOrder`s off the queue, attempt, store.

A worker knows only the queue and its store. For each run it first meets, it rebuilds what
`--resume` would (`prepare_resumed_run`): the cases stored with the run, the run's router
with the router options the run recorded (secrets were never recorded: API keys come from
the worker's own environment and config, and `--router-option` overrides per worker), and
the skills, checked against the run's skills hash. Skills come from `--skills DIR`, else the
folder the run recorded when this machine has it, else the SKILL.md texts the submitter put
in Redis (`suite.skill_texts`).

An order is skipped, without calling any router, when its run is no longer `running`, when
its submission is not the run's current one, or when the store already has its attempt
(a second delivery after a worker died): each (case, repeat) is attempted and stored once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from routelens.config import RoutelensConfig
from routelens.errors import InputError
from routelens.runner.engine import AttemptExecutor, WorkItem
from routelens.runner.launch import PreparedRun, RunFlags, prepare_resumed_run
from routelens.runner.queue_broker import (
    ACTOR_NAME,
    DEFAULT_HEARTBEAT_TIMEOUT_S,
    QUEUE_NAME,
    WorkOrder,
    connect,
    fetch_skill_texts,
)
from routelens.runner.queue_submit import QUEUE_SETTING, order_done
from routelens.runner.session import RunSettings
from routelens.store.records import RunRecord, RunStatus
from routelens.store.run_progress import attempt_state
from routelens.store.sqlstore import Store
from routelens.suite.models import SkillSet
from routelens.suite.skill_texts import write_skill_texts
from routelens.suite.skills import load_skill_set

logger = logging.getLogger("routelens.worker")

STOP_GRACE_S = 600.0
"""How long a stopping worker waits for the attempts it has started."""


class SkillsUnavailable(RuntimeError):
    """No skills folder here matches the run, and Redis holds no copy: retried, then
    dead-lettered (pass `routelens worker --skills DIR`)."""


@dataclass
class WorkerContext:
    """What one worker process shares across the orders it handles: the store, its config,
    the runs it has prepared (router built once per run) and where copied skills go."""

    store: Store
    config: RoutelensConfig
    concurrency: int
    skills_dir: Path | None = None
    router_options: Mapping[str, Any] = field(default_factory=dict)
    broker: Any = None
    """The Dramatiq broker, to read the skills the submitter published."""
    cache_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="routelens-")))
    worker_id: int = field(default_factory=os.getpid)

    def __post_init__(self) -> None:
        self._prepared: dict[str, PreparedRun] = {}
        self._lock = asyncio.Lock()

    async def handle(self, order: WorkOrder) -> str:
        """Attempt and store one order, or skip it; returns what happened, for the log."""
        run = self.store.get_run(order.run_id)
        if run is None:
            raise LookupError(f"no run {order.run_id!r} in {self.store.display_url}")
        reason = _skip_reason(run, order)
        if reason is None and order_done(order, attempt_state(self.store, run.run_id, order.key)):
            reason = "already stored"
        if reason is not None:
            return f"skipped ({reason})"
        prepared = await self._prepare(run)
        case = next((c for c in prepared.cases if c.id == order.case_id), None)
        if case is None or prepared.router is None:
            raise LookupError(f"run {run.run_id} has no case {order.case_id!r}")
        executor = AttemptExecutor(
            run=prepared.run,
            skills=prepared.skills,
            router=prepared.router,
            store=self.store,
            timeout_s=prepared.settings.timeout_s,
            replace_existing=order.replace,
            rules=prepared.settings.verdict_rules,
        )
        item = WorkItem(case, order.repeat_index, order.sequence_number)
        attempt = await executor.attempt(item, self.worker_id)
        return str(attempt.verdict)

    async def _prepare(self, run: RunRecord) -> PreparedRun:
        async with self._lock:
            if run.run_id not in self._prepared:
                flags = RunFlags(
                    skills=self._skills_folder(run),
                    router_options=self.router_options,
                    concurrency=self.concurrency,
                )
                prepared = prepare_resumed_run(self.store, self.config, run.run_id, flags)
                self._prepared[run.run_id] = prepared
            return self._prepared[run.run_id]

    def _skills_folder(self, run: RunRecord) -> Path:
        """A folder holding exactly the run's skills (by skills hash)."""
        for folder in (self.skills_dir, Path(run.skills_dir) if run.skills_dir else None):
            if folder is not None and folder.exists() and _hash_of(folder, run) == run.skills_hash:
                return folder
        copied = self.cache_dir / run.skills_hash
        if copied.exists() and _hash_of(copied, run) == run.skills_hash:
            return copied
        files = fetch_skill_texts(self.broker, run.skills_hash) if self.broker else None
        if files is not None:
            shutil.rmtree(copied, ignore_errors=True)  # a copy that did not match
            write_skill_texts(files, copied)
            if _hash_of(copied, run) == run.skills_hash:
                return copied
        raise SkillsUnavailable(
            f"run {run.run_id}: no skills folder with skills hash {run.skills_hash[:12]} here "
            f"and no copy in Redis; pass --skills DIR"
        )

    async def aclose(self) -> None:
        """Close every router this worker built."""
        for prepared in self._prepared.values():
            if prepared.router is not None:
                await prepared.router.aclose()
        self._prepared.clear()


def _hash_of(folder: Path, run: RunRecord) -> str | None:
    """The skills hash of `folder` loaded as the run loads its skills (`--resume`: invalid
    skills left out when it did so, its description overrides applied)."""
    settings = RunSettings.from_stored(run.settings)
    try:
        skills: SkillSet = load_skill_set(folder, skip_invalid=settings.skip_invalid_skills)
        skills = skills.with_descriptions(settings.description_overrides)
    except InputError:
        return None
    return skills.skills_hash


def _skip_reason(run: RunRecord, order: WorkOrder) -> str | None:
    """Why the order is no longer wanted, or None."""
    if run.status is not RunStatus.RUNNING:
        return f"run is {run.status}"
    if (run.settings.get(QUEUE_SETTING) or {}).get("submission") != order.submission:
        return "from an earlier submission"
    return None


def serve(
    url: str,
    context: WorkerContext,
    stop: threading.Event,
    *,
    heartbeat_timeout_s: float = DEFAULT_HEARTBEAT_TIMEOUT_S,
) -> None:
    """Consume orders with `context.concurrency` threads until `stop` is set, then finish
    the attempts under way, put back the orders not started, and close the routers."""
    import dramatiq
    from dramatiq.asyncio import get_event_loop_thread
    from dramatiq.middleware import Middleware

    class CloseRouters(Middleware):
        """Closes the routers on the event loop, after the last attempt, before it stops."""

        def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
            loop_thread = get_event_loop_thread()
            if loop_thread is not None:
                loop_thread.run_coroutine(context.aclose())

    broker = connect(
        url, heartbeat_timeout_s=heartbeat_timeout_s, worker_middleware=[CloseRouters()]
    )
    context.broker = broker

    async def attempt(**fields: Any) -> None:
        order = WorkOrder(**fields)
        outcome = await context.handle(order)
        logger.info("%s %s #%d: %s", order.run_id, order.case_id, order.repeat_index, outcome)

    dramatiq.actor(broker=broker, actor_name=ACTOR_NAME, queue_name=QUEUE_NAME)(attempt)
    worker = dramatiq.Worker(broker, worker_threads=context.concurrency)
    worker.start()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        worker.stop(timeout=int(STOP_GRACE_S * 1000))
        broker.close()
