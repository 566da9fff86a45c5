"""docs/golden-set.md and the README name every golden-set key the loader understands."""

from __future__ import annotations

from pathlib import Path

import pytest

from routelens.suite.cases import TOP_LEVEL_KEYS
from routelens.suite.models import VERDICT_ACTIONS, Case, Category

ROOT = Path(__file__).resolve().parent.parent
GOLDEN_SET = (ROOT / "docs" / "golden-set.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("key", [*Case.model_fields, *sorted(TOP_LEVEL_KEYS)])
def test_every_key_has_a_row_in_the_golden_set_table(key: str) -> None:
    assert f"| `{key}` |" in GOLDEN_SET or f"`{key}` (" in GOLDEN_SET


@pytest.mark.parametrize("key", list(Case.model_fields))
def test_every_case_key_is_in_the_readme(key: str) -> None:
    assert f"`{key}`" in README


@pytest.mark.parametrize("name", [*VERDICT_ACTIONS, *(c.value for c in Category)])
def test_every_rule_is_documented_in_both(name: str) -> None:
    assert f"`{name}`" in GOLDEN_SET
    assert f"`{name}`" in README
