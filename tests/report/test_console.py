"""Tests for routelens.report.console."""

from __future__ import annotations

import re
from datetime import datetime

from rich.console import Console

from routelens.analytics.failures import FailedCase
from routelens.analytics.summary import summarize_attempts
from routelens.analytics.trigger_rate import TriggerRule
from routelens.report.console import render_failed_cases, render_run_summary, render_runs_table
from routelens.store.records import AttemptRecord, RunStatus, Verdict
from tests.factories import make_attempt, make_run

GREEN = "#008000"
RED = "#800000"
TIMES = "\N{MULTIPLICATION SIGN}"


def new_console() -> Console:
    return Console(record=True, width=120)


def sample_attempts() -> list[AttemptRecord]:
    return [
        make_attempt("a", expected="deploy", cost_usd=0.01, input_tokens=1200, latency_s=1.0),
        make_attempt("b", expected="deploy", cost_usd=0.00234, output_tokens=34, latency_s=3.0),
        make_attempt("c", expected="review", category="edge", latency_s=2.0),
        make_attempt(
            "d", Verdict.FAIL, expected="review", actual="deploy", category="edge", latency_s=2.0
        ),
        make_attempt("e", Verdict.ERROR, error_type="timeout", latency_s=30.0),
    ]


def test_run_summary_shows_header_counts_cost_and_latency() -> None:
    console = new_console()
    summary = summarize_attempts(sample_attempts())

    render_run_summary(console, make_run(), summary, slo=0.85)
    text = console.export_text()

    assert "Run run-1" in text
    assert "router anthropic" in text
    assert "model claude-test" in text
    assert "completed" in text
    assert "skills 0123456789ab" in text
    assert "0123456789abc" not in text
    assert "Accuracy 75.0%" in text
    assert "SLO 85%" in text
    assert "Attempts 5 · passed 3 · failed 1 · errors 1" in text
    assert f"timeout {TIMES}1" in text
    assert f"review → deploy {TIMES}1" in text
    assert "$0.0123 USD" in text
    assert "input 1,200" in text
    assert "output 34" in text
    assert "p50 2.00 s" in text
    assert "p95 2.85 s" in text


def test_tables_by_category_and_by_expected_skill_worst_first() -> None:
    console = new_console()
    attempts = [
        *sample_attempts(),
        make_attempt("f", expected="lint", category="edge"),
        make_attempt("g", Verdict.ERROR, expected="format", category="edge"),
    ]

    render_run_summary(console, make_run(), summarize_attempts(attempts), slo=0.85)
    lines = console.export_text().splitlines()

    def row(key: str) -> list[str]:
        matches = [line for line in lines if line.startswith(f"│ {key} ")]
        assert len(matches) == 1, matches
        return [cell.strip() for cell in matches[0].strip("│").split("│")]

    assert row("core") == ["core", "3", "2", "0", "1", "100.0%"]
    assert row("edge") == ["edge", "4", "2", "1", "1", "66.7%"]
    skill_rows = [
        line.split("│")[1].strip()
        for line in lines
        if line.startswith("│ ")
        and line.split("│")[1].strip() in {"deploy", "review", "lint", "format"}
    ]
    assert skill_rows == ["review", "deploy", "lint", "format"]


def test_accuracy_colour_follows_slo() -> None:
    summary = summarize_attempts(sample_attempts())
    passing, failing = new_console(), new_console()

    render_run_summary(passing, make_run(), summary, slo=0.75)
    render_run_summary(failing, make_run(), summary, slo=0.9)

    assert re.search(rf"color: {GREEN}[^\"]*\">75\.0%<", passing.export_html(inline_styles=True))
    assert re.search(rf"color: {RED}[^\"]*\">75\.0%<", failing.export_html(inline_styles=True))


