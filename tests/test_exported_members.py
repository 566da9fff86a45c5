"""The public API is exactly `__all__`, resolves lazily, and every name in it is documented."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import routelens


def test_all_names_resolve_and_are_unique() -> None:
    assert len(routelens.__all__) == len(set(routelens.__all__))
    for name in routelens.__all__:
        assert hasattr(routelens, name), name


def test_dir_lists_exactly_the_public_api_and_other_names_fail_cleanly() -> None:
    assert dir(routelens) == sorted(routelens.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = routelens.nope  # type: ignore[attr-defined]


def test_every_exported_class_and_function_has_a_docstring() -> None:
    for name in routelens.__all__:
        value = getattr(routelens, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), name


def test_importing_the_package_loads_nothing_heavy() -> None:
    code = (
        "import sys, routelens; "
        "heavy = [m for m in ('routelens.store.sqlstore', 'sqlalchemy', 'bm25s', 'pydantic') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""
