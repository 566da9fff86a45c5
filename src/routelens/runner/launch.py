"""Turn flags and config into a ready run: new (load, validate, record) or resumed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from routelens.analytics.trigger_rate import DEFAULT_THRESHOLD
from routelens.config import RoutelensConfig
from routelens.errors import InputError
from routelens.routers.base import Router
from routelens.routers.claude_code_prompt import (
    LOADED_TEMPLATE_OPTION,
    TEMPLATE_OPTION,
    ClaudeCodePrompt,
    wants_claude_code_prompt,
)
from routelens.routers.registry import RouterContext, make_router
from routelens.runner.engine import plan_work
from routelens.runner.session import RunSettings, create_run, load_resumable_run
from routelens.runner.shards import ShardedRunPlan, ShardSpec, check_run_id, create_or_join
from routelens.store.claude_prompts import find_claude_prompt
from routelens.store.records import RunRecord
from routelens.store.sqlstore import Store, open_store
from routelens.suite.models import Case, CaseSuite, SkillSet
from routelens.suite.problems import Problem
from routelens.suite.selection import CaseSelection, select_cases
from routelens.suite.suite_check import load_suite

RETRYING_ROUTERS = ("anthropic", "openai", "claude-code")
"""Routers that retry failed API calls themselves, and so take `--max-retries`."""


@dataclass(frozen=True)
class Distribution:
    """Where a run's attempts execute: here (the default), as one static shard of N
    (`--shard I/N --run-id ID`), or on queue workers (`--executor redis://...`)."""

    shard: ShardSpec | None = None
    run_id: str | None = None
    executor: str | None = None
    max_wait_s: float | None = None
    """How long a queued run's submitter waits for the workers (None: until done)."""

    def check(self, *, max_cost_usd: float | None, resuming: bool) -> None:
        """Refuse combinations that cannot work, before anything is recorded."""
        if self.shard is not None and self.run_id is None:
            raise InputError("--shard", "needs --run-id: every shard names the run it joins")
        if self.shard is not None and (self.executor is not None or resuming):
            other = "--executor" if self.executor is not None else "--resume"
            raise InputError("--shard", f"cannot be combined with {other}")
        if self.run_id is not None:
            check_run_id(self.run_id)
            if resuming:
                raise InputError("--run-id", "names a new run; --resume already names one")
        if self.max_wait_s is not None and self.executor is None:
            raise InputError("--max-wait", "only applies with --executor")
        if max_cost_usd is not None and (self.shard is not None or self.executor is not None):
            raise InputError(
                "--max-cost",
                "the budget is enforced by one process; shards and queue workers each see "
                "only part of the run, so run without --shard/--executor to use it",
            )
        if self.executor is not None:
            from routelens.runner.queue_broker import check_executor

            check_executor(self.executor)


@dataclass(frozen=True)
class RunFlags:
    """What the command line asked for; None means 'take it from the config'."""

    skills: Path | None = None
    cases: Path | None = None
    router: str | None = None
    model: str | None = None
    repeat: int | None = None
    concurrency: int | None = None
    timeout_s: float | None = None
    max_cost_usd: float | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    environment: str | None = None
    router_options: Mapping[str, Any] = field(default_factory=dict)
    trigger_skill: str | None = None
    selection: CaseSelection = field(default_factory=CaseSelection)
    max_retries: int | None = None
    trigger_threshold: float | None = None
    include_skipped: bool = False
    skip_invalid_skills: bool = False
    strict: bool = False
    descriptions: Mapping[str, str] = field(default_factory=dict)
    distribution: Distribution = field(default_factory=Distribution)


@dataclass(frozen=True)
class PreparedRun:
    """A recorded run with everything needed to execute what it is missing.

    `router` is None when queue workers route its items (each builds its own)."""

    run: RunRecord
    skills: SkillSet
    cases: tuple[Case, ...]
    settings: RunSettings
    router: Router | None
    distribution: Distribution = field(default_factory=Distribution)


def _required(value: Path | None, flag: str) -> Path:
    if value is None:
        raise InputError(
            "routelens run",
            f"{flag} is required (or set it in routelens.toml)",
            field=flag.removeprefix("--"),
        )
    return value


def _router(settings: RunSettings, options: Mapping[str, Any], config: RoutelensConfig) -> Router:
    context = RouterContext(concurrency=settings.concurrency, pricing=config.pricing)
    return make_router(settings.router, settings.model, options, context)


