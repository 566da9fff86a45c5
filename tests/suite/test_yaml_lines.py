"""Tests for routelens.suite.yaml_lines: YAML that remembers where every value stands."""

from __future__ import annotations

import pytest

from routelens.errors import InputError
from routelens.suite.yaml_lines import format_path, load_located_yaml

DOCUMENT = """\
name: demo
tests:
  - id: A
    input: >
      folded text
      over two lines
  - id: B

    category: direct
"""


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("tests", 3, "category"), "tests[3].category"),
        ((2, "query"), "[2].query"),
        (("a", "b", "c"), "a.b.c"),
        (("workflow", 0, "skill"), "workflow[0].skill"),
        (("allowed-tools",), "allowed-tools"),
        ((), ""),
    ],
)
def test_format_path_renders_keys_and_indexes(path: tuple[str | int, ...], expected: str) -> None:
    assert format_path(path) == expected


def test_format_path_quotes_keys_that_would_break_the_one_line_message() -> None:
    assert format_path(("tests", 0, "bad\nkey")) == "tests[0]['bad\\nkey']"
    assert format_path(("a b", "c")) == "['a b'].c"


def test_every_key_and_item_gets_its_line() -> None:
    located = load_located_yaml(DOCUMENT, "cases.yaml")
    assert located.data["tests"][0]["input"] == "folded text over two lines\n"
    assert located.lines[()] == 1
    assert located.lines[("name",)] == 1
    assert located.lines[("tests",)] == 2
    assert located.lines[("tests", 0)] == 3
    assert located.lines[("tests", 0, "id")] == 3
    assert located.lines[("tests", 0, "input")] == 4  # the key's line, not the folded text's
    assert located.lines[("tests", 1)] == 7
    assert located.lines[("tests", 1, "category")] == 9


def test_line_of_falls_back_to_the_nearest_ancestor() -> None:
    located = load_located_yaml(DOCUMENT, "cases.yaml")
    assert located.line_of(("tests", 1, "category")) == 9
    assert located.line_of(("tests", 1, "expected_skill")) == 7
    assert located.line_of(("tests", 5, "id")) == 2
    assert located.line_of(("nothing",)) == 1
    assert located.line_of(()) == 1


def test_base_line_shifts_every_line() -> None:
    located = load_located_yaml(DOCUMENT, "SKILL.md", base_line=1)
    assert located.line_of(("name",)) == 2
    assert located.line_of(("tests", 1, "category")) == 10
    assert located.line_of(("missing",)) == 2


def test_an_empty_document_has_no_data_and_no_lines() -> None:
    located = load_located_yaml("# only a comment\n", "cases.yaml")
    assert located.data is None
    assert located.lines == {}
    assert located.line_of(("tests",)) is None


def test_a_syntax_error_names_its_line() -> None:
    with pytest.raises(InputError) as caught:
        load_located_yaml("a: 1\nb: [1, 2\nc: 3\n", "cases.yaml")
    assert caught.value.line == 3
    assert str(caught.value).startswith("cases.yaml:3: invalid YAML: ")


def test_a_syntax_error_line_includes_the_base_line() -> None:
    with pytest.raises(InputError) as caught:
        load_located_yaml("a: 1\n  b: 2\n", "SKILL.md", base_line=1)
    assert str(caught.value) == "SKILL.md:3: invalid YAML: mapping values are not allowed here"


def test_a_duplicate_key_is_rejected_with_its_line_and_path() -> None:
    text = "tests:\n  - id: A\n    input: one\n    input: two\n"
    with pytest.raises(InputError) as caught:
        load_located_yaml(text, "cases.yaml")
    assert str(caught.value) == "cases.yaml:4: tests[0].input: duplicate key 'input'"


def test_a_duplicate_top_level_key_is_rejected_after_the_base_line() -> None:
    with pytest.raises(InputError) as caught:
        load_located_yaml("name: a\ndescription: b\nname: c\n", "SKILL.md", base_line=1)
    assert str(caught.value) == "SKILL.md:4: name: duplicate key 'name'"


def test_an_integer_key_and_a_string_key_with_the_same_text_are_different_keys() -> None:
    located = load_located_yaml('facts:\n  1: one\n  "1": also one\n', "cases.yaml")
    assert located.data == {"facts": {1: "one", "1": "also one"}}


def test_a_merge_key_default_may_be_overridden() -> None:
    text = """\
defaults: &defaults
  category: direct
  input: shared
case:
  <<: *defaults
  input: own
"""
    located = load_located_yaml(text, "cases.yaml")
    assert located.data["case"] == {"category": "direct", "input": "own"}
    assert located.line_of(("case", "input")) == 6
    assert located.line_of(("case", "category")) == 4  # merged: the mapping's own line


def test_an_alias_takes_the_line_where_it_is_used() -> None:
    located = load_located_yaml("a: &x [1, 2]\nb: *x\n", "cases.yaml")
    assert located.data == {"a": [1, 2], "b": [1, 2]}
    assert located.lines[("b",)] == 2
    assert located.lines[("a", 1)] == 1


def test_a_self_referencing_anchor_does_not_loop() -> None:
    located = load_located_yaml("a: &x [1, *x]\n", "cases.yaml")
    assert located.data["a"][1] is located.data["a"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\n---\nb: 2\n", "cases.yaml:2: invalid YAML: but found another document"),
        ("when: 2020-13-45\n", "cases.yaml: invalid YAML: month must be in 1..12"),
        ("a: !!python/name:os.system\n", "cases.yaml:1: invalid YAML: could not determine a"),
        ("[" * 3000, "cases.yaml: invalid YAML: nested too deeply"),
        ("? [a]\n: b\n", "cases.yaml:1: invalid YAML: found unhashable key"),
        (
            "a: 1\nb: \x07\n",
            "cases.yaml:2: invalid YAML: special characters are not allowed (character #x0007)",
        ),
    ],
)
def test_unreadable_yaml_is_an_input_error(text: str, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        load_located_yaml(text, "cases.yaml")
    assert str(caught.value).startswith(expected)
