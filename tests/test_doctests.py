"""The `>>>` examples in docstrings run, so the documentation cannot drift from the code."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import routelens


def _modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(routelens.__path__, prefix="routelens.")
        if not info.name.endswith("__main__")
    )


def _with_examples(name: str) -> bool:
    module = importlib.import_module(name)
    return any(test.examples for test in doctest.DocTestFinder().find(module))


@pytest.mark.parametrize("name", [name for name in _modules() if _with_examples(name)])
def test_docstring_examples_run(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