@dataclass(frozen=True)
class NewRunPlan:
    """A new run, validated and with its router built, not yet recorded in any store."""

    skills: SkillSet
    suite: CaseSuite
    settings: RunSettings
    router: Router | None
    """None for a queued run: its workers build the router, with their own keys."""
    labels: Mapping[str, str]
    environment: str | None
    notes: tuple[str, ...] = ()
    """Things worth saying before the run starts (a flag that does not apply, say)."""
    distribution: Distribution = field(default_factory=Distribution)

    @property
    def warnings(self) -> list[Problem]:
        """What loading the skills and cases warned about, for the command to print."""
        return [*self.skills.problems, *self.suite.problems]


def plan_new_run(
    config: RoutelensConfig,
    flags: RunFlags,
    store_url: str | None = None,
    *,
    store: Store | None = None,
) -> NewRunPlan:
    """Load and validate skills and cases and build the router; nothing is written yet.

    Everything a user can get wrong fails here, before a store is created or touched. A
    captured Claude Code prompt (`prompt=claude-code`) is read from `store_url`, read-only.
    A queued run (`--executor`) builds no router here: the submitter needs no API key.
    """
    flags.distribution.check(max_cost_usd=flags.max_cost_usd, resuming=False)
    skills, suite = load_suite(
        _required(flags.skills or config.skills, "--skills"),
        _required(flags.cases or config.cases, "--cases"),
        trigger_skill=flags.trigger_skill,
        skip_invalid=flags.skip_invalid_skills,
        strict=flags.strict or config.case_settings.strict,
        descriptions=flags.descriptions,
    )
    assert suite is not None
    if flags.trigger_threshold is not None and suite.trigger_skill is None:
        raise InputError(
            suite.path,
            "--trigger-threshold is only for a trigger eval set (with --trigger-skill); "
            "this is a golden set",
            field="trigger_threshold",
        )
    suite = select_cases(suite, flags.selection)
    router_name = flags.router or config.router
    router_options = {**config.options_for(router_name), **flags.router_options}
    notes: list[str] = []
    if flags.max_retries is not None:
        if router_name in RETRYING_ROUTERS:
            router_options["max_retries"] = flags.max_retries
        else:
            notes.append(
                f"--max-retries applies to the {', '.join(RETRYING_ROUTERS)} routers; "
                f"the {router_name} router does its own error handling, so it is ignored"
            )
    model = flags.model or config.model
    recorded, router_options = _with_prompt_from(
        store or store_url, router_name, router_options, model
    )
    settings = RunSettings(
        router=router_name,
        model=model,
        repeat=flags.repeat or config.repeat,
        concurrency=flags.concurrency or config.concurrency,
        timeout_s=flags.timeout_s or config.timeout_s,
        max_cost_usd=flags.max_cost_usd if flags.max_cost_usd is not None else config.max_cost_usd,
        router_options=recorded,
        selection=flags.selection.as_dict() if flags.selection else {},
        workflow_rule=config.verdicts.workflow,
        include_skipped=flags.include_skipped,
        skip_invalid_skills=flags.skip_invalid_skills,
        description_overrides=dict(flags.descriptions),
        trigger_skill=suite.trigger_skill,
        trigger_threshold=(
            None
            if suite.trigger_skill is None
            else flags.trigger_threshold
            if flags.trigger_threshold is not None
            else DEFAULT_THRESHOLD
        ),
    )
    router = None
    if flags.distribution.executor is None:
        router = _router(settings, router_options, config)
        settings = replace(settings, model=settings.model or router.model)
    return NewRunPlan(
        skills=skills,
        suite=suite,
        settings=settings,
        router=router,
        labels={**config.labels, **flags.labels},
        environment=flags.environment or config.environment,
        notes=tuple(notes),
        distribution=flags.distribution,
    )


