"""Change events, timelines and impacts as JSON-ready dicts and as rich tables."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from routelens.analytics.compare import comparison_as_dict
from routelens.changes.diff import render_words
from routelens.changes.impact import CaseImpact, ChangeImpact, SideAccuracy
from routelens.changes.model import ChangeEvent, ChangeKind, StoredChangeEvent
from routelens.changes.timeline import SkillTimeline, VersionRun
from routelens.report.console import format_percent

SHORT_SHA = 8
SHORT_HASH = 8


def event_dict(event: ChangeEvent, event_id: int | None = None) -> dict[str, Any]:
    """One event of `changes scan --json` (and of the other commands' JSON)."""
    return {
        "event_id": event_id,
        "skill": event.skill,
        "kind": str(event.kind),
        "commit": event.commit_sha,
        "parent": event.parent_sha,
        "date": event.committed_at.isoformat(),
        "author": event.author,
        "message": event.message,
        "path": event.path,
        "old_path": event.old_path,
        "old_hash": event.old_hash,
        "new_hash": event.new_hash,
        "description_changed": event.description_changed,
        "old_description": event.old_description,
        "new_description": event.new_description,
        "lines_added": event.lines_added,
        "lines_removed": event.lines_removed,
        "has_front_matter": event.new_has_front_matter,
    }


def _what_changed(event: ChangeEvent) -> str:
    return "description" if event.description_changed else "body"


def _short(value: str | None, length: int = SHORT_HASH) -> str:
    return value[:length] if value else "-"


def event_line(stored: StoredChangeEvent) -> Text:
    """One event on one line: id, date, commit, kind, what changed, lines, skill and subject."""
    event = stored.event
    lines = f"+{event.lines_added}/-{event.lines_removed}"
    return Text(
        f"{stored.event_id:>5}  {event.committed_at:%Y-%m-%d}  {event.commit_sha[:SHORT_SHA]}  "
        f"{change_label(event):<26}  {lines:>9}  {event.skill}: {event.subject}"
    )


def _run_dict(run: VersionRun) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "started_at": run.started_at.isoformat(),
        "router": run.router,
        "model": run.model,
        "suite": run.suite_name,
        "passed": run.passed,
        "failed": run.failed,
        "errors": run.errors,
        "accuracy": run.accuracy,
    }


def timeline_dict(timeline: SkillTimeline) -> dict[str, Any]:
    """One skill of `changes list --json`: its versions, each with its runs."""
    return {
        "skill": timeline.skill,
        "aliases": list(timeline.aliases),
        "versions": [
            {
                "hash": version.content_hash,
                "event": None
                if version.event is None
                else event_dict(version.event.event, version.event.event_id),
                "accuracy": version.accuracy,
                "runs": [_run_dict(run) for run in version.runs],
            }
            for version in timeline.versions
        ],
    }


def change_label(event: ChangeEvent) -> str:
    """`modified (description)`, `renamed (body)`, `added (no front matter yet)`, ..."""
    if event.kind in (ChangeKind.MODIFIED, ChangeKind.RENAMED):
        return f"{event.kind} ({_what_changed(event)})"
    if event.kind is ChangeKind.ADDED and event.new_has_front_matter is False:
        return f"{event.kind} (no front matter yet)"
    return str(event.kind)


def timeline_lines(timeline: SkillTimeline) -> list[Text]:
    """A skill's versions, one line each, with one indented line per run that tested it."""
    title = timeline.skill
    if timeline.aliases:
        title += f" (also known as {', '.join(timeline.aliases)})"
    lines = [Text(title, style="bold")]
    for version in timeline.versions:
        stored = version.event
        if stored is None:
            head = f"  {'':<5}  {'(not in the scanned history)':<46}"
        else:
            event = stored.event
            head = (
                f"  {'#' + str(stored.event_id):<5}  {event.committed_at:%Y-%m-%d}  "
                f"{event.commit_sha[:SHORT_SHA]}  {change_label(event):<26}"
            )
        lines.append(Text(f"{head}  hash {_short(version.content_hash)}"))
        for run in version.runs:
            decided = run.passed + run.failed
            lines.append(
                Text(
                    f"{'':>10}run {run.run_id}  {format_percent(run.accuracy):>6} "
                    f"({decided} decided)  {run.router} {run.model or ''}".rstrip()
                )
            )
        if not version.runs and version.content_hash is not None:
            lines.append(Text(f"{'':>10}no run tested this version"))
    return lines


def _side_dict(side: SideAccuracy | None) -> dict[str, Any] | None:
    if side is None:
        return None
    return {
        "run_id": side.run.run_id,
        "started_at": side.run.started_at.isoformat(),
        "accuracy": side.accuracy,
        "passed": side.passed,
        "decided": side.decided,
        "errors": side.errors,
    }


def _case_dict(case: CaseImpact) -> dict[str, Any]:
    return {
        "case_id": case.case_id,
        "reasons": list(case.reasons),
        "before": case.before,
        "after": case.after,
        "flip": case.flip,
    }


def impact_dict(impact: ChangeImpact) -> dict[str, Any]:
    """One event of `changes impact --json`."""
    return {
        "event": event_dict(impact.event.event, impact.event.event_id),
        "cases": [_case_dict(case) for case in impact.cases],
        "flipped": [_case_dict(case) for case in impact.flipped],
        "before": _side_dict(impact.before),
        "after": _side_dict(impact.after),
        "comparison": None if impact.comparison is None else comparison_as_dict(impact.comparison),
        "comparison_note": impact.comparison_note,
        "missing": [vars(missing).copy() for missing in impact.missing],
        "description_diff": [vars(change).copy() for change in impact.description_diff],
    }


def _outcome(value: bool | None) -> str:
    return "-" if value is None else ("pass" if value else "fail")


def render_impact(console: Console, impact: ChangeImpact, *, color: bool) -> None:
    """An impact for people: the change, its description diff, the cases and both sides.

    The paired comparison is printed by `routelens compare`'s renderer, after this.
    """
    event = impact.event.event
    console.print(
        Text(
            f"Event {impact.event.event_id}: {event.skill} {event.kind} in "
            f"{event.commit_sha[:SHORT_SHA]} ({event.committed_at:%Y-%m-%d %H:%M %z}) by "
            f"{event.author}: {event.subject}",
            style="bold" if color else "",
        )
    )
    if impact.description_diff:
        console.print(Text("Description: ") + render_words(impact.description_diff, color=color))
    else:
        console.print("Description unchanged (body only)")
    cases = Table(
        title=f"Affected cases ({len(impact.cases)})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for header in ("Case", "Why", "Before", "After", "Flip"):
        cases.add_column(header, overflow="fold")
    for case in impact.cases:
        flip = case.flip or ""
        style = {"regressed": "red", "improved": "green"}.get(flip, "") if color else ""
        cases.add_row(
            Text(case.case_id),
            ", ".join(case.reasons),
            _outcome(case.before),
            _outcome(case.after),
            Text(flip, style=style),
        )
    if impact.cases:
        console.print(cases)
    else:
        console.print("Affected cases: none found in the runs on either side")
    for name, side in (("Before", impact.before), ("After", impact.after)):
        if side is not None:
            console.print(
                Text(
                    f"{name}: run {side.run.run_id}: {format_percent(side.accuracy)} "
                    f"({side.passed}/{side.decided} decided, {side.errors} errors) on these cases"
                )
            )
    for missing in impact.missing:
        console.print(Text(f"{missing.side.capitalize()}: {missing.reason}."))
        if missing.command:
            console.print(Text("  To measure it: " + missing.command))
