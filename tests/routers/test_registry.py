"""Routers by name: built-in, `module:factory`, and clear errors otherwise."""

from __future__ import annotations

import pytest

from routelens.errors import InputError
from routelens.routers.local import LocalRouter
from routelens.routers.registry import make_router


def test_local_is_built_in_and_takes_its_options() -> None:
    router = make_router("local", None, {"ambiguity_ratio": 0.5})
    assert isinstance(router, LocalRouter)
    assert router.settings.ambiguity_ratio == 0.5
    assert router.model == "bm25"


def test_unknown_local_option_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"unknown option.*ambiguity"):
        make_router("local", None, {"ambiguity": 0.5})


def test_import_path_factories_get_model_and_options() -> None:
    router = make_router("tests.support_routers:slow_router", "m-1", {"delay_s": 0.0})
    assert router.model == "m-1"
    assert router.name == "slow"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nope", "unknown router 'nope'"),
        ("tests.support_routers:missing", "cannot load router"),
        ("no_such_module_xyz:factory", "cannot load router"),
        ("tests.support_routers:not_a_router", "did not return a Router"),
    ],
)
def test_bad_router_names_are_input_errors(name: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as raised:
        make_router(name)
    assert raised.value.field == "router"
