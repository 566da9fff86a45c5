"""Build a router from its name: a built-in backend, or `package.module:factory` of your own."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from routelens.errors import InputError
from routelens.routers.base import Router
from routelens.routers.local import LOCAL_ROUTER_NAME, LocalRouter, LocalRouterSettings

RouterFactory = Callable[..., Router]


def _local(model: str | None, options: Mapping[str, Any]) -> Router:
    known = LocalRouterSettings.__dataclass_fields__
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise InputError(
            "router options",
            f"unknown option(s) for the local router: "
            f"{', '.join(unknown)} (known: {', '.join(known)})",
            field=unknown[0],
        )
    return LocalRouter(LocalRouterSettings(**options), model=model)


BUILT_IN_ROUTERS: dict[str, Callable[[str | None, Mapping[str, Any]], Router]] = {
    LOCAL_ROUTER_NAME: _local,
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
    name: str, model: str | None = None, options: Mapping[str, Any] | None = None
) -> Router:
    """A router by built-in name, or `module:factory` called as `factory(model=..., **options)`."""
    options = dict(options or {})
    builder = BUILT_IN_ROUTERS.get(name)
    if builder is not None:
        return builder(model, options)
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
