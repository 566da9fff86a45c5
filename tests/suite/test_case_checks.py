"""Tests for routelens.suite.case_checks: NUL characters, unknown nested keys, odd cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from routelens.suite.cases import check_case_file
from routelens.suite.problems import Severity

ONE_CASE = "tests:\n  - id: A\n    category: direct\n    input: hi\n"


def problems_of(tmp_path: Path, text: str, name: str = "cases.yaml") -> list[tuple[int, str, str]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return [
        (p.line or 0, str(p.severity), f"{p.field}: {p.message}")
        for p in check_case_file(path).problems
    ]


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ('tests:\n  - {id: A, category: direct, input: "move\\0 it"}\n', 2, "tests[0].input"),
        (ONE_CASE + '    notes: "a\\x00b"\n', 5, "tests[0].notes"),
        (ONE_CASE + '    context: {issue: "TES-\\0"}\n', 5, "tests[0].context.issue"),
        (ONE_CASE + '    ask: "which\\0?"\n', 5, "tests[0].ask"),
    ],
)
def test_a_nul_character_anywhere_in_a_case_is_an_error(
    tmp_path: Path, text: str, line: int, field: str
) -> None:
    assert problems_of(tmp_path, text) == [
        (line, "error", f"{field}: contains a NUL character (a \\0 escape); remove it")
    ]


def test_a_nul_in_json_is_an_error_too(tmp_path: Path) -> None:
    text = json.dumps({"tests": [{"id": "A", "category": "edge", "input": "a\u0000b"}]})
    [(line, severity, message)] = problems_of(tmp_path, text, "cases.json")
    assert (line, severity) == (1, "error")
    assert message.startswith("tests[0].input: contains a NUL character")


def test_unknown_keys_inside_steps_commands_and_messages_are_warnings(tmp_path: Path) -> None:
    text = ONE_CASE + (
        "    workflow:\n"
        "      - {skill: search, actoin: find}\n"
        "    expected_commands:\n"
        "      - {pattern: jira, regex: x}\n"
        "    context:\n"
        "      - {role: user, content: hi, contnet: b}\n"
        "    x-owner: qa\n"
    )
    found = problems_of(tmp_path, text)
    assert [(line, severity) for line, severity, _ in found] == [
        (6, "warning"),
        (8, "warning"),
        (10, "warning"),
    ]
    assert found[0][2].startswith(
        "tests[0].workflow[0].actoin: unknown key 'actoin' (did you mean 'action'?)"
    )
    assert found[1][2].startswith("tests[0].expected_commands[0].regex: unknown key 'regex';")
    assert found[2][2].startswith(
        "tests[0].context[0].contnet: unknown key 'contnet' (did you mean 'content'?)"
    )


@pytest.mark.parametrize(
    ("extra", "line", "message"),
    [
        (
            "    action: ask_for_inputs\n",
            5,
            "tests[0].action: action 'ask_for_inputs' (did you mean 'ask_for_input'?) has no "
            "verdict rule (known: ask_for_input, show_quick_reference); kept as a note",
        ),
        (
            "    skip_reason: flaky API\n",
            5,
            "tests[0].skip_reason: skip_reason without skip: true; the case runs",
        ),
        (
            "    skip: true\n",
            5,
            "tests[0].skip: skipped without a skip_reason; reports will not say why",
        ),
    ],
)
def test_cases_that_probably_mean_something_else_are_warned_about(
    tmp_path: Path, extra: str, line: int, message: str
) -> None:
    assert problems_of(tmp_path, ONE_CASE + extra) == [(line, "warning", message)]


def test_a_negative_case_without_a_skill_to_avoid_is_warned_about(tmp_path: Path) -> None:
    text = "tests:\n  - id: N\n    category: negative\n    input: hi\n"
    assert problems_of(tmp_path, text) == [
        (
            3,
            "warning",
            "tests[0].category: a negative case with neither not_skill nor expected_skill "
            "passes always",
        )
    ]


def test_a_workflow_case_without_steps_is_warned_about(tmp_path: Path) -> None:
    text = "tests:\n  - id: W\n    category: workflow\n    input: hi\n"
    [(line, severity, message)] = problems_of(tmp_path, text)
    assert (line, severity) == (3, "warning")
    assert message.endswith("a workflow case without steps passes only when the router asks")


def test_warnings_do_not_stop_the_suite(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(ONE_CASE + "    skip: true\n", encoding="utf-8")
    checked = check_case_file(path)
    assert checked.suite is not None
    assert [p.severity for p in checked.problems] == [Severity.WARNING]
