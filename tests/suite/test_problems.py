"""Tests for routelens.suite.problems: the problem list type and how it stops a command."""

from __future__ import annotations

import pytest

from routelens.errors import InputError
from routelens.suite.problems import (
    Problem,
    ProblemsError,
    Severity,
    blocking,
    count_text,
    did_you_mean,
    error,
    raise_for_problems,
    warning,
)

WARN = warning("cases.yaml", "unknown key 'ownr'", line=4, field="tests[0].ownr")
ERR = error("cases.yaml", "unknown category 'x'", line=9, field="tests[1].category")


def test_a_problem_renders_as_the_bad_input_line_and_as_a_listing() -> None:
    assert ERR.one_line() == "cases.yaml:9: tests[1].category: unknown category 'x'"
    assert ERR.listing() == "cases.yaml:9: error: tests[1].category: unknown category 'x'"
    assert warning("skills", "odd").listing() == "skills: warning: odd"
    assert Problem.from_input_error(InputError("f", "m", line=2, field="k")) == error(
        "f", "m", line=2, field="k"
    )


def test_only_errors_block_unless_strict() -> None:
    assert blocking([WARN], strict=False) == []
    assert blocking([WARN, ERR], strict=False) == [ERR]
    assert [p.severity for p in blocking([WARN, ERR], strict=True)] == [Severity.ERROR] * 2
    raise_for_problems([WARN])  # returns: a warning alone lets the command go on


def test_one_problem_is_raised_exactly_as_its_own_input_error() -> None:
    with pytest.raises(ProblemsError) as caught:
        raise_for_problems([ERR])
    assert caught.value.one_line() == ERR.one_line()
    assert caught.value.detail_lines() == []


def test_several_problems_are_listed_then_counted() -> None:
    with pytest.raises(ProblemsError) as caught:
        raise_for_problems([WARN, ERR])
    assert caught.value.detail_lines() == [WARN.listing(), ERR.listing()]
    assert caught.value.one_line() == "cases.yaml: 2 problems (1 error, 1 warning), listed above"


def test_strict_says_why_warnings_stopped_the_command() -> None:
    with pytest.raises(ProblemsError) as caught:
        raise_for_problems([WARN, WARN], strict=True)
    assert caught.value.one_line().endswith("(--strict: warnings count as errors)")
    assert all(p.is_error for p in caught.value.problems)


def test_counts_and_near_typos() -> None:
    assert count_text([ERR]) == "1 problem (1 error, 0 warnings)"
    assert did_you_mean("expectd_skill", ["expected_skill", "not_skill"]) == (
        " (did you mean 'expected_skill'?)"
    )
    assert did_you_mean("owner", ["expected_skill", "not_skill"]) == ""
