"""A run from start to end: create it, execute what is missing, close it even on Ctrl-C."""

from __future__ import annotations

import asyncio
import secrets
import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from routelens.errors import InputError
from routelens.routers.base import ReportsRunDetails, Router
from routelens.runner.engine import AttemptExecutor, AttemptObserver, WorkItem, plan_work
from routelens.runner.verdicts import ANY_STEP, FIRST_STEP, VerdictRules, WorkflowRule
from routelens.store.records import RunCaseRecord, RunRecord, RunSkillRecord, RunStatus, Verdict
from routelens.store.sqlstore import Store
from routelens.store.urls import SECRET_NAME_PATTERN, strip_url_credentials
from routelens.suite.git_state import git_state
from routelens.suite.models import Case, CaseSuite, SkillSet
from routelens.suite.skills import load_skill_set

SECRET_KEY_PATTERN = SECRET_NAME_PATTERN


@dataclass(frozen=True)
class RunSettings:
    """How a run executes; kept with the run (without secrets) so it can be resumed alike."""

    router: str = "local"
    model: str | None = None
    repeat: int = 1
    concurrency: int = 4
    timeout_s: float | None = 120.0
    max_cost_usd: float | None = None
    router_options: dict[str, Any] = field(default_factory=dict)
    selection: dict[str, list[str]] = field(default_factory=dict)
    """The `--case/--category/--tag` subset this run is limited to (empty: the whole suite)."""
    workflow_rule: WorkflowRule = ANY_STEP
    include_skipped: bool = False
    skip_invalid_skills: bool = False
    description_overrides: dict[str, str] = field(default_factory=dict)
    trigger_skill: str | None = None
    trigger_threshold: float | None = None

    @property
    def verdict_rules(self) -> VerdictRules:
        """The verdict rules this run judges by."""
        return VerdictRules(workflow=self.workflow_rule)

    def storable(self) -> dict[str, Any]:
        """The settings as stored: router options whose names suggest a secret are dropped,
        and URLs (`base_url`, `limiter_url`) lose their user, password and secret-looking
        query values."""
        settings = asdict(self)
        settings["router_options"] = {
            key: strip_url_credentials(value) if isinstance(value, str) else value
            for key, value in self.router_options.items()
            if not SECRET_KEY_PATTERN.search(key)
        }
        return settings

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> RunSettings:
        """Rebuild settings from a stored run."""
        known = {key: stored[key] for key in cls.__dataclass_fields__ if key in stored}
        # runs recorded before the rule was a setting judged workflows by the first step
        known.setdefault("workflow_rule", FIRST_STEP)
        return cls(**known)


