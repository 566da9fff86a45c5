"""Router options checked before a run starts: known names, right types, sane ranges.

`--router-option ambiguity_ratio=abc` must stop the command with one line naming the option,
not let every attempt fail with a TypeError.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Annotated, Any, TypeVar

from pydantic import Field, Strict, TypeAdapter, ValidationError

from routelens.errors import InputError
from routelens.store.urls import SECRET_NAME_PATTERN, strip_url_credentials

T = TypeVar("T")

OPTION_SOURCE = "--router-option"
STRICT = Strict()
"""Put on each option's type: no guessing, `"512"` is not a number, `1` is not `true`."""


@dataclass(frozen=True)
class ApiRouterOptions:
    """Options of the anthropic and openai routers (see the README's router sections)."""

    api_key: Annotated[str, STRICT] | None = None
    base_url: Annotated[str, STRICT] | None = None
    max_tokens: Annotated[int, STRICT, Field(ge=1)] = 256
    temperature: Annotated[float, STRICT, Field(ge=0, le=2)] | None = None
    timeout_s: Annotated[float, STRICT, Field(gt=0)] = 60.0
    seed: Annotated[int, STRICT] | None = None
    max_retries: Annotated[int, STRICT, Field(ge=0)] = 4
    max_concurrency: Annotated[int, STRICT, Field(ge=1)] | None = None
    prompt_cache: Annotated[bool, STRICT] = True
    limiter_url: Annotated[str, STRICT] | None = None
    """A Redis URL: processes sharing it (and the API key and model) share one rate limit."""


API_ROUTER_OPTION_NAMES = tuple(f.name for f in fields(ApiRouterOptions))


def check_known(router: str, options: Mapping[str, Any], known: Iterable[str]) -> None:
    """InputError naming the first option `router` does not know."""
    names = sorted(known)
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise InputError(
            OPTION_SOURCE,
            f"unknown option(s) for the {router} router: "
            f"{', '.join(unknown)} (known: {', '.join(names)})",
            field=unknown[0],
        )


def validated_options(router: str, settings_type: type[T], options: Mapping[str, Any]) -> T:
    """`options` as a `settings_type` dataclass, or an InputError naming the bad option.

    Mark each field's type with `STRICT`.

    Values arrive as JSON (`--router-option max_tokens=512`) or TOML; numbers given as text
    are refused rather than guessed at.
    """
    check_known(router, options, (f.name for f in fields(settings_type)))  # type: ignore[arg-type]
    try:
        return TypeAdapter(settings_type).validate_python(dict(options))
    except ValidationError as invalid:
        error = invalid.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "options"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise InputError(
            OPTION_SOURCE,
            f"{message} (given {_shown(name, options.get(name))}) for the {router} router",
            field=name,
        ) from None


def _shown(name: str, value: Any) -> str:
    """A given value as an error may show it: never a secret, never a URL's credentials."""
    if SECRET_NAME_PATTERN.search(name):
        return "***"
    return repr(strip_url_credentials(value) if isinstance(value, str) else value)