def _with_prompt_from(
    source: Store | str | None, router: str, options: dict[str, Any], model: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    if router != "anthropic" or not wants_claude_code_prompt(options):
        return options, options
    if source is None:
        raise InputError(
            "--router-option", "prompt=claude-code needs the store holding the captured prompt"
        )
    if isinstance(source, Store):
        return with_claude_code_prompt(source, router, options, model)
    try:
        store = open_store(source, access="read")
    except InputError as error:
        raise InputError(
            error.source,
            f"{error.message}; no captured Claude Code prompt can be read from it: run "
            "`routelens claude-prompt capture --skills DIR` with the same --store first",
            field=TEMPLATE_OPTION,
        ) from None
    with store:
        return with_claude_code_prompt(store, router, options, model)


def with_claude_code_prompt(
    store: Store, router: str, options: Mapping[str, Any], model: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(options to record on the run, options for the router) when `prompt=claude-code` asks
    for a captured prompt: the run records its template hash, the router gets the template.

    The template is the one `template=<hash prefix>` names, else the newest for `model`.
    """
    if router != "anthropic" or not wants_claude_code_prompt(options):
        return dict(options), dict(options)
    prefix = options.get(TEMPLATE_OPTION)
    stored = find_claude_prompt(
        store, hash_prefix=str(prefix) if prefix else None, model=None if prefix else model
    )
    if stored is None:
        wanted = f"template {prefix}" if prefix else f"a prompt for {model or 'any model'}"
        raise InputError(
            store.display_url,
            f"no captured Claude Code prompt ({wanted}) in this store: run `routelens "
            f"claude-prompt capture --skills DIR` with the same --store first",
            field=TEMPLATE_OPTION,
        )
    recorded = {**options, TEMPLATE_OPTION: stored.template_hash}
    loaded = ClaudeCodePrompt.from_json(stored.template)
    return recorded, {**recorded, LOADED_TEMPLATE_OPTION: loaded}


def record_new_run(store: Store, plan: NewRunPlan) -> PreparedRun:
    """Record a planned run in `store`; it is then ready to execute. A shard joins the run
    its `--run-id` names when another shard created it first."""
    wanted = plan.distribution

    def create(extra_settings: dict[str, Any] | None = None) -> RunRecord:
        return create_run(
            store,
            plan.skills,
            plan.suite,
            plan.settings,
            labels=plan.labels,
            environment=plan.environment,
            run_id=wanted.run_id,
            extra_settings=extra_settings,
        )

    if wanted.shard is not None and wanted.run_id is not None:
        sharded = ShardedRunPlan(
            run_id=wanted.run_id,
            shard=wanted.shard,
            planned_attempts=len(
                plan_work(
                    plan.suite.cases,
                    plan.settings.repeat,
                    frozenset(),
                    include_skipped=plan.settings.include_skipped,
                )
            ),
            skills_hash=plan.skills.skills_hash,
            suite_hash=plan.suite.suite_hash,
            settings=plan.settings.storable(),
        )
        run = create_or_join(store, sharded, create)
    else:
        try:
            run = create()
        except ValueError:
            raise InputError(
                "--run-id",
                f"run {wanted.run_id} already exists; continue it with --resume {wanted.run_id}",
            ) from None
    return PreparedRun(run, plan.skills, plan.suite.cases, plan.settings, plan.router, wanted)


def prepare_new_run(store: Store, config: RoutelensConfig, flags: RunFlags) -> PreparedRun:
    """Plan a new run (see `plan_new_run`) and record it in `store`."""
    return record_new_run(store, plan_new_run(config, flags, store=store))


def prepare_resumed_run(
    store: Store, config: RoutelensConfig, run_id: str, flags: RunFlags
) -> PreparedRun:
    """Reload a run; `--router-option`, `--max-cost` and `--concurrency` given now apply to
    the rest of it. With `--executor` the rest goes to queue workers: no router is built."""
    flags.distribution.check(max_cost_usd=flags.max_cost_usd, resuming=True)
    resumable = load_resumable_run(store, run_id, flags.skills)
    settings = resumable.settings
    if flags.max_cost_usd is not None:
        settings = replace(settings, max_cost_usd=flags.max_cost_usd)
    if flags.concurrency is not None:
        settings = replace(settings, concurrency=flags.concurrency)
    options = {
        **config.options_for(settings.router),
        **settings.router_options,
        **flags.router_options,
    }
    if flags.max_retries is not None and settings.router in RETRYING_ROUTERS:
        options["max_retries"] = flags.max_retries
    if flags.distribution.executor is not None:
        return PreparedRun(
            resumable.run, resumable.skills, resumable.cases, settings, None, flags.distribution
        )
    _, options = with_claude_code_prompt(store, settings.router, options, settings.model)
    router = _router(settings, options, config)
    return PreparedRun(resumable.run, resumable.skills, resumable.cases, settings, router)
