"""Run both arms of an experiment in one randomised, interleaved order.

Both arms' (case, repeat) items go into one queue: the (case, repeat) keys are shuffled with
the experiment's seed, and each key contributes its control and its treatment item next to
each other, in a coin-flip order. So every pair is attempted close together in time, a drift
in the API (latency, a model update, a rate-limit storm) hits both arms alike, and neither
arm systematically goes first. The order depends only on the seed, so a resumed experiment
continues the same order where it stopped.
"""

from __future__ import annotations

import asyncio
import random
import signal
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from routelens.errors import InputError
from routelens.experiments.arms import load_arm_skills, materialised
from routelens.experiments.model import Arm, ExperimentRecord, ExperimentStatus
from routelens.experiments.storage import require_experiment, save_experiment
from routelens.routers.base import Router
from routelens.routers.registry import RouterContext, make_router
from routelens.runner.engine import AttemptExecutor, AttemptObserver, WorkItem
from routelens.runner.session import (
    RunSettings,
    create_run,
    interrupting_signal,
    sigterm_as_interrupt,
)
from routelens.store.records import RunStatus
from routelens.store.sqlstore import Store
from routelens.suite.cases import load_case_suite
from routelens.suite.models import Case, CaseSuite, SkillSet

EXPERIMENT_LABEL = "experiment"
ARM_LABEL = "arm"


@dataclass(frozen=True)
class ExperimentRunOutcome:
    """How `experiment run` ended: attempts made now, per arm, and whether Ctrl-C stopped it."""

    experiment: ExperimentRecord
    attempts_made: Mapping[Arm, int]
    interrupted_by: signal.Signals | None = None

    @property
    def interrupted(self) -> bool:
        """Whether a signal (Ctrl-C, SIGTERM) stopped it before every attempt ran."""
        return self.interrupted_by is not None


def interleaved_plan(
    cases: Mapping[Arm, Sequence[Case]],
    repeat: int,
    seed: int,
    done: Mapping[Arm, set[tuple[str, int]]],
) -> list[tuple[Arm, WorkItem]]:
    """Every missing (arm, case, repeat), in the experiment's seeded interleaved order."""
    rng = random.Random(seed)
    by_id = {arm: {case.id: case for case in cases[arm]} for arm in Arm}
    keys = [(case.id, r) for r in range(repeat) for case in cases[Arm.CONTROL]]
    rng.shuffle(keys)
    plan: list[tuple[Arm, WorkItem]] = []
    for case_id, repeat_index in keys:
        order = [Arm.CONTROL, Arm.TREATMENT]
        if rng.random() < 0.5:
            order.reverse()
        for arm in order:
            if (case_id, repeat_index) not in done[arm]:
                plan.append((arm, WorkItem(by_id[arm][case_id], repeat_index)))
    return plan


def _settings(record: ExperimentRecord) -> RunSettings:
    return RunSettings(
        router=record.router,
        model=record.model,
        repeat=record.repeat,
        concurrency=record.concurrency,
    )


def _start(
    store: Store,
    record: ExperimentRecord,
    skills: Mapping[Arm, SkillSet],
    routers: Mapping[Arm, Router],
) -> ExperimentRecord:
    """Create both arms' runs (same cases and settings) and mark the experiment running."""
    run_ids: dict[Arm, str] = {}
    for arm in Arm:
        suite = load_case_suite_for(record, skills[arm])
        settings = replace(_settings(record), model=record.model or routers[arm].model)
        run = create_run(
            store,
            skills[arm],
            suite,
            settings,
            labels={EXPERIMENT_LABEL: record.name, ARM_LABEL: str(arm)},
        )
        run_ids[arm] = run.run_id
    started = replace(
        record,
        status=ExperimentStatus.RUNNING,
        started_at=datetime.now(UTC),
        control_run_id=run_ids[Arm.CONTROL],
        treatment_run_id=run_ids[Arm.TREATMENT],
    )
    save_experiment(store, started)
    return started


def load_case_suite_for(record: ExperimentRecord, skills: SkillSet) -> CaseSuite:
    """The experiment's case file, validated against one arm's skills."""
    return load_case_suite(Path(record.cases_path), skills)


