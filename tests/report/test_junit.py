"""Tests for routelens.report.junit."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from routelens.report.junit import write_junit_xml
from routelens.store.records import AttemptRecord, RunCaseRecord, Verdict
from tests.factories import make_attempt, make_run

RUN = make_run("run-42", skills_hash="abc123")


def write_and_parse(tmp_path: Path, attempts: list[AttemptRecord]) -> ET.Element:
    path = tmp_path / "junit.xml"
    write_junit_xml(path, RUN, attempts)
    return ET.parse(path).getroot()


def only_suite(root: ET.Element) -> ET.Element:
    suites = root.findall("testsuite")
    assert len(suites) == 1
    return suites[0]


def child(element: ET.Element, tag: str) -> ET.Element:
    found = element.find(tag)
    assert found is not None, f"no <{tag}> in <{element.tag} name={element.get('name')!r}>"
    return found


def test_suite_counts_time_and_properties(tmp_path: Path) -> None:
    attempts = [
        make_attempt("a", latency_s=1.25),
        make_attempt("b", verdict=Verdict.FAIL, actual="review", latency_s=0.5),
        make_attempt("c", verdict=Verdict.ERROR, error_type="timeout", latency_s=30.0),
        make_attempt("d", verdict=Verdict.FAIL, latency_s=0.25),
    ]

    suite = only_suite(write_and_parse(tmp_path, attempts))

    assert suite.get("name") == "routelens:smoke"
    assert suite.get("tests") == "4"
    assert suite.get("failures") == "2"
    assert suite.get("errors") == "1"
    assert suite.get("time") == "32.000"
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties == {
        "run_id": "run-42",
        "router": "anthropic",
        "model": "claude-test",
        "skills_hash": "abc123",
    }


def test_testcases_are_ordered_by_case_then_repeat(tmp_path: Path) -> None:
    attempts = [
        make_attempt("b", repeat_index=1),
        make_attempt("a", repeat_index=10),
        make_attempt("b", repeat_index=0),
        make_attempt("a", repeat_index=2, category="edge", latency_s=2.5),
    ]

    cases = only_suite(write_and_parse(tmp_path, attempts)).findall("testcase")

    assert [case.get("name") for case in cases] == ["a[r2]", "a[r10]", "b[r0]", "b[r1]"]
    assert cases[0].get("classname") == "edge"
    assert cases[0].get("time") == "2.500"
    assert cases[1].get("classname") == "core"
    assert all(len(case) == 0 for case in cases)


def test_failure_messages_name_expected_and_actual(tmp_path: Path) -> None:
    attempts = [
        make_attempt("1-wrong-skill", verdict=Verdict.FAIL, actual="review"),
        make_attempt("2-clarified", verdict=Verdict.FAIL, asked_clarification=True),
        make_attempt("3-nothing", verdict=Verdict.FAIL),
        make_attempt("4-should-ask", verdict=Verdict.FAIL, expected=None, actual="deploy"),
    ]

    cases = only_suite(write_and_parse(tmp_path, attempts)).findall("testcase")
    messages = [child(case, "failure").get("message") for case in cases]

    assert messages == [
        "Expected deploy, got review",
        "Expected deploy, got a clarifying question",
        "Expected deploy, got no skill",
        "Expected a clarifying question, got deploy",
    ]
    assert all(case.find("error") is None for case in cases)


def test_errors_carry_type_and_message(tmp_path: Path) -> None:
    attempts = [
        make_attempt(
            "a",
            verdict=Verdict.ERROR,
            error_type="http_529",
            error_message="Overloaded",
            http_status=529,
        ),
        make_attempt("b", verdict=Verdict.ERROR),
    ]

    cases = only_suite(write_and_parse(tmp_path, attempts)).findall("testcase")
    errors = [child(case, "error") for case in cases]

    assert errors[0].get("type") == "http_529"
    assert errors[0].get("message") == "Overloaded"
    assert errors[0].text == "HTTP status 529"
    assert errors[1].get("type") == "unknown"
    assert all(case.find("failure") is None for case in cases)


def test_file_is_pretty_utf8_with_declaration_and_deterministic(tmp_path: Path) -> None:
    attempts = [
        make_attempt("b-café", verdict=Verdict.FAIL, actual="réview", input="naïve\x1bprompt"),
        make_attempt("a", verdict=Verdict.ERROR, error_message="bad\x00byte"),
    ]
    first, second = tmp_path / "first.xml", tmp_path / "second.xml"

    write_junit_xml(first, RUN, attempts)
    write_junit_xml(second, RUN, list(reversed(attempts)))
    data = first.read_bytes()

    assert data == second.read_bytes()
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n")
    assert data.endswith(b"\n")
    assert "\n    <testcase" in data.decode("utf-8")
    suite = only_suite(ET.fromstring(data))
    cases = suite.findall("testcase")
    assert [case.get("name") for case in cases] == ["a[r0]", "b-café[r0]"]
    assert child(cases[1], "failure").get("message") == "Expected deploy, got réview"
    assert child(cases[0], "error").get("message") == "bad\ufffdbyte"


def case_row(definition: dict[str, object], position: int = 0) -> RunCaseRecord:
    return RunCaseRecord(
        "run-42", str(definition["id"]), str(definition["category"]), position, definition
    )


WORKFLOW_CASE = {
    "id": "wf",
    "category": "workflow",
    "input": "close every bug fixed in sprint 12",
    "workflow": [{"skill": "jira-search"}, {"skill": "jira-bulk"}],
}


def test_a_failed_workflow_says_what_the_workflow_rule_expected(tmp_path: Path) -> None:
    run = make_run("run-42", settings={"workflow_rule": "any-step"})
    failed = make_attempt("wf", Verdict.FAIL, category="workflow", expected=None, actual="x")
    path = tmp_path / "junit.xml"
    write_junit_xml(path, run, [failed], [case_row(WORKFLOW_CASE)])
    failure = child(child(only_suite(ET.parse(path).getroot()), "testcase"), "failure")
    assert failure.get("message") == (
        "Expected jira-search or jira-bulk or a clarifying question (any workflow step), got x"
    )
    old_run = make_run("run-42")  # recorded before the rule was a setting: first step
    write_junit_xml(path, old_run, [failed], [case_row(WORKFLOW_CASE)])
    failure = child(child(only_suite(ET.parse(path).getroot()), "testcase"), "failure")
    assert (
        failure.get("message")
        == "Expected jira-search or a clarifying question (first step), got x"
    )


def test_the_teams_question_is_shown_beside_the_routers(tmp_path: Path) -> None:
    definition = {
        "id": "d1",
        "category": "disambiguation",
        "input": "show me the sprint",
        "expected_skill": "jira-agile",
        "ask": "Sprint details or the issues in it?",
    }
    asked = make_attempt(
        "d1",
        Verdict.FAIL,
        category="disambiguation",
        expected="jira-agile",
        asked_clarification=True,
        response_text="Which board?",
    )
    path = tmp_path / "junit.xml"
    write_junit_xml(path, RUN, [asked], [case_row(definition)])
    failure = child(child(only_suite(ET.parse(path).getroot()), "testcase"), "failure")
    assert failure.text == (
        "Input: ship it\nExpected question: Sprint details or the issues in it?\n"
        "Router asked: Which board?"
    )


def test_skipped_cases_are_skipped_testcases_with_their_reason(tmp_path: Path) -> None:
    cases = [
        case_row({"id": "a", "category": "core", "input": "x"}),
        case_row(
            {"id": "s", "category": "edge", "input": "y", "skip": True, "skip_reason": "later"}
        ),
    ]
    path = tmp_path / "junit.xml"
    write_junit_xml(path, RUN, [make_attempt("a")], cases)
    suite = only_suite(ET.parse(path).getroot())
    assert (suite.get("tests"), suite.get("skipped")) == ("2", "1")
    skipped = suite.findall("testcase")[1]
    assert skipped.get("name") == "s"
    assert child(skipped, "skipped").get("message") == "later"


def test_a_trigger_set_gets_one_test_per_query_with_its_rate(tmp_path: Path) -> None:
    run = make_run("run-42", settings={"trigger_skill": "jira-worklog", "trigger_threshold": 0.5})
    rows = [
        make_attempt("t-001", category="direct", expected="jira-worklog", repeat_index=0),
        make_attempt(
            "t-001", Verdict.FAIL, category="direct", expected="jira-worklog", repeat_index=1
        ),
        make_attempt(
            "t-001", Verdict.FAIL, category="direct", expected="jira-worklog", repeat_index=2
        ),
        make_attempt(
            "t-002", Verdict.FAIL, category="negative", expected=None, actual="jira-worklog"
        ),
    ]
    path = tmp_path / "junit.xml"
    write_junit_xml(path, run, rows)
    root = ET.parse(path).getroot()
    attempts_suite, rates = root.findall("testsuite")
    assert attempts_suite.get("tests") == "4"
    assert (rates.get("name"), rates.get("tests"), rates.get("failures")) == (
        "routelens:smoke:trigger-rates",
        "2",
        "2",
    )
    first = rates.findall("testcase")[0]
    assert child(first, "failure").get("message") == (
        "triggered 1/3 (33%), below the threshold 0.5; should_trigger is true"
    )
    properties = {p.get("name"): p.get("value") for p in first.iter("property")}
    assert properties["trigger_rate"] == "0.3333"
    assert root.get("failures") == "5"
