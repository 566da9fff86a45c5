"""Write a run's attempts as JUnit XML, so CI systems show routing failures as test failures.

With the run's case definitions, a failure says what the case's rule expected (a workflow's
steps, a negative case's forbidden skill), skipped cases appear as `<skipped>`, and a
trigger set gets a second test suite with one test per query (its trigger rate).
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from routelens.analytics.summary import SkippedCase, skipped_cases
from routelens.analytics.trigger_rate import QueryTriggerRate, query_trigger_rates, trigger_rule_of
from routelens.runner.verdicts import VerdictRules, expectation
from routelens.store.records import AttemptRecord, RunCaseRecord, RunRecord, Verdict
from routelens.suite.models import Case

# Characters XML 1.0 forbids even when escaped; model output and error text can contain them.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CLARIFYING_QUESTION = "a clarifying question"


@dataclass(frozen=True)
class CaseNote:
    """What a failure of one case should say: the rule's expectation, the team's question."""

    expected: str
    ask: str | None = None


def _xml_text(value: str) -> str:
    return _XML_ILLEGAL.sub("\ufffd", value)


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _expected_text(attempt: AttemptRecord) -> str:
    return attempt.expected_skill if attempt.expected_skill is not None else _CLARIFYING_QUESTION


def _actual_text(attempt: AttemptRecord) -> str:
    if attempt.actual_skill is not None:
        return attempt.actual_skill
    return _CLARIFYING_QUESTION if attempt.asked_clarification else "no skill"


def failure_message(attempt: AttemptRecord, note: CaseNote | None = None) -> str:
    """The one-line reason a failed attempt failed: "Expected X, got Y", where X is what
    the case's rule accepts when the case is known (`jira-search or jira-bulk (any workflow
    step), or a clarifying question`), else the expected skill."""
    expected = note.expected if note is not None else _expected_text(attempt)
    return f"Expected {expected}, got {_actual_text(attempt)}"


def failure_details(attempt: AttemptRecord, note: CaseNote | None = None) -> list[str]:
    """The lines under a failure: the input, and the team's question beside the router's."""
    lines = [f"Input: {attempt.input}"]
    if note is not None and note.ask:
        lines.append(f"Expected question: {note.ask}")
    if attempt.asked_clarification and attempt.response_text:
        lines.append(f"Router asked: {attempt.response_text}")
    return lines


def case_notes(run: RunRecord, cases: Sequence[RunCaseRecord]) -> dict[str, CaseNote]:
    """Each case's note, by id, under the verdict rules the run recorded."""
    rules = VerdictRules.of_run(run.settings)
    notes: dict[str, CaseNote] = {}
    for row in cases:
        try:
            case = Case.model_validate(row.definition)
        except ValidationError:
            continue  # a definition imported from elsewhere: the attempt says enough
        notes[case.id] = CaseNote(expectation(case, rules).describe(), case.ask)
    return notes


def _testcase(attempt: AttemptRecord, note: CaseNote | None) -> ET.Element:
    case = ET.Element(
        "testcase",
        {
            "classname": _xml_text(attempt.category),
            "name": _xml_text(f"{attempt.case_id}[r{attempt.repeat_index}]"),
            "time": _seconds(attempt.latency_s),
        },
    )
    if attempt.verdict is Verdict.FAIL:
        failure = ET.SubElement(
            case,
            "failure",
            {"message": _xml_text(failure_message(attempt, note)), "type": "routing"},
        )
        failure.text = _xml_text("\n".join(failure_details(attempt, note)))
    elif attempt.verdict is Verdict.ERROR:
        error_type = attempt.error_type or "unknown"
        error = ET.SubElement(
            case,
            "error",
            {
                "type": _xml_text(error_type),
                "message": _xml_text(attempt.error_message or error_type),
            },
        )
        if attempt.http_status is not None:
            error.text = f"HTTP status {attempt.http_status}"
    return case


def _skipped_testcase(skipped: SkippedCase) -> ET.Element:
    case = ET.Element(
        "testcase",
        {"classname": _xml_text(skipped.category), "name": _xml_text(skipped.case_id), "time": "0"},
    )
    ET.SubElement(case, "skipped", {"message": _xml_text(skipped.reason or "skip: true")})
    return case


def _trigger_testcase(rate: QueryTriggerRate) -> ET.Element:
    case = ET.Element(
        "testcase", {"classname": "trigger-rate", "name": _xml_text(rate.case_id), "time": "0"}
    )
    properties = ET.SubElement(case, "properties")
    for name, value in (
        ("should_trigger", str(rate.should_trigger).lower()),
        ("triggered", str(rate.triggered)),
        ("decided", str(rate.decided)),
        ("trigger_rate", "" if rate.rate is None else f"{rate.rate:.4f}"),
        ("threshold", f"{rate.threshold:g}"),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": value})
    if rate.passed is None:
        ET.SubElement(
            case, "error", {"type": "no-decided-attempts", "message": "every attempt errored"}
        )
    elif not rate.passed:
        side = "below" if rate.should_trigger else "at or above"
        message = (
            f"triggered {rate.triggered}/{rate.decided} ({rate.rate:.0%}), {side} the "
            f"threshold {rate.threshold:g}; should_trigger is {str(rate.should_trigger).lower()}"
        )
        failure = ET.SubElement(case, "failure", {"message": message, "type": "trigger-rate"})
        failure.text = _xml_text(f"Query: {rate.query}")
    return case


def _counts(cases: Sequence[ET.Element]) -> dict[str, str]:
    return {
        "tests": str(len(cases)),
        "failures": str(sum(c.find("failure") is not None for c in cases)),
        "errors": str(sum(c.find("error") is not None for c in cases)),
        "skipped": str(sum(c.find("skipped") is not None for c in cases)),
        "time": _seconds(math.fsum(float(c.get("time") or 0) for c in cases)),
    }


def junit_element(
    run: RunRecord, attempts: Sequence[AttemptRecord], cases: Sequence[RunCaseRecord] = ()
) -> ET.Element:
    """Build the JUnit document: one testsuite, one testcase per attempt in (case, repeat)
    order, then one per skipped case; a trigger set adds a testsuite of per-query rates."""
    ordered = sorted(attempts, key=lambda attempt: (attempt.case_id, attempt.repeat_index))
    notes = case_notes(run, cases)
    testcases = [_testcase(attempt, notes.get(attempt.case_id)) for attempt in ordered]
    attempted = {attempt.case_id for attempt in attempts}
    testcases += [
        _skipped_testcase(s) for s in skipped_cases([c.definition for c in cases], attempted)
    ]
    suites = [(f"routelens:{run.suite_name}", testcases)]
    rule = trigger_rule_of(run.settings)
    if rule is not None:
        rates = [_trigger_testcase(rate) for rate in query_trigger_rates(attempts, rule)]
        suites.append((f"routelens:{run.suite_name}:trigger-rates", rates))
    every = [case for _, members in suites for case in members]
    totals = _counts(every)
    root = ET.Element(
        "testsuites", {"name": "routelens", **{k: v for k, v in totals.items() if k != "skipped"}}
    )
    for name, members in suites:
        suite = ET.SubElement(
            root,
            "testsuite",
            {"name": _xml_text(name), **_counts(members), "timestamp": run.started_at.isoformat()},
        )
        properties = ET.SubElement(suite, "properties")
        for key, value in (
            ("run_id", run.run_id),
            ("router", run.router),
            ("model", run.model or ""),
            ("skills_hash", run.skills_hash),
        ):
            ET.SubElement(properties, "property", {"name": key, "value": _xml_text(value)})
        suite.extend(members)
    ET.indent(root, space="  ")
    return root


def write_junit_xml(
    path: Path,
    run: RunRecord,
    attempts: Sequence[AttemptRecord],
    cases: Sequence[RunCaseRecord] = (),
) -> None:
    """Write a run's attempts to `path` as pretty-printed UTF-8 JUnit XML."""
    document = ET.tostring(
        junit_element(run, attempts, cases), encoding="utf-8", xml_declaration=True
    )
    path.write_bytes(document + b"\n")