def pending_attempts(store: Store, record: ExperimentRecord) -> int:
    """How many attempts `run_experiment` would make now (for a progress bar)."""
    total = 0
    for arm in Arm:
        run_id = record.run_id(arm)
        if run_id is None:
            total += len(load_case_suite(Path(record.cases_path)).cases) * record.repeat
        else:
            expected = len(store.run_cases(run_id)) * record.repeat
            total += max(0, expected - len(store.attempt_keys(run_id)))
    return total


def run_experiment(
    store: Store,
    name: str,
    *,
    router_options: Mapping[str, Any] | None = None,
    pricing: Mapping[str, Mapping[str, Any]] | None = None,
    observer: AttemptObserver | None = None,
) -> ExperimentRunOutcome:
    """Run (or continue) both arms; Ctrl-C leaves both runs `interrupted`, resumable."""
    record = require_experiment(store, name)
    if record.status is ExperimentStatus.CONCLUDED:
        raise InputError(store.display_url, f"experiment {name!r} is concluded", field="status")
    with ExitStack() as cleanup:
        skills = {
            arm: load_arm_skills(
                record.arm(arm), cleanup.enter_context(materialised(record.arm(arm)))
            )
            for arm in Arm
        }
        # one router per arm, so neither arm shares a limiter's or a client's state
        context = RouterContext(concurrency=record.concurrency, pricing=pricing or {})
        routers = {
            arm: make_router(record.router, record.model, router_options, context) for arm in Arm
        }
        if record.control_run_id is None or record.treatment_run_id is None:
            record = _start(store, record, skills, routers)
        executors = {
            arm: _executor(store, record, arm, skills[arm], routers[arm], observer) for arm in Arm
        }
        cases = {
            arm: [
                Case.model_validate(row.definition)
                for row in store.run_cases(executors[arm].run.run_id)
            ]
            for arm in Arm
        }
        done = {arm: store.attempt_keys(executors[arm].run.run_id) for arm in Arm}
        plan = interleaved_plan(cases, record.repeat, record.seed, done)
        stopped_by = _execute(store, executors, plan, record.concurrency)
    made = {arm: executors[arm].attempts_made for arm in Arm}
    return ExperimentRunOutcome(require_experiment(store, name), made, stopped_by)


def _executor(
    store: Store,
    record: ExperimentRecord,
    arm: Arm,
    skills: SkillSet,
    router: Router,
    observer: AttemptObserver | None,
) -> AttemptExecutor:
    run_id = record.run_id(arm)
    run = store.get_run(run_id) if run_id else None
    if run is None:
        raise InputError(store.display_url, f"the {arm} run {run_id!r} is gone", field="run_id")
    previous = store.attempts(run.run_id)
    return AttemptExecutor(
        run=run,
        skills=skills,
        router=router,
        store=store,
        timeout_s=RunSettings().timeout_s,
        first_sequence_number=max((a.sequence_number for a in previous), default=-1) + 1,
        observer=observer,
    )


def _execute(
    store: Store,
    executors: Mapping[Arm, AttemptExecutor],
    plan: list[tuple[Arm, WorkItem]],
    concurrency: int,
) -> signal.Signals | None:
    for executor in executors.values():
        store.set_run_status(executor.run.run_id, RunStatus.RUNNING)
    status = RunStatus.FAILED
    stopped_by: signal.Signals | None = None
    try:
        with sigterm_as_interrupt():
            asyncio.run(_work(executors, plan, concurrency))
        status = RunStatus.COMPLETED
    except KeyboardInterrupt as interrupt:
        status = RunStatus.INTERRUPTED
        stopped_by = interrupting_signal(interrupt)
    finally:
        for executor in executors.values():
            store.set_run_status(executor.run.run_id, status, finished_at=datetime.now(UTC))
    return stopped_by


async def _work(
    executors: Mapping[Arm, AttemptExecutor],
    plan: list[tuple[Arm, WorkItem]],
    concurrency: int,
) -> None:
    queue: asyncio.Queue[tuple[Arm, WorkItem]] = asyncio.Queue()
    for entry in plan:
        queue.put_nowait(entry)

    async def worker(worker_id: int) -> None:
        while True:
            try:
                arm, item = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await executors[arm].attempt(item, worker_id)
            # yield even when the router never awaits, so Ctrl-C stops the run promptly
            await asyncio.sleep(0)
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise asyncio.CancelledError

    try:
        async with asyncio.TaskGroup() as group:
            for worker_id in range(max(1, min(concurrency, len(plan)))):
                group.create_task(worker(worker_id))
    finally:
        for executor in executors.values():
            await executor.router.aclose()
