"""Turn flags and config into a ready run: new (load, validate, record) or resumed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

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
from routelens.runner.session import RunSettings, create_run, load_resumable_run
from routelens.store.claude_prompts import find_claude_prompt
from routelens.store.records import RunRecord
from routelens.store.sqlstore import Store
from routelens.suite.cases import load_case_suite
from routelens.suite.models import Case, SkillSet
from routelens.suite.skills import load_skill_set


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


def prepare_new_run(store: Store, config: RoutelensConfig, flags: RunFlags) -> PreparedRun:
    """Load and validate skills and cases, build the router, then record the run."""
    skills = load_skill_set(_required(flags.skills or config.skills, "--skills"))
    suite = load_case_suite(
        _required(flags.cases or config.cases, "--cases"), skills, trigger_skill=flags.trigger_skill
    )
    router_name = flags.router or config.router
    model = flags.model or config.model
    recorded, router_options = with_claude_code_prompt(
        store, router_name, {**config.options_for(router_name), **flags.router_options}, model
    )
    settings = RunSettings(
        router=router_name,
        model=model,
        repeat=flags.repeat or config.repeat,
        concurrency=flags.concurrency or config.concurrency,
        timeout_s=flags.timeout_s or config.timeout_s,
        max_cost_usd=flags.max_cost_usd if flags.max_cost_usd is not None else config.max_cost_usd,
        router_options=recorded,
    )
    router = _router(settings, router_options, config)
    settings = replace(settings, model=settings.model or router.model)
    run = create_run(
        store,
        skills,
        suite,
        settings,
        labels={**config.labels, **flags.labels},
        environment=flags.environment or config.environment,
    )
    return PreparedRun(run, skills, suite.cases, settings, router)


def prepare_resumed_run(
    store: Store, config: RoutelensConfig, run_id: str, flags: RunFlags
) -> PreparedRun:
    """Reload a run; `--router-option` and `--max-cost` given now apply to the rest of it."""
    resumable = load_resumable_run(store, run_id, flags.skills)
    settings = resumable.settings
    if flags.max_cost_usd is not None:
        settings = replace(settings, max_cost_usd=flags.max_cost_usd)
    _, options = with_claude_code_prompt(
        store,
        settings.router,
        {**config.options_for(settings.router), **settings.router_options, **flags.router_options},
        settings.model,
    )
    router = _router(settings, options, config)
    return PreparedRun(resumable.run, resumable.skills, resumable.cases, settings, router)
