"""Print a run's summary, and a listing of runs, to a rich console."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from routelens.analytics.failures import FailedCase
from routelens.analytics.summary import GroupAccuracy, RunSummary, expectation_label
from routelens.report.suite_notes import render_suite_notes
from routelens.store.records import RunRecord

_MISSING = "-"
_TIMES = "\N{MULTIPLICATION SIGN}"


def format_percent(value: float | None) -> str:
    """A 0-1 ratio as a percentage with one decimal, or "-" when unknown."""
    return _MISSING if value is None else f"{value:.1%}"


def _slo_percent(slo: float) -> str:
    # "85%" for 0.85 and "87.5%" for 0.875: no trailing zeros, no float noise.
    return f"{slo * 100:.4g}%"


def _accuracy_markup(accuracy: float | None, slo: float) -> str:
    if accuracy is None:
        return f"[bold]{_MISSING}[/] (no decided attempts)"
    colour = "green" if accuracy >= slo else "red"
    return f"[bold {colour}]{format_percent(accuracy)}[/]"


def _group_table(title: str, key_header: str, groups: Iterable[GroupAccuracy]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(key_header)
    for header in ("Attempts", "Passed", "Failed", "Errors", "Accuracy"):
        table.add_column(header, justify="right")
    for group in groups:
        # Text cells are literal: no markup or :emoji: codes in user-supplied keys.
        table.add_row(
            Text(group.key),
            str(group.attempts),
            str(group.passed),
            str(group.failed),
            str(group.errors),
            format_percent(group.accuracy),
        )
    return table


def _worst_first(groups: Iterable[GroupAccuracy]) -> list[GroupAccuracy]:
    # Groups with nothing decided carry no accuracy signal, so they go last.
    return sorted(
        groups,
        key=lambda g: (g.accuracy is None, g.accuracy if g.accuracy is not None else 0.0, g.key),
    )


def _seconds(value: float | None) -> str:
    return _MISSING if value is None else f"{value:.2f} s"


def render_run_summary(
    console: Console,
    run: RunRecord,
    summary: RunSummary,
    *,
    slo: float,
    max_error_rate: float = 1.0,
    failures: Sequence[FailedCase] = (),
) -> None:
    """Print a compact report of one run: accuracy against the SLO, groups, confusions, cost,
    then every failed and errored case (pass `failures`; none for a quiet report).

    When more attempts errored than `max_error_rate` allows, that is said before anything
    else: an accuracy over the few decided attempts would mislead."""
    model = run.model or _MISSING
    console.print(
        f"[bold]Run {escape(run.run_id)}[/] · router {escape(run.router)} · "
        f"model {escape(model)} · {escape(str(run.status))} · "
        f"skills {escape(run.skills_hash[:12])}",
        emoji=False,
        highlight=False,
    )
    if summary.error_rate is not None and summary.error_rate > max_error_rate:
        decided = summary.passed + summary.failed
        console.print(
            f"[bold red]Errors: {summary.errors} of {summary.attempts} attempts errored "
            f"({format_percent(summary.error_rate)}, above the {format_percent(max_error_rate)}"
            f" limit); the accuracy below rests on {decided} decided attempts only.[/]",
            highlight=False,
        )
    console.print(
        f"Accuracy {_accuracy_markup(summary.accuracy, slo)}  SLO {_slo_percent(slo)}",
        highlight=False,
    )
    console.print(
        f"Attempts {summary.attempts} · passed {summary.passed} · failed {summary.failed} · "
        f"errors {summary.errors} (error rate {format_percent(summary.error_rate)}) · "
        f"cases {summary.cases} · retries {summary.retries}",
        highlight=False,
    )
    if summary.error_types:
        kinds = ", ".join(
            f"{escape(kind)} {_TIMES}{count}" for kind, count in summary.error_types.items()
        )
        console.print(f"Error types: {kinds}", emoji=False, highlight=False)
    console.print(_group_table("By category", "Category", summary.by_category.values()))
    console.print(
        _group_table(
            "By expected skill (worst first)",
            "Expected skill",
            _worst_first(summary.by_expected_skill.values()),
        )
    )
    if summary.top_confusions:
        console.print("[bold]Top confusions[/]")
        for confusion in summary.top_confusions:
            pair = f"{escape(confusion.expected)} → {escape(confusion.actual)}"
            console.print(
                f"  {pair} {_TIMES}{confusion.count}",
                emoji=False,
                highlight=False,
            )
    tokens = summary.tokens
    console.print(
        f"Cost ${summary.cost_usd:.4f} USD · tokens {tokens.total:,} "
        f"(input {tokens.input:,}, output {tokens.output:,}, "
        f"cache read {tokens.cache_read:,}, cache write {tokens.cache_write:,})",
        highlight=False,
    )
    console.print(
        f"Latency p50 {_seconds(summary.latency_p50_s)} · p95 {_seconds(summary.latency_p95_s)}",
        highlight=False,
    )
    render_suite_notes(console, summary)
    if failures:
        render_failed_cases(console, failures)


def render_failed_cases(console: Console, failures: Sequence[FailedCase]) -> None:
    """Every failed and errored case: a table when it fits the width, else one block a case;
    ids and skill names are never cut. On a terminal long inputs and questions are cut to
    one line; into a pipe or file they wrap, whole."""
    cut = console.is_terminal
    rows = [_failure_cells(case) for case in failures]
    fixed = [max(len(row[index]) for row in rows) for index in (0, 1, 3, 4, 5)]
    columns = 7
    needed = sum(max(width, len(head)) for width, head in zip(fixed, _FIXED_HEADERS, strict=True))
    needed += 12 + 8 + 3 * columns + 1  # input and question at their narrowest, borders
    if needed <= console.width:
        console.print(failed_cases_table(failures, cut=cut))
        return
    console.print(f"[bold]Failed and errored cases ({len(failures)}, most important first)[/]")
    for case_id, category, text, expected, actual, passed, question in rows:
        console.print(
            Text.assemble(
                (case_id, "bold"),
                f" ({category}) passed {passed} · expected ",
                expected,
                " · got ",
                actual,
            )
        )
        console.print(Text("  input: ") + _one_line(text, cut), no_wrap=cut)
        if question != _MISSING:
            console.print(Text("  asked: ") + _one_line(question, cut), no_wrap=cut)


def _counts(pairs: Iterable[tuple[str, int]]) -> str:
    return ", ".join(f"{key} {_TIMES}{count}" for key, count in pairs)


def _one_line(text: str, cut: bool = True) -> Text:
    """`text` on one line: cut with an ellipsis at the width (`cut`), else wrapping whole."""
    return Text(" ".join(text.split()), no_wrap=cut, overflow="ellipsis" if cut else "fold")


_FIXED_HEADERS = ("Case", "Category", "Expected", "Actual", "Passed")


def _failure_cells(case: FailedCase) -> tuple[str, str, str, str, str, str, str]:
    actual = _counts(case.routes)
    if case.error_types:
        actual = ", ".join(filter(None, [actual, "error: " + _counts(case.error_types)]))
    question = case.question or _MISSING
    if case.expected_question:
        question = f"{question} (expected: {case.expected_question})"
    return (
        case.case_id,
        case.category,
        case.input or "(empty)",
        expectation_label(case.category, case.expected),
        actual,
        f"{case.passed}/{case.attempts}",
        question,
    )


def failed_cases_table(failures: Sequence[FailedCase], *, cut: bool = True) -> Table:
    """Every failed and errored case: ids in full, the input and question cut to the width
    left over (`cut`), else wrapped in their columns."""
    table = Table(
        title=f"Failed and errored cases ({len(failures)}, most important first)",
        title_justify="left",
    )
    table.add_column("Case", no_wrap=True, min_width=max(len(c.case_id) for c in failures))
    table.add_column("Category", no_wrap=True, min_width=len("disambiguation"))
    # Input and question columns give way when the table is too wide (rich shrinks only
    # wrappable columns); their text stays on one line, cut with an ellipsis, unless `cut`
    # is off.
    table.add_column("Input", min_width=12)
    table.add_column("Expected", no_wrap=True)
    table.add_column("Actual", no_wrap=True)
    table.add_column("Passed", justify="right", no_wrap=True)
    table.add_column("Question asked", min_width=8)
    for case_id, category, text, expected, actual, passed, question in map(
        _failure_cells, failures
    ):
        table.add_row(
            Text(case_id),
            Text(category),
            _one_line(text, cut),
            Text(expected),
            Text(actual),
            passed,
            _one_line(question, cut),
        )
    return table


def _labels_text(labels: Mapping[str, str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(labels.items()))


def render_runs_table(
    console: Console, runs: Sequence[RunRecord], summaries: Mapping[str, RunSummary]
) -> None:
    """Print one row per run (for `routelens runs`); runs without a summary show "-"."""
    table = Table(title="Runs", title_justify="left")
    table.add_column("Run", no_wrap=True)
    table.add_column("Started", no_wrap=True)
    table.add_column("Status")
    table.add_column("Router")
    table.add_column("Model")
    table.add_column("Attempts", justify="right")
    table.add_column("Accuracy", justify="right")
    table.add_column("Labels")
    for run in runs:
        summary = summaries.get(run.run_id)
        table.add_row(
            Text(run.run_id),
            run.started_at.strftime("%Y-%m-%d %H:%M"),
            str(run.status),
            Text(run.router),
            Text(run.model or _MISSING),
            _MISSING if summary is None else str(summary.attempts),
            _MISSING if summary is None else format_percent(summary.accuracy),
            Text(_labels_text(run.labels)),
        )
    console.print(table)
