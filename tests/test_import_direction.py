"""Modules that once imported each other now import one way (shared names sit below)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import routelens

SOURCE = Path(routelens.__file__).parent


def imported_modules(module: str) -> set[str]:
    """Every routelens module `module` imports, at run time or for type checking."""
    path = SOURCE.joinpath(*module.split(".")[1:]).with_suffix(".py")
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("routelens")}


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        ("routelens.pytest_support", "routelens.pytest_plugin"),
        ("routelens.pytest_keys", "routelens.pytest_plugin"),
        ("routelens.pytest_keys", "routelens.pytest_support"),
        ("routelens.store.jsonl_pipeline", "routelens.store.jsonl"),
        ("routelens.store.bundle_lines", "routelens.store.jsonl"),
        ("routelens.store.merge", "routelens.store.sqlstore"),
    ],
)
def test_the_lower_module_never_imports_the_upper_one(lower: str, upper: str) -> None:
    assert upper not in imported_modules(lower)


def test_the_upper_modules_do_use_the_lower_ones() -> None:
    assert "routelens.pytest_keys" in imported_modules("routelens.pytest_plugin")
    assert "routelens.pytest_keys" in imported_modules("routelens.pytest_support")
    assert "routelens.store.jsonl_pipeline" in imported_modules("routelens.store.jsonl")