@dataclass(frozen=True)
class RunOutcome:
    """How an execution ended: the run as now stored and how many attempts this call made.

    `interrupted_by` names the signal that stopped it (SIGINT for Ctrl-C, SIGTERM for a
    killed CI job), None when it ran to its end. `pending_shards` names the shards of a
    sharded run still to finish after this one: while there are any, the run is not gated."""

    run: RunRecord
    attempts_made: int
    interrupted: bool
    interrupted_by: signal.Signals | None = None
    pending_shards: tuple[int, ...] = ()


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: stop like Ctrl-C, so the run is left `interrupted` and resumable."""


def interrupting_signal(interrupt: KeyboardInterrupt) -> signal.Signals:
    """SIGTERM for a `Terminated`, else SIGINT (Ctrl-C)."""
    return signal.SIGTERM if isinstance(interrupt, Terminated) else signal.SIGINT


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While a run executes, SIGTERM interrupts it the way Ctrl-C does (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    terminated = False

    def terminate(signum: int, frame: FrameType | None) -> None:
        nonlocal terminated
        terminated = True
        on_interrupt = signal.getsignal(signal.SIGINT)
        if callable(on_interrupt) and on_interrupt is not signal.default_int_handler:
            # inside asyncio.run, its Ctrl-C handler: it cancels the main task so that the
            # loop winds down, then raises KeyboardInterrupt. Raising here instead would end
            # whichever task was running with an exception that asyncio reports on stderr.
            on_interrupt(signal.SIGINT, frame)
            return
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    except KeyboardInterrupt as interrupt:
        if terminated and not isinstance(interrupt, Terminated):
            raise Terminated from None
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


def new_run_id(now: datetime) -> str:
    """A sortable, unique id: `20261125-194859-a1b2c3`."""
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def create_run(
    store: Store,
    skills: SkillSet,
    suite: CaseSuite,
    settings: RunSettings,
    *,
    labels: Mapping[str, str] | None = None,
    environment: str | None = None,
    now: datetime | None = None,
    run_id: str | None = None,
    extra_settings: Mapping[str, Any] | None = None,
) -> RunRecord:
    """Record a new run with the skills and cases it tests; no attempt yet.

    `run_id` names it (else a new id is made); `extra_settings` are stored with its settings.
    ValueError when a run with this id exists."""
    started_at = now or datetime.now(UTC)
    git = git_state(skills.root)
    run = RunRecord(
        run_id=run_id or new_run_id(started_at),
        started_at=started_at,
        router=settings.router,
        model=settings.model,
        skills_hash=skills.skills_hash,
        suite_hash=suite.suite_hash,
        suite_name=suite.name,
        suite_version=suite.version,
        skills_dir=str(skills.root.resolve()),
        cases_path=str(suite.path.resolve()),
        git_commit=git.commit,
        git_branch=git.branch,
        environment=environment,
        labels=dict(labels or {}),
        settings={**settings.storable(), "git_dirty": git.dirty, **(extra_settings or {})},
    )
    skill_rows = [
        RunSkillRecord(
            run_id=run.run_id,
            name=skill.name,
            folder_name=skill.folder_name,
            content_hash=skill.content_hash,
            description=skill.description,
            path=str(skill.path.resolve()),
        )
        for skill in skills.skills
    ]
    case_rows = [
        RunCaseRecord(
            run_id=run.run_id,
            case_id=case.id,
            category=case.category.value,
            position=position,
            definition=case.model_dump(mode="json", exclude_defaults=True),
        )
        for position, case in enumerate(suite.cases)
    ]
    store.create_run(run, skill_rows, case_rows)
    return run


@dataclass(frozen=True)
class ResumableRun:
    """A stored run with what it needs to go on: its skills (unchanged) and its cases."""

    run: RunRecord
    skills: SkillSet
    cases: tuple[Case, ...]
    settings: RunSettings


def load_resumable_run(store: Store, run_id: str, skills_dir: Path | None = None) -> ResumableRun:
    """Reload a run for `--resume`; refuse when its skills changed since it started."""
    run = store.get_run(run_id)
    if run is None:
        raise InputError(store.display_url, f"no run {run_id!r} in this store", field="run_id")
    folder = skills_dir or (Path(run.skills_dir) if run.skills_dir else None)
    if folder is None:
        raise InputError(
            store.display_url, "the run records no skills folder; pass --skills", field="skills_dir"
        )
    settings = RunSettings.from_stored(run.settings)
    skills = load_skill_set(folder, skip_invalid=settings.skip_invalid_skills)
    skills = skills.with_descriptions(settings.description_overrides)
    if skills.skills_hash != run.skills_hash:
        raise InputError(
            folder,
            f"skills changed since run {run_id} started (skills hash "
            f"{run.skills_hash[:12]} → {skills.skills_hash[:12]}); start a new run",
            field="skills_hash",
        )
    cases = tuple(Case.model_validate(row.definition) for row in store.run_cases(run_id))
    return ResumableRun(run, skills, cases, settings)


def execute_run(
    store: Store,
    run: RunRecord,
    skills: SkillSet,
    cases: tuple[Case, ...],
    router: Router,
    settings: RunSettings,
    *,
    retry_errors: bool = False,
    observer: AttemptObserver | None = None,
    expected_attempt_cost_usd: float = 0.0,
) -> RunOutcome:
    """Attempt every (case, repeat) the store lacks; Ctrl-C leaves the run `interrupted`.

    `expected_attempt_cost_usd` (what an attempt cost in an earlier run alike) lets the budget
    guard hold back from the first attempt, before this run has measured any."""
    keep = {Verdict.PASS, Verdict.FAIL} if retry_errors else None
    done = store.attempt_keys(run.run_id, keep)
    items = plan_work(cases, settings.repeat, done, include_skipped=settings.include_skipped)
    store.set_run_status(run.run_id, RunStatus.RUNNING)
    ran = ItemsOutcome(RunStatus.FAILED, 0)
    try:
        ran = execute_items(
            store,
            run,
            skills,
            router,
            settings,
            items,
            replace=retry_errors,
            observer=observer,
            expected_attempt_cost_usd=expected_attempt_cost_usd,
        )
    finally:
        store.set_run_status(run.run_id, ran.status, finished_at=datetime.now(UTC))
        _record_router_details(store, run.run_id, router)
    return ran.outcome(store, run)


def _record_router_details(store: Store, run_id: str, router: Router) -> None:
    """What the router learnt about itself (a CLI's version) goes into the run's settings."""
    if not isinstance(router, ReportsRunDetails):
        return
    details = dict(router.run_details())
    if not details:
        return
    from routelens.store.run_progress import SettingsChange, update_run_settings

    update_run_settings(
        store, run_id, lambda settings, status: (SettingsChange({**settings, **details}), None)
    )


@dataclass(frozen=True)
class ItemsOutcome:
    """How executing some items of a run ended: the status it calls for, attempts made, and
    the signal that stopped it."""

    status: RunStatus
    attempts_made: int
    interrupted_by: signal.Signals | None = None

    def outcome(self, store: Store, run: RunRecord) -> RunOutcome:
        """The `RunOutcome`, with the run as the store now holds it."""
        final = store.get_run(run.run_id) or replace(run, status=self.status)
        interrupted = self.status is RunStatus.INTERRUPTED
        return RunOutcome(final, self.attempts_made, interrupted, self.interrupted_by)


def execute_items(
    store: Store,
    run: RunRecord,
    skills: SkillSet,
    router: Router,
    settings: RunSettings,
    items: list[WorkItem],
    *,
    replace: bool = False,
    observer: AttemptObserver | None = None,
    expected_attempt_cost_usd: float = 0.0,
) -> ItemsOutcome:
    """Attempt `items` and close `router`; the run's status is the caller's to write.

    Ctrl-C (or SIGTERM) ends it as `interrupted`; `replace` overwrites stored attempts."""
    previous = store.attempts(run.run_id)
    executor = AttemptExecutor(
        run=run,
        skills=skills,
        router=router,
        store=store,
        timeout_s=settings.timeout_s,
        first_sequence_number=max((a.sequence_number for a in previous), default=-1) + 1,
        observer=observer,
        replace_existing=replace,
        max_cost_usd=settings.max_cost_usd,
        spent_usd=sum(a.cost_usd for a in previous),
        largest_attempt_cost_usd=max(
            (a.cost_usd for a in previous), default=expected_attempt_cost_usd
        ),
        rules=settings.verdict_rules,
    )
    try:
        with sigterm_as_interrupt():
            asyncio.run(_execute(executor, items, settings.concurrency, router))
    except KeyboardInterrupt as interrupt:
        return ItemsOutcome(
            RunStatus.INTERRUPTED, executor.attempts_made, interrupting_signal(interrupt)
        )
    if executor.stopped_by_budget:
        return ItemsOutcome(RunStatus.STOPPED_BY_BUDGET, executor.attempts_made)
    return ItemsOutcome(RunStatus.COMPLETED, executor.attempts_made)


async def _execute(
    executor: AttemptExecutor, items: list[WorkItem], concurrency: int, router: Router
) -> None:
    try:
        await executor.run_all(items, concurrency)
    finally:
        await router.aclose()
