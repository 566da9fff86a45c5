"""`routelens changes`: SKILL.md history from git, the runs of each version, and impact."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from routelens.changes.diff import diff_skill_texts, render_unified, render_words
from routelens.changes.git_history import repository_root
from routelens.changes.impact_inputs import find_events, measure_impact
from routelens.changes.lineage import build_lineages, resolve_lineages
from routelens.changes.model import ChangeEvent
from routelens.changes.report import (
    event_dict,
    event_line,
    impact_dict,
    render_impact,
    timeline_dict,
    timeline_lines,
)
from routelens.changes.scan import lineage_paths, scan_repository, skill_at_ref
from routelens.changes.timeline import build_timelines
from routelens.changes.watch import PollResult, RepositoryWatcher, parse_interval
from routelens.commands.common import (
    ConfigOption,
    JsonOption,
    StoreOption,
    command_group,
    reports_input_errors,
    stdout_console,
)
from routelens.commands.common import open_configured_store as _open
from routelens.commands.compare import render_comparison
from routelens.config import load_config
from routelens.errors import InputError
from routelens.store.changes import list_change_events, record_change_events, version_runs

changes_app = command_group(
    "changes", "SKILL.md history from git: change events, the runs of each version, their impact."
)

RepoArgument = Annotated[Path, typer.Argument(help="A folder inside the git repository.")]


def _stdout(no_color: bool = False) -> Console:
    return stdout_console(no_color=no_color, soft_wrap=True)


@changes_app.command("scan")
@reports_input_errors
def scan(
    repo: RepoArgument = Path("."),
    since: Annotated[
        str | None,
        typer.Option(help="Only commits after this commit/branch/tag, or from this ISO date."),
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Record one change event per SKILL.md per commit reachable from HEAD (idempotent).

    Follows renames, at any depth. A shallow clone is refused: run `git fetch --unshallow`.
    """
    result = scan_repository(repo, since)
    with _open(store, load_config(config_path), access="create") as opened:
        added = record_change_events(opened, result.events)
        stored = list_change_events(opened, repository=str(result.repository))
    by_key = {(s.event.commit_sha, s.event.path): s for s in stored}
    found = [by_key[(e.commit_sha, e.path)] for e in result.events]
    new = set(added)
    if as_json:
        events = [event_dict(s.event, s.event_id) | {"new": s.event_id in new} for s in found]
        payload = {"repository": str(result.repository), "added": len(new), "events": events}
        typer.echo(json.dumps(payload))
        return
    console = _stdout()
    for stored_event in found:
        if stored_event.event_id in new:
            console.print(event_line(stored_event))
    console.print(Text(f"{result.repository}: {len(found)} SKILL.md change events, {len(new)} new"))


