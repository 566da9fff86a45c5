"""Build a router from its name: a built-in backend, or `package.module:factory` of your own."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from routelens.errors import InputError
from routelens.routers.base import Router
from routelens.routers.local import LOCAL_ROUTER_NAME, LocalRouter, LocalRouterSettings

RouterFactory = Callable[..., Router]


@dataclass(frozen=True)
class RouterContext:
    """What a run tells its router besides the options: concurrency and price overrides."""

    concurrency: int = 4
    pricing: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def _check_options(router: str, options: Mapping[str, Any], known: Iterable[str]) -> None:
    known = sorted(known)
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise InputError(
            "router options",
            f"unknown option(s) for the {router} router: "
            f"{', '.join(unknown)} (known: {', '.join(known)})",
            field=unknown[0],
        )


API_ROUTER_OPTIONS = frozenset(
    {"api_key", "base_url", "max_tokens", "temperature", "timeout_s", "seed"}
)
# options the caller takes rather than the router's constructor
CALLER_OPTIONS = frozenset({"seed", "max_retries", "max_concurrency", "limiter_url"})
API_KEY_VARIABLES = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}


def _api_router_arguments(
    router: str, model: str | None, options: Mapping[str, Any], context: RouterContext
) -> dict[str, Any]:
    """Options shared by the API routers, turned into constructor arguments."""
    from routelens.routers.api_call import ApiCaller
    from routelens.routers.limits import AdaptiveLimiter, LimiterSettings
    from routelens.routers.pricing import load_price_table
    from routelens.routers.retry import RetryPolicy

    _check_options(router, options, API_ROUTER_OPTIONS | CALLER_OPTIONS)
    max_concurrency = int(options.get("max_concurrency", context.concurrency))
    schedule = None
    if options.get("limiter_url"):
        from routelens.routers.shared_limits import schedule_key, shared_schedule

        api_key = options.get("api_key") or os.environ.get(API_KEY_VARIABLES[router])
        name = schedule_key(router, model, api_key)
        schedule = shared_schedule(str(options["limiter_url"]), name=name)
    caller = ApiCaller(
        retry_policy=RetryPolicy(max_retries=int(options.get("max_retries", 4))),
        limiter=AdaptiveLimiter(
            LimiterSettings(max_concurrency=max_concurrency), schedule=schedule
        ),
        prices=load_price_table(context.pricing),
        seed=options.get("seed"),
    )
    direct = API_ROUTER_OPTIONS - CALLER_OPTIONS
    return {"caller": caller, **{key: value for key, value in options.items() if key in direct}}


def _anthropic(model: str | None, options: Mapping[str, Any], context: RouterContext) -> Router:
    from routelens.routers.anthropic_router import AnthropicRouter

    cache = bool(options.get("prompt_cache", True))
    shared = {key: value for key, value in options.items() if key != "prompt_cache"}
    return AnthropicRouter(
        model, prompt_cache=cache, **_api_router_arguments("anthropic", model, shared, context)
    )


def _openai(model: str | None, options: Mapping[str, Any], context: RouterContext) -> Router:
    from routelens.routers.openai_router import OpenAIRouter

    return OpenAIRouter(model, **_api_router_arguments("openai", model, options, context))


def _local(model: str | None, options: Mapping[str, Any], context: RouterContext) -> Router:
    _check_options("local", options, LocalRouterSettings.__dataclass_fields__)
    return LocalRouter(LocalRouterSettings(**options), model=model)


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
        router = _import_factory(name)(model=model, **options)
        if not isinstance(router, Router):
            raise InputError("--router", f"{name!r} did not return a Router", field="router")
        return router
    known = ", ".join(sorted(BUILT_IN_ROUTERS))
    raise InputError(
        "--router",
        f"unknown router {name!r} (built in: {known}; or give package.module:factory)",
        field="router",
    )
