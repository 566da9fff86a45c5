"""`build_timelines`: versions from events, runs attached by the hash they recorded."""

from __future__ import annotations

from datetime import UTC, datetime

from routelens.changes.model import ChangeEvent, ChangeKind, StoredChangeEvent
from routelens.changes.timeline import VersionRun, build_timelines


def stored(
    event_id: int, skill: str, day: int, old: str | None, new: str | None
) -> StoredChangeEvent:
    """An event of `skill` committed on January `day`."""
    kind = ChangeKind.ADDED if old is None else ChangeKind.MODIFIED
    at = datetime(2025, 1, day, tzinfo=UTC)
    event = ChangeEvent(
        "/repo",
        skill,
        kind,
        f"s/{skill}/SKILL.md",
        None,
        f"c{event_id}",
        None,
        "a",
        at,
        "m",
        old,
        new,
        None,
        None,
        False,
        1,
        0,
    )
    return StoredChangeEvent(event_id, at, event)


def run(
    run_id: str, skill: str, content_hash: str, day: int, passed: int, failed: int
) -> VersionRun:
    """A run of `skill` at `content_hash` on January `day`."""
    at = datetime(2025, 1, day, 6, tzinfo=UTC)
    return VersionRun(skill, content_hash, run_id, at, "local", None, "smoke", passed, failed, 0)


def test_runs_attach_to_the_version_of_their_hash() -> None:
    events = [stored(1, "deploy", 1, None, "h1"), stored(2, "deploy", 3, "h1", "h2")]
    runs = [run("r1", "deploy", "h1", 2, 3, 1), run("r2", "deploy", "h2", 4, 1, 1)]
    (timeline,) = build_timelines(events, runs)
    assert timeline.skill == "deploy"
    assert [(v.content_hash, [r.run_id for r in v.runs]) for v in timeline.versions] == [
        ("h1", ["r1"]),
        ("h2", ["r2"]),
    ]
    assert [v.accuracy for v in timeline.versions] == [0.75, 0.5]


def test_a_reverted_hash_attaches_runs_to_the_latest_version_before_them() -> None:
    events = [
        stored(1, "deploy", 1, None, "h1"),
        stored(2, "deploy", 3, "h1", "h2"),
        stored(3, "deploy", 5, "h2", "h1"),
    ]
    runs = [run("early", "deploy", "h1", 2, 1, 0), run("late", "deploy", "h1", 6, 0, 1)]
    (timeline,) = build_timelines(events, runs)
    assert [[r.run_id for r in v.runs] for v in timeline.versions] == [["early"], [], ["late"]]


def test_hashes_no_event_knows_are_listed_after_the_history() -> None:
    events = [stored(1, "deploy", 1, None, "h1")]
    runs = [run("dirty", "deploy", "local-edit", 2, 2, 0), run("other", "lint", "x", 2, 0, 0)]
    timelines = {t.skill: t for t in build_timelines(events, runs)}
    deploy = timelines["deploy"].versions
    assert [(v.content_hash, v.event is None) for v in deploy] == [
        ("h1", False),
        ("local-edit", True),
    ]
    assert timelines["lint"].versions[0].accuracy is None