@changes_app.command("list")
@reports_input_errors
def list_versions(
    skill: Annotated[
        str | None,
        typer.Option(help="Only this skill: its current name, any old name, or its folder."),
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Each skill's versions with the runs that tested them and their accuracy.

    A skill is followed across renames of its name and moves of its folder (its lineage).
    A run tested a version when the content hash it recorded for the skill is the version's
    hash; accuracy is over the run's attempts on the cases expecting the skill.
    """
    with _open(store, load_config(config_path)) as opened:
        events = list_change_events(opened)
        names: set[str] | None = None
        if skill is not None:
            lineages = resolve_lineages(build_lineages(e.event for e in events), skill)
            kept = {(e.repository, e.commit_sha, e.path) for ln in lineages for e in ln.events}
            events = [
                e for e in events if (e.event.repository, e.event.commit_sha, e.event.path) in kept
            ]
            names = {skill, *(alias for lineage in lineages for alias in lineage.aliases)}
        runs = version_runs(opened, None if names is None else sorted(names))
    timelines = build_timelines(events, runs)
    if as_json:
        typer.echo(json.dumps({"skills": [timeline_dict(t) for t in timelines]}))
        return
    console = _stdout()
    if not timelines:
        console.print("No change events or runs; record history with `routelens changes scan`.")
    for timeline in timelines:
        for line in timeline_lines(timeline):
            console.print(line)


@changes_app.command("watch")
@reports_input_errors
def watch(
    repo: RepoArgument = Path("."),
    interval: Annotated[str, typer.Option(help="Time between polls: 60s, 5m, 1h.")] = "60s",
    max_polls: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many polls [default: never].")
    ] = None,
    store: StoreOption = None,
    config_path: ConfigOption = None,
) -> None:
    """Poll the repository for new commits and record their SKILL.md change events."""
    every = parse_interval(interval)
    console = _stdout()

    def report(result: PollResult) -> None:
        if result.added:
            console.print(
                Text(f"{datetime.now():%H:%M:%S} {result.added} new change events at {result.head}")
            )
            for event in result.events:
                console.print(
                    Text(f"  {event.skill} {event.kind} {event.commit_sha[:10]} {event.subject}")
                )

    with _open(store, load_config(config_path), access="create") as opened:
        watcher = RepositoryWatcher(repo, opened)
        console.print(Text(f"watching {watcher.root} every {every.total_seconds():g}s"))
        try:
            watcher.watch(
                every,
                lambda polls: max_polls is not None and polls >= max_polls,
                on_poll=report,
            )
        except KeyboardInterrupt:
            console.print("stopped")


@changes_app.command("impact")
@reports_input_errors
def impact(
    reference: Annotated[
        str,
        typer.Argument(
            metavar="COMMIT|EVENT_ID", help="An event id, a commit sha, or a ref (HEAD~1, a tag)."
        ),
    ],
    repo: Annotated[Path, typer.Option(help="The git repository refs are resolved in.")] = Path(
        "."
    ),
    alpha: Annotated[float, typer.Option(help="Significance level of the paired test.")] = 0.05,
    no_color: Annotated[bool, typer.Option("--no-color", help="Plain text.")] = False,
    store: StoreOption = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """What a SKILL.md change did to the cases it can affect, before and after.

    Before: the run nearest the commit whose hash of the skill is the old hash; after: the
    nearest with the new hash (same suite, router and model first). Prints the affected cases,
    both accuracies, `routelens compare`'s paired test, the flipped cases and the description
    diff; a side without a run gets the command that would produce one. See docs/changes.md.
    """
    if not 0 < alpha < 1:
        raise InputError("--alpha", f"{alpha} is not in (0, 1)", field="alpha")
    with _open(store, load_config(config_path)) as opened:
        impacts = [
            measure_impact(opened, event, alpha) for event in find_events(opened, reference, repo)
        ]
    if as_json:
        typer.echo(json.dumps({"impacts": [impact_dict(i) for i in impacts]}))
        return
    console = _stdout(no_color)
    color = console.color_system is not None and not console.no_color
    for measured in impacts:
        render_impact(console, measured, color=color)
        if measured.comparison is not None and measured.before and measured.after:
            render_comparison(
                console, measured.before.run.run_id, measured.after.run.run_id, measured.comparison
            )
        elif measured.comparison_note:
            console.print(Text(measured.comparison_note))
        console.print()


@changes_app.command("diff")
@reports_input_errors
def diff(
    skill: Annotated[
        str, typer.Argument(help="The skill: its current name, any old name, or its folder.")
    ],
    from_ref: Annotated[str, typer.Option("--from", help="Older commit, branch or tag.")],
    to_ref: Annotated[str, typer.Option("--to", help="Newer commit, branch or tag.")] = "HEAD",
    repo: Annotated[Path, typer.Option(help="A folder inside the git repository.")] = Path("."),
    no_color: Annotated[bool, typer.Option("--no-color", help="Plain text.")] = False,
    store: StoreOption = None,
    config_path: ConfigOption = None,
) -> None:
    """A skill's front matter and body between two refs, unified and word by word.

    The skill is followed across renames and moves: at each ref, the file of its lineage
    (from the store's scanned events when it has them, else from git).
    """
    root = repository_root(repo)
    config = load_config(config_path)
    events: list[ChangeEvent] = []
    if store is not None or config.store is not None:
        with _open(store, config) as opened:
            events = [s.event for s in list_change_events(opened, repository=str(root))]
    paths = lineage_paths(root, skill, events)
    old = skill_at_ref(root, from_ref, skill, "--from", paths)
    new = skill_at_ref(root, to_ref, skill, "--to", paths)
    if old is None and new is None:
        raise InputError("SKILL", f"no skill {skill!r} at {from_ref} or {to_ref}", field="skill")
    old_label = f"{from_ref}:{old.path}" if old else f"{from_ref} (no such skill)"
    new_label = f"{to_ref}:{new.path}" if new else f"{to_ref} (no such skill)"
    console = _stdout(no_color)
    color = console.color_system is not None and not console.no_color
    parts = diff_skill_texts(old.text if old else "", new.text if new else "", old_label, new_label)
    for part in parts:
        heading = f"== {part.part} ==" if part.changed else f"== {part.part}: unchanged =="
        console.print(Text(heading, style="bold" if color else ""))
        if part.changed:
            console.print(render_unified(part.unified, color=color), end="")
            console.print(Text("-- word diff --", style="dim" if color else ""))
            words = render_words(part.words, color=color)
            words.rstrip()
            console.print(words)
