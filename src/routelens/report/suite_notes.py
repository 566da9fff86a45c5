"""The parts of a run summary that come from the golden-set format: skipped cases, the
trigger rates of a trigger set, and how often destructive requests asked for confirmation."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from routelens.analytics.summary import RunSummary

_MISSING = "-"


def _percent(value: float | None) -> str:
    return _MISSING if value is None else f"{value:.1%}"


def render_suite_notes(console: Console, summary: RunSummary) -> None:
    """Print what the summary holds beyond accuracy: skips, trigger rates, confirmations."""
    if summary.mean_confirmation_score is not None:
        console.print(
            "Asked for confirmation on requires_confirmation cases: "
            f"{_percent(summary.mean_confirmation_score)} (secondary; not in the verdict)",
            highlight=False,
        )
    if summary.trigger_rates:
        table = Table(title="Trigger rate per query", title_justify="left")
        for header, justify in (
            ("Case", "left"),
            ("Should trigger", "left"),
            ("Triggered", "right"),
            ("Rate", "right"),
            ("Threshold", "right"),
            ("Query", "left"),
            ("Result", "left"),
        ):
            table.add_column(header, justify=justify)  # type: ignore[arg-type]
        for rate in summary.trigger_rates:
            result = "-" if rate.passed is None else ("pass" if rate.passed else "FAIL")
            table.add_row(
                Text(rate.case_id),
                "yes" if rate.should_trigger else "no",
                f"{rate.triggered}/{rate.decided}",
                _percent(rate.rate),
                f"{rate.threshold:g}",
                Text(rate.query),
                result,
            )
        console.print(table)
        passed = sum(rate.passed is True for rate in summary.trigger_rates)
        console.print(
            f"Queries passing the trigger-rate rule: {passed}/{len(summary.trigger_rates)}",
            highlight=False,
        )
    if summary.skipped:
        console.print(f"[bold]Skipped[/] ({len(summary.skipped)} cases, never in the accuracy)")
        for skipped in summary.skipped:
            reason = skipped.reason or "no reason given"
            console.print(
                Text(f"  {skipped.case_id} ({skipped.category}): {reason}"), highlight=False
            )
