"""SKILL.md change events in the store: the idempotent write, and the reads built on them.

Writes go through `Store`'s transaction; reads use `Store.engine`. The metric readers
(`change_event_counts`, `latest_change_per_skill`) are what the Prometheus exporter calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import ColumnElement, Connection, RowMapping, and_, func, select
from sqlalchemy.dialects import postgresql, sqlite

from routelens.changes.model import ChangeEvent, ChangeKind, StoredChangeEvent
from routelens.changes.timeline import VersionRun
from routelens.store import schema
from routelens.store.records import RunRecord, Verdict
from routelens.store.sql_functions import sum_if
from routelens.store.sqlstore import Store

_table = schema.change_events
_KEY_COLUMNS = ("repository", "commit_sha", "path")
_ORDER = (_table.c.committed_at, _table.c.event_id)


def event_to_row(event: ChangeEvent, recorded_at: datetime) -> dict[str, Any]:
    """The `change_events` row for an event."""
    return {
        "repository": event.repository,
        "skill": event.skill,
        "kind": str(event.kind),
        "path": event.path,
        "old_path": event.old_path,
        "commit_sha": event.commit_sha,
        "parent_sha": event.parent_sha,
        "author": event.author,
        "committed_at": event.committed_at,
        "message": event.message,
        "old_hash": event.old_hash,
        "new_hash": event.new_hash,
        "old_description": event.old_description,
        "new_description": event.new_description,
        "description_changed": event.description_changed,
        "lines_added": event.lines_added,
        "lines_removed": event.lines_removed,
        "recorded_at": recorded_at,
        "committed_utc_offset_s": _offset_seconds(event.committed_at),
        "new_has_front_matter": event.new_has_front_matter,
    }


def _offset_seconds(moment: datetime) -> int | None:
    offset = moment.utcoffset()
    return None if offset is None else int(offset.total_seconds())


def _in_own_offset(moment: datetime, offset_s: int | None) -> datetime:
    """A stored (UTC) commit time back in the commit's own offset, when it is known."""
    if offset_s is None:
        return moment
    return moment.astimezone(timezone(timedelta(seconds=offset_s)))


def event_from_row(row: RowMapping) -> StoredChangeEvent:
    """A stored event from a `change_events` row."""
    return StoredChangeEvent(
        event_id=int(row["event_id"]),
        recorded_at=row["recorded_at"],
        event=ChangeEvent(
            repository=row["repository"],
            skill=row["skill"],
            kind=ChangeKind(row["kind"]),
            path=row["path"],
            old_path=row["old_path"],
            commit_sha=row["commit_sha"],
            parent_sha=row["parent_sha"],
            author=row["author"],
            committed_at=_in_own_offset(row["committed_at"], row["committed_utc_offset_s"]),
            message=row["message"],
            old_hash=row["old_hash"],
            new_hash=row["new_hash"],
            old_description=row["old_description"],
            new_description=row["new_description"],
            description_changed=bool(row["description_changed"]),
            lines_added=int(row["lines_added"]),
            lines_removed=int(row["lines_removed"]),
            new_has_front_matter=row["new_has_front_matter"],
        ),
    )


def record_change_events(
    store: Store, events: Iterable[ChangeEvent], *, now: datetime | None = None
) -> list[int]:
    """Write the events the store lacks, in one transaction; returns the ids of those added.

    An event is the same when its (repository, commit, path) is, so scanning twice adds nothing.
    """
    recorded_at = now or datetime.now(UTC)
    rows = [event_to_row(event, recorded_at) for event in events]
    if not rows:
        return []
    dialect = store.engine.dialect.name
    insert = postgresql.insert(_table) if dialect == "postgresql" else sqlite.insert(_table)
    statement = insert.on_conflict_do_nothing(
        index_elements=[_table.c[name] for name in _KEY_COLUMNS]
    ).returning(_table.c.event_id)

    def write(connection: Connection) -> list[int]:
        added: list[int] = []
        for row in rows:
            inserted = connection.execute(statement, row).first()
            if inserted is not None:
                added.append(int(inserted[0]))
            else:
                _fill_v7_fields(connection, row)
        return added

    return store.execute_write(write)


def _fill_v7_fields(connection: Connection, row: dict[str, Any]) -> None:
    """An event scanned before schema v7 learns its commit offset and front matter."""
    key = [_table.c[name] == row[name] for name in _KEY_COLUMNS]
    connection.execute(
        _table.update()
        .where(*key, _table.c.committed_utc_offset_s.is_(None))
        .values(
            committed_utc_offset_s=row["committed_utc_offset_s"],
            new_has_front_matter=row["new_has_front_matter"],
        )
    )


