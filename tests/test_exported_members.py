"""The public API is exactly `__all__`, and every name in it resolves and is documented."""

from __future__ import annotations

import inspect

import routelens


def test_all_names_resolve_and_are_unique() -> None:
    assert len(routelens.__all__) == len(set(routelens.__all__))
    for name in routelens.__all__:
        assert hasattr(routelens, name), name


def test_public_members_are_exported_from_the_top_level() -> None:
    public = {
        name
        for name, value in vars(routelens).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public == set(routelens.__all__) - {"__version__"}


def test_every_exported_class_and_function_has_a_docstring() -> None:
    for name in routelens.__all__:
        value = getattr(routelens, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), name
