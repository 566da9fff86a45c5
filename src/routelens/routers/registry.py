"""Build a router from its name: a built-in backend, or `package.module:factory` of your own."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from routelens.errors import InputError
from routelens.routers.base import Router
from routelens.routers.local import LOCAL_ROUTER_NAME, LocalRouter, LocalRouterSettings
from routelens.routers.options import (
    API_ROUTER_OPTION_NAMES,
    ApiRouterOptions,
    check_known,
    validated_options,
)

RouterFactory = Callable[..., Router]


@dataclass(frozen=True)
class RouterContext:
    """What a run tells its router besides the options: concurrency and price overrides."""

    concurrency: int = 4
    pricing: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


API_KEY_VARIABLES = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}


def _api_router_arguments(
    router: str, model: str | None, options: Mapping[str, Any], context: RouterContext
) -> dict[str, Any]:
    """Options shared by the API routers, checked and turned into constructor arguments."""
    from routelens.routers.api_call import ApiCaller
    from routelens.routers.limits import AdaptiveLimiter, LimiterSettings
    from routelens.routers.pricing import load_price_table
    from routelens.routers.retry import RetryPolicy

    checked = validated_options(router, ApiRouterOptions, options)
    schedule = None
    if checked.limiter_url:
        from routelens.routers.shared_limits import schedule_key, shared_schedule

        api_key = checked.api_key or os.environ.get(API_KEY_VARIABLES[router])
        schedule = shared_schedule(checked.limiter_url, name=schedule_key(router, model, api_key))
    caller = ApiCaller(
        retry_policy=RetryPolicy(max_retries=checked.max_retries),
        limiter=AdaptiveLimiter(
            LimiterSettings(max_concurrency=checked.max_concurrency or context.concurrency),
            schedule=schedule,
        ),
        prices=load_price_table(context.pricing),
        seed=checked.seed,
    )
    return {
        "caller": caller,
        "api_key": checked.api_key,
        "base_url": checked.base_url,
        "max_tokens": checked.max_tokens,
        "temperature": checked.temperature,
        "timeout_s": checked.timeout_s,
    }


def _anthropic(model: str | None, options: Mapping[str, Any], context: RouterContext) -> Router:
    from routelens.routers.anthropic_router import AnthropicRouter
    from routelens.routers.claude_code_prompt import ANTHROPIC_PROMPT_OPTIONS, prompt_from_options

    captured = prompt_from_options(options)
    shared = {key: value for key, value in options.items() if key not in ANTHROPIC_PROMPT_OPTIONS}
    arguments = _api_router_arguments("anthropic", model, shared, context)
    return AnthropicRouter(
        model,
        prompt_cache=shared.get("prompt_cache", True),
        claude_code_prompt=captured,
        **arguments,
    )


def _openai(model: str | None, options: Mapping[str, Any], context: RouterContext) -> Router:
    from routelens.routers.openai_router import OpenAIRouter

    check_known("openai", options, set(API_ROUTER_OPTION_NAMES) - {"prompt_cache"})
    return OpenAIRouter(model, **_api_router_arguments("openai", model, options, context))


def _local(model: str | None, options: Mapping[str, Any], context: RouterContext) -> Router:
    return LocalRouter(validated_options("local", LocalRouterSettings, options), model=model)


def _claude_code(model: str | None, options: Mapping[str, Any], context: RouterContext) -> Router:
    from routelens.routers.claude_code import build_claude_code_router
    from routelens.routers.pricing import load_price_table

    return build_claude_code_router(model, options, load_price_table(context.pricing))


RouterBuilder = Callable[[str | None, Mapping[str, Any], RouterContext], Router]

BUILT_IN_ROUTERS: dict[str, RouterBuilder] = {
    LOCAL_ROUTER_NAME: _local,
    "anthropic": _anthropic,
    "openai": _openai,
    "claude-code": _claude_code,
}


def _import_factory(spec: str) -> RouterFactory:
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
        factory = getattr(module, attribute)
    except (ImportError, AttributeError) as error:
        raise InputError(
            "--router", f"cannot load router {spec!r}: {error}", field="router"
        ) from None
    if not callable(factory):
        raise InputError("--router", f"{spec!r} is not callable", field="router")
    return factory  # type: ignore[no-any-return]


def make_router(
    name: str,
    model: str | None = None,
    options: Mapping[str, Any] | None = None,
    context: RouterContext | None = None,
) -> Router:
    """A router by built-in name, or `module:factory` called as `factory(model=..., **options)`."""
    options = dict(options or {})
    builder = BUILT_IN_ROUTERS.get(name)
    if builder is not None:
        return builder(model, options, context or RouterContext())
    if ":" in name:
        try:
            router = _import_factory(name)(model=model, **options)
        except (TypeError, ValueError) as error:
            raise InputError(
                "--router-option", f"router {name!r} refused its options: {error}"
            ) from None
        if not isinstance(router, Router):
            raise InputError("--router", f"{name!r} did not return a Router", field="router")
        return router
    known = ", ".join(sorted(BUILT_IN_ROUTERS))
    raise InputError(
        "--router",
        f"unknown router {name!r} (built in: {known}; or give package.module:factory)",
        field="router",
    )
