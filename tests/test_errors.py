"""Tests for routelens.errors."""

from __future__ import annotations

from routelens.errors import InputError


def test_an_error_is_one_line_whatever_the_field_or_file_name_holds() -> None:
    error = InputError("odd\nname.jsonl", "Input should\nbe a string", line=3, field="labels.\n\t")
    assert str(error) == "odd\\nname.jsonl:3: labels.\\n\\t: Input should be a string"
    assert "\n" not in str(error)


def test_a_plain_error_is_unchanged() -> None:
    error = InputError("cases.yaml", "unknown category 'x'", line=12, field="tests[3].category")
    assert str(error) == "cases.yaml:12: tests[3].category: unknown category 'x'"
