"""A run's failed and errored cases: filters, search, pages, suite order, the expected question."""

from __future__ import annotations

import pytest

from routelens.store import RunCaseRecord, Store, Verdict
from routelens.store.run_failures import FailureFilter, failed_cases
from tests import factories


@pytest.fixture
def run(store: Store) -> Store:
    """Run `run-1`: five cases in suite order e, d, c, b, a, with repeats that fail or error."""
    definitions = [
        RunCaseRecord("run-1", case_id, "core", position, {"id": case_id, "ask": ask})
        for position, (case_id, ask) in enumerate(
            [("e", None), ("d", "Which board?"), ("c", None), ("b", None), ("a", None)]
        )
    ]
    for record in definitions:
        if record.definition["ask"] is None:
            del record.definition["ask"]
    store.create_run(factories.make_run("run-1"), [], definitions)
    attempts = [
        factories.make_attempt("e", Verdict.PASS, sequence_number=0),
        factories.make_attempt("d", Verdict.FAIL, actual="review", sequence_number=1,
                               input="show the 100%_board", response_text="Which board?"),
        factories.make_attempt("d", Verdict.PASS, repeat_index=1, sequence_number=6),
        factories.make_attempt("c", Verdict.ERROR, sequence_number=2, error_type="timeout",
                               error_message="no answer in 60 s", category="edge"),
        factories.make_attempt("b", Verdict.FAIL, expected="triage", actual=None,
                               asked_clarification=True, sequence_number=3,
                               response_text="Did you mean triage or deploy?"),
        factories.make_attempt("b", Verdict.ERROR, expected="triage", repeat_index=1,
                               sequence_number=7, error_type="api_error"),
        factories.make_attempt("a", Verdict.FAIL, actual="deploy", expected="review",
                               sequence_number=4, input="look at PR 12"),
    ]  # fmt: skip
    store.record_attempts(attempts)
    return store


def _ids(store: Store, wanted: FailureFilter = FailureFilter(), **paging: int) -> list[str]:
    return [case.case_id for case in failed_cases(store.engine, "run-1", wanted, **paging).cases]


def test_every_failed_or_errored_case_in_suite_order(run: Store) -> None:
    page = failed_cases(run.engine, "run-1")
    assert [case.case_id for case in page.cases] == ["d", "c", "b", "a"]
    assert page.total == 4
    by_id = {case.case_id: case for case in page.cases}
    assert (by_id["b"].failed, by_id["b"].errors, by_id["b"].attempts) == (1, 1, 2)
    assert by_id["b"].last_verdict == "error"  # the newest failing attempt
    assert by_id["d"].ask == "Which board?"
    assert by_id["c"].ask is None
    assert by_id["c"].error_message == "no answer in 60 s"
    assert (by_id["d"].actual_skill, by_id["d"].attempts) == ("review", 2)


def test_filters_by_category_skill_and_verdict(run: Store) -> None:
    assert _ids(run, FailureFilter(category="edge")) == ["c"]
    assert _ids(run, FailureFilter(skill="review")) == ["d", "a"]  # routed to, or expected
    assert _ids(run, FailureFilter(skill="triage")) == ["b"]
    assert _ids(run, FailureFilter(verdict="error")) == ["c", "b"]
    assert _ids(run, FailureFilter(verdict="fail", skill="triage")) == ["b"]
    assert _ids(run, FailureFilter(verdict="error", category="core")) == ["b"]


def test_search_matches_inputs_and_responses_literally(run: Store) -> None:
    assert _ids(run, FailureFilter(search="PR 12")) == ["a"]
    assert _ids(run, FailureFilter(search="did you MEAN")) == ["b"]
    assert _ids(run, FailureFilter(search="100%_b")) == ["d"]
    assert _ids(run, FailureFilter(search="%")) == ["d"]  # a literal percent sign
    assert _ids(run, FailureFilter(search="_")) == ["d"]
    assert _ids(run, FailureFilter(search="nothing like this")) == []


def test_pages(run: Store) -> None:
    assert _ids(run, page=1, page_size=3) == ["d", "c", "b"]
    assert _ids(run, page=2, page_size=3) == ["a"]
    assert failed_cases(run.engine, "run-1", page=2, page_size=3).total == 4
    assert _ids(run, page=3, page_size=3) == []