def test_no_decided_attempts_shows_dash() -> None:
    console = new_console()
    summary = summarize_attempts([make_attempt("a", Verdict.ERROR, error_type="http_529")])

    render_run_summary(console, make_run(model=None), summary, slo=0.85)
    text = console.export_text()

    assert "Accuracy - (no decided attempts)" in text
    assert "model -" in text
    assert "p50 - · p95 -" in text


def test_user_strings_are_escaped_not_interpreted() -> None:
    console = new_console()
    attempts = [
        make_attempt("a", Verdict.FAIL, expected="[bold]deploy", asked_clarification=True),
        make_attempt("b", category="[red]edge[/red]", expected="[bold]deploy"),
        make_attempt("c", Verdict.ERROR, error_type="[blink]boom"),
    ]

    render_run_summary(
        console, make_run(run_id="[i]run", router="[bold]r"), summarize_attempts(attempts), slo=0.85
    )
    text = console.export_text()

    assert "Run [i]run" in text
    assert "router [bold]r" in text
    assert f"[bold]deploy → clarified {TIMES}1" in text
    assert "│ [bold]deploy " in text
    assert "│ [red]edge[/red] " in text
    assert f"[blink]boom {TIMES}1" in text


def test_runs_table_lists_runs_with_and_without_summary() -> None:
    console = new_console()
    first = make_run("run-1", labels={"team": "search", "env": "ci"})
    second = make_run(
        "run-2", status=RunStatus.INTERRUPTED, model=None, started_at=datetime(2025, 2, 3, 4, 5)
    )
    summaries = {"run-1": summarize_attempts(sample_attempts())}

    render_runs_table(console, [first, second], summaries)
    lines = console.export_text().splitlines()

    def row(run_id: str) -> list[str]:
        (line,) = [line for line in lines if line.startswith(f"│ {run_id} ")]
        return [cell.strip() for cell in line.strip("│").split("│")]

    assert row("run-1") == [
        "run-1",
        "2025-01-02 03:04",
        "completed",
        "anthropic",
        "claude-test",
        "5",
        "75.0%",
        "env=ci, team=search",
    ]
    assert row("run-2") == [
        "run-2",
        "2025-02-03 04:05",
        "interrupted",
        "anthropic",
        "-",
        "-",
        "-",
        "",
    ]


def test_skips_trigger_rates_and_confirmations_are_printed() -> None:
    rows = [
        make_attempt("t-001", category="direct", expected="jira-worklog", confirmation_score=1.0),
        make_attempt(
            "t-002", Verdict.FAIL, category="negative", expected=None, actual="jira-worklog"
        ),
    ]
    summary = summarize_attempts(
        rows,
        cases=[{"id": "s9", "category": "edge", "skip": True, "skip_reason": "needs a board"}],
        trigger=TriggerRule("jira-worklog", 0.5),
    )
    console = Console(width=160, record=True)
    render_run_summary(console, make_run(), summary, slo=0.85)
    text = console.export_text()
    assert "Asked for confirmation on requires_confirmation cases: 100.0%" in text
    assert "Queries passing the trigger-rate rule: 1/2" in text
    assert "  s9 (edge): needs a board" in text
    assert "Skipped (1 cases, never in the accuracy)" in text


def test_failed_cases_name_what_each_case_expected_not_ask_for_every_missing_skill() -> None:
    failures = [
        FailedCase("neg-1", "negative", "open the pod bay doors", None, 2, 2, 0,
                   (("deploy", 2),), (), None, None),
        FailedCase("amb-1", "disambiguation", "sprint stuff", None, 1, 1, 0,
                   (("none", 1),), (), None, "Sprint details or issues?"),
    ]  # fmt: skip
    console = new_console()
    render_failed_cases(console, failures)
    text = console.export_text()
    negative_row = next(line for line in text.splitlines() if "neg-1" in line)
    ask_row = next(line for line in text.splitlines() if "amb-1" in line)
    assert "(negative)" in negative_row
    assert "(ask)" not in negative_row
    assert "(ask)" in ask_row