def list_change_events(
    store: Store,
    *,
    skill: str | None = None,
    repository: str | None = None,
    commit_prefix: str | None = None,
    committed_since: datetime | None = None,
    committed_until: datetime | None = None,
) -> list[StoredChangeEvent]:
    """Events, oldest commit first, optionally of one skill, repository, commit (prefix) or
    span of commit times (both ends included)."""
    conditions: list[ColumnElement[bool]] = []
    if committed_since is not None:
        conditions.append(_table.c.committed_at >= committed_since)
    if committed_until is not None:
        conditions.append(_table.c.committed_at <= committed_until)
    if skill is not None:
        conditions.append(_table.c.skill == skill)
    if repository is not None:
        conditions.append(_table.c.repository == repository)
    if commit_prefix is not None:
        conditions.append(_table.c.commit_sha.startswith(commit_prefix.lower(), autoescape=True))
    statement = select(_table).where(*conditions).order_by(*_ORDER, _table.c.path)
    with store.engine.connect() as connection:
        rows = connection.execute(statement).mappings().all()
    return [event_from_row(row) for row in rows]


def get_change_event(store: Store, event_id: int) -> StoredChangeEvent | None:
    """The event with this id, or None."""
    statement = select(_table).where(_table.c.event_id == event_id)
    with store.engine.connect() as connection:
        row = connection.execute(statement).mappings().first()
    return None if row is None else event_from_row(row)


def change_event_counts(store: Store) -> dict[tuple[str, str], int]:
    """Recorded events by (skill, kind): the exporter's change-events counter."""
    statement = select(_table.c.skill, _table.c.kind, func.count()).group_by(
        _table.c.skill, _table.c.kind
    )
    with store.engine.connect() as connection:
        return {(skill, kind): int(count) for skill, kind, count in connection.execute(statement)}


def latest_change_per_skill(store: Store) -> dict[str, StoredChangeEvent]:
    """Each skill's most recent event (by commit time, then id): last-change time and hash."""
    latest = (
        select(
            _table.c.event_id,
            func.row_number()
            .over(partition_by=_table.c.skill, order_by=[c.desc() for c in _ORDER])
            .label("position"),
        )
    ).subquery("ranked")
    statement = (
        select(_table)
        .join(latest, latest.c.event_id == _table.c.event_id)
        .where(latest.c.position == 1)
        .order_by(_table.c.skill)
    )
    with store.engine.connect() as connection:
        rows = connection.execute(statement).mappings().all()
    return {row["skill"]: event_from_row(row) for row in rows}


def version_runs(store: Store, skills: Sequence[str] | None = None) -> list[VersionRun]:
    """Each (skill, content hash, run) the runs recorded, with that run's verdict counts on
    the cases expecting the skill; `skills` limits it to these names."""
    skill_rows, runs, attempts = schema.run_skills, schema.runs, schema.attempts
    joined = skill_rows.join(runs, runs.c.run_id == skill_rows.c.run_id).outerjoin(
        attempts,
        and_(
            attempts.c.run_id == skill_rows.c.run_id, attempts.c.expected_skill == skill_rows.c.name
        ),
    )

    def tally(verdict: Verdict) -> Any:
        return sum_if(attempts.c.verdict == str(verdict))

    keys = [
        skill_rows.c.name,
        skill_rows.c.content_hash,
        runs.c.run_id,
        runs.c.started_at,
        runs.c.router,
        runs.c.model,
        runs.c.suite_name,
    ]
    statement = select(
        *keys, tally(Verdict.PASS), tally(Verdict.FAIL), tally(Verdict.ERROR)
    ).select_from(joined)
    if skills is not None:
        statement = statement.where(skill_rows.c.name.in_(list(skills)))
    statement = statement.group_by(*keys).order_by(runs.c.started_at, runs.c.run_id)
    with store.engine.connect() as connection:
        rows = connection.execute(statement).all()
    return [
        VersionRun(
            skill=row[0],
            content_hash=row[1],
            run_id=row[2],
            started_at=row[3],
            router=row[4],
            model=row[5],
            suite_name=row[6],
            passed=int(row[7] or 0),
            failed=int(row[8] or 0),
            errors=int(row[9] or 0),
        )
        for row in rows
    ]


def runs_with_skill_hash(store: Store, content_hash: str) -> list[RunRecord]:
    """Runs that tested a SKILL.md with this content hash, oldest first."""
    runs = schema.runs
    tested = select(schema.run_skills.c.run_id).where(
        schema.run_skills.c.content_hash == content_hash
    )
    statement = (
        select(runs).where(runs.c.run_id.in_(tested)).order_by(runs.c.started_at, runs.c.run_id)
    )
    with store.engine.connect() as connection:
        rows = connection.execute(statement).mappings().all()
    return [schema.run_from_row(row) for row in rows]
