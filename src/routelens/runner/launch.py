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
from routelens.routers.registry import RouterContext, make_router
from routelens.runner.session import RunSettings, create_run, load_resumable_run
from routelens.store.records import RunRecord
from routelens.store.sqlstore import Store
from routelens.suite.models import Case, CaseSuite, SkillSet
from routelens.suite.problems import Problem
from routelens.suite.suite_check import load_suite


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
    trigger_threshold: float | None = None
    include_skipped: bool = False
    skip_invalid_skills: bool = False
    strict: bool = False
    descriptions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PreparedRun:
    """A recorded run with everything needed to execute what it is missing."""

    run: RunRecord
    skills: SkillSet
    cases: tuple[Case, ...]
    settings: RunSettings
    router: Router


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
    router: Router
    labels: Mapping[str, str]
    environment: str | None

    @property
    def warnings(self) -> list[Problem]:
        """What loading the skills and cases warned about, for the command to print."""
        return [*self.skills.problems, *self.suite.problems]


def plan_new_run(config: RoutelensConfig, flags: RunFlags) -> NewRunPlan:
    """Load and validate skills and cases and build the router; nothing is written yet.

    Everything a user can get wrong fails here, before a store is created or touched.
    """
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
    router_name = flags.router or config.router
    settings = RunSettings(
        router=router_name,
        model=flags.model or config.model,
        repeat=flags.repeat or config.repeat,
        concurrency=flags.concurrency or config.concurrency,
        timeout_s=flags.timeout_s or config.timeout_s,
        max_cost_usd=flags.max_cost_usd if flags.max_cost_usd is not None else config.max_cost_usd,
        router_options={**config.options_for(router_name), **flags.router_options},
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
    router = _router(settings, settings.router_options, config)
    settings = replace(settings, model=settings.model or router.model)
    return NewRunPlan(
        skills=skills,
        suite=suite,
        settings=settings,
        router=router,
        labels={**config.labels, **flags.labels},
        environment=flags.environment or config.environment,
    )


def record_new_run(store: Store, plan: NewRunPlan) -> PreparedRun:
    """Record a planned run in `store`; it is then ready to execute."""
    run = create_run(
        store,
        plan.skills,
        plan.suite,
        plan.settings,
        labels=plan.labels,
        environment=plan.environment,
    )
    return PreparedRun(run, plan.skills, plan.suite.cases, plan.settings, plan.router)


def prepare_new_run(store: Store, config: RoutelensConfig, flags: RunFlags) -> PreparedRun:
    """Plan a new run (see `plan_new_run`) and record it in `store`."""
    return record_new_run(store, plan_new_run(config, flags))


def prepare_resumed_run(
    store: Store, config: RoutelensConfig, run_id: str, flags: RunFlags
) -> PreparedRun:
    """Reload a run; `--router-option` and `--max-cost` given now apply to the rest of it."""
    resumable = load_resumable_run(store, run_id, flags.skills)
    settings = resumable.settings
    if flags.max_cost_usd is not None:
        settings = replace(settings, max_cost_usd=flags.max_cost_usd)
    options = {
        **config.options_for(settings.router),
        **settings.router_options,
        **flags.router_options,
    }
    router = _router(settings, options, config)
    return PreparedRun(resumable.run, resumable.skills, resumable.cases, settings, router)
