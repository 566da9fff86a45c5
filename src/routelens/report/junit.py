"""Write a run's attempts as JUnit XML, so CI systems show routing failures as test failures."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from routelens.store.records import AttemptRecord, RunRecord, Verdict

# Characters XML 1.0 forbids even when escaped; model output and error text can contain them.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CLARIFYING_QUESTION = "a clarifying question"


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


def failure_message(attempt: AttemptRecord) -> str:
    """The one-line reason a failed attempt failed: "Expected X, got Y"."""
    return f"Expected {_expected_text(attempt)}, got {_actual_text(attempt)}"


def _testcase(attempt: AttemptRecord) -> ET.Element:
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
            case, "failure", {"message": _xml_text(failure_message(attempt)), "type": "routing"}
        )
        failure.text = _xml_text(f"Input: {attempt.input}")
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


def junit_element(run: RunRecord, attempts: Sequence[AttemptRecord]) -> ET.Element:
    """Build the JUnit document: one testsuite, one testcase per attempt in (case, repeat) order."""
    ordered = sorted(attempts, key=lambda attempt: (attempt.case_id, attempt.repeat_index))
    counts = {
        "tests": str(len(ordered)),
        "failures": str(sum(a.verdict is Verdict.FAIL for a in ordered)),
        "errors": str(sum(a.verdict is Verdict.ERROR for a in ordered)),
        "time": _seconds(math.fsum(a.latency_s for a in ordered)),
    }
    root = ET.Element("testsuites", {"name": "routelens", **counts})
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": _xml_text(f"routelens:{run.suite_name}"),
            **counts,
            "skipped": "0",
            "timestamp": run.started_at.isoformat(),
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("run_id", run.run_id),
        ("router", run.router),
        ("model", run.model or ""),
        ("skills_hash", run.skills_hash),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": _xml_text(value)})
    suite.extend(_testcase(attempt) for attempt in ordered)
    ET.indent(root, space="  ")
    return root


def write_junit_xml(path: Path, run: RunRecord, attempts: Sequence[AttemptRecord]) -> None:
    """Write a run's attempts to `path` as pretty-printed UTF-8 JUnit XML."""
    document = ET.tostring(junit_element(run, attempts), encoding="utf-8", xml_declaration=True)
    path.write_bytes(document + b"\n")
