"""Tests for routelens.suite.hashing: what changes a hash and what does not."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import pytest

from routelens.suite.hashing import (
    canonical_json_hash,
    input_hash,
    normalise_skill_text,
    skill_content_hash,
    skills_set_hash,
)

SKILL = (
    "---\nname: demo\ndescription: Does a thing.\n---\n\n# Demo\n\n    indented code\nlast line\n"
)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_normalising_drops_bom_crlf_trailing_spaces_and_trailing_blank_lines() -> None:
    raw = "\ufeff---  \r\nname: demo\t\r\n\r\nbody \rmore\n\n\n  \n"
    assert normalise_skill_text(raw) == "---\nname: demo\n\nbody\nmore\n"


def test_the_content_hash_is_sha256_of_the_normalised_text() -> None:
    assert skill_content_hash(SKILL) == sha256(SKILL)
    assert skill_content_hash("a  \r\n") == sha256("a\n")


@pytest.mark.parametrize(
    "variant",
    [
        "\ufeff" + SKILL,
        SKILL.replace("\n", "\r\n"),
        SKILL.replace("\n", "\r"),
        SKILL.replace("\n", "  \n"),
        SKILL.replace("\n", "\t\n"),
        SKILL + "\n\n\n",
        SKILL + "   \n \t\n",
        SKILL.rstrip("\n"),
    ],
    ids=["bom", "crlf", "cr", "trailing-spaces", "trailing-tabs", "blank-lines", "blank-ws", "eof"],
)
def test_formatting_noise_does_not_change_the_content_hash(variant: str) -> None:
    assert skill_content_hash(variant) == skill_content_hash(SKILL)


@pytest.mark.parametrize(
    "variant",
    [
        SKILL.replace("Does a thing.", "Does a thing!"),
        SKILL.replace("Demo", "demo"),
        SKILL.replace("    indented code", "indented code"),
        SKILL.replace("# Demo\n", "# Demo\n\n"),
        SKILL.replace("last line", "last  line"),
        "\n" + SKILL,
        " " + SKILL,
        SKILL + "x\n",
        SKILL.replace("\n\n# Demo", "\n# Demo"),
    ],
    ids=[
        "punctuation",
        "case",
        "indentation",
        "inner-blank-line",
        "inner-space",
        "leading-blank-line",
        "leading-space",
        "appended-text",
        "removed-blank-line",
    ],
)
def test_any_other_edit_changes_the_content_hash(variant: str) -> None:
    assert skill_content_hash(variant) != skill_content_hash(SKILL)


def test_the_set_hash_is_sha256_over_sorted_name_tab_hash_lines() -> None:
    assert skills_set_hash([("b", "22"), ("a", "11")]) == sha256("a\t11\nb\t22")


def test_the_set_hash_does_not_depend_on_order() -> None:
    pairs = [("alpha", "1"), ("beta", "2"), ("gamma", "3")]
    hashes = {skills_set_hash(order) for order in itertools.permutations(pairs)}
    assert len(hashes) == 1


def test_the_set_hash_changes_when_any_skill_changes() -> None:
    pairs = [("alpha", "1"), ("beta", "2"), ("gamma", "3")]
    base = skills_set_hash(pairs)
    changed = [
        [("alpha", "1"), ("beta", "9"), ("gamma", "3")],
        [("alpha", "1"), ("beta-2", "2"), ("gamma", "3")],
        [("alpha", "1"), ("beta", "2")],
        [*pairs, ("delta", "4")],
    ]
    digests = [skills_set_hash(variant) for variant in changed]
    assert base not in digests
    assert len(set(digests)) == len(digests)


def test_the_canonical_json_hash_ignores_key_order_but_not_values() -> None:
    value = {"b": [1, 2], "a": {"y": None, "x": "é"}}
    assert canonical_json_hash(value) == sha256('{"a":{"x":"é","y":null},"b":[1,2]}')
    assert canonical_json_hash({"a": {"x": "é", "y": None}, "b": [1, 2]}) == (
        canonical_json_hash(value)
    )
    assert canonical_json_hash({"b": [2, 1], "a": {"y": None, "x": "é"}}) != (
        canonical_json_hash(value)
    )


def test_the_input_hash_is_a_16_character_prefix_of_sha256() -> None:
    assert input_hash("log 2h on TES-8") == sha256("log 2h on TES-8")[:16]
    assert input_hash("log 2h on TES-8") != input_hash("log 2h on TES-8 ")


PINNED_SUITE = """\
version: "1.0"
tests:
  - id: C1
    category: direct
    input: "create a bug for the login crash"
    expected_skill: jira-issue
  - id: C2
    category: disambiguation
    input: "show me the sprint"
    expected_skill: null
    disambiguation_options: [jira-agile, jira-search]
"""


def test_the_suite_hash_of_a_known_file_is_pinned(tmp_path: Path) -> None:
    # Stored runs are compared by suite hash: a change in how it is computed would split one
    # suite's history in two. Change this value only on purpose, with a note for users.
    from routelens.suite.cases import load_case_suite

    path = tmp_path / "cases.yaml"
    path.write_text(PINNED_SUITE, encoding="utf-8")
    assert load_case_suite(path).suite_hash == (
        "39c2345ffb543a76b14d176989193266af8b69ba8781da76193dc7d0c93266a4"
    )
