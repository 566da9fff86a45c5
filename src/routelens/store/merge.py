"""Merging runs, their skills and cases, and attempts into a store, inside one transaction.

What `Store.merge_batches` (imports, CI shards) runs on its write connection: rows the store
already holds are left as they are; an attempt offered again with another verdict is a
conflict, reported, never a silent "already present".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Column, Connection, CursorResult, Dialect, Table, select

from routelens.store import schema
from routelens.store.nul_text import record_without_nul
from routelens.store.records import RunCaseRecord, RunRecord, RunSkillRecord
from routelens.store.rollup_writes import add_attempts, add_attempts_by_id
from routelens.store.sql_functions import dialect_insert

SQLITE_ATTEMPT_COLUMNS = tuple(c.name for c in schema.attempts.columns if c.name != "attempt_id")
"""The attempt columns, in the order of `MergeBatch.bound_attempts` tuples."""
_KEY_POSITIONS = tuple(
    SQLITE_ATTEMPT_COLUMNS.index(name) for name in (*schema.ATTEMPT_KEY_COLUMNS, "verdict")
)


@dataclass(frozen=True)
class MergeBatch:
    """Runs, their skills and cases, and attempt rows (`schema.attempt_to_row`'s form), for
    `Store.merge_batches`; runs are written first, then skills and cases, then attempts."""

    runs: Sequence[RunRecord]
    attempts: Sequence[Mapping[str, Any]]
    bound_attempts: Sequence[tuple[Any, ...]] = ()
    """SQLite only: attempt rows already through the bind processors, as tuples in
    `SQLITE_ATTEMPT_COLUMNS` order (a worker process can build them off the writing core)."""
    skills: Sequence[RunSkillRecord] = ()
    cases: Sequence[RunCaseRecord] = ()
    run_lines: Mapping[str, int] = field(default_factory=dict)
    """Where each of `runs` was first described (a file's line), for error messages."""


@dataclass(frozen=True)
class AttemptConflict:
    """An attempt offered for a (run, case, repeat) the store holds with another verdict."""

    run_id: str
    case_id: str
    repeat_index: int
    stored_verdict: str
    offered_verdict: str


@dataclass(frozen=True)
class ImportSummary:
    """What a merge did: runs created, attempts added, attempts already present (the same
    verdict), and conflicts (another verdict: the stored one is kept)."""

    runs_created: int
    attempts_added: int
    attempts_skipped: int
    conflicts: tuple[AttemptConflict, ...] = ()


def wrote_a_row(result: CursorResult[Any]) -> bool:
    """Whether an INSERT ... RETURNING wrote its row."""
    # RETURNING, rather than rowcount, because drivers disagree on rowcount for
    # INSERT ... ON CONFLICT; a skipped row returns nothing on every backend.
    return result.first() is not None


def insert_run(connection: Connection, run: RunRecord) -> bool:
    """Add `run` unless its id is there; True when it was added."""
    statement = (
        dialect_insert(connection, schema.runs)
        .on_conflict_do_nothing(index_elements=[schema.runs.c.run_id])
        .returning(schema.runs.c.run_id)
    )
    return wrote_a_row(connection.execute(statement, schema.run_to_row(run)))


def _insert_missing(connection: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        keys = list(table.primary_key.columns)
        statement = dialect_insert(connection, table).on_conflict_do_nothing(index_elements=keys)
        connection.execute(statement, rows)


def merge_into(connection: Connection, batches: Iterable[MergeBatch]) -> ImportSummary:
    """Write the batches on `connection` (the caller's transaction); see `MergeBatch`."""
    created = added = offered = 0
    conflicts: list[AttemptConflict] = []
    insert_new_attempts = new_attempt_inserter(connection)
    for batch in batches:
        runs = [record_without_nul(run)[0] for run in batch.runs]
        created += sum(insert_run(connection, run) for run in runs)
        _insert_missing(
            connection,
            schema.run_skills,
            [schema.skill_to_row(record_without_nul(s)[0]) for s in batch.skills],
        )
        _insert_missing(
            connection,
            schema.run_cases,
            [schema.case_to_row(record_without_nul(c)[0]) for c in batch.cases],
        )
        keys: list[tuple[str, str, int, str]] = []
        first_new_id = insert_new_attempts.next_id()
        if batch.attempts:
            new = insert_new_attempts(batch.attempts)
            if new < len(batch.attempts):
                keys += [
                    (row["run_id"], row["case_id"], row["repeat_index"], row["verdict"])
                    for row in batch.attempts
                ]
            added += new
            offered += len(batch.attempts)
        if batch.bound_attempts:
            if not isinstance(insert_new_attempts, SqliteAttemptInserter):
                raise ValueError("bound attempt rows can only be merged into SQLite")
            new = insert_new_attempts.insert_bound(batch.bound_attempts)
            if new < len(batch.bound_attempts):
                pick = itemgetter(*_KEY_POSITIONS)
                keys += [pick(row) for row in batch.bound_attempts]
            added += new
            offered += len(batch.bound_attempts)
        insert_new_attempts.add_to_rollups(first_new_id)
        conflicts += _conflicts(connection, keys)
    return ImportSummary(created, added, offered - added - len(conflicts), tuple(conflicts))


def _conflicts(
    connection: Connection, offered: Sequence[tuple[str, str, int, str]]
) -> list[AttemptConflict]:
    """The offered attempts whose stored verdict differs (only asked when a batch skipped
    some: a fresh import never pays for it)."""
    if not offered:
        return []
    by_run: defaultdict[str, set[str]] = defaultdict(set)
    for run_id, case_id, _, _ in offered:
        by_run[run_id].add(case_id)
    table = schema.attempts.c
    stored: dict[tuple[str, str, int], str] = {}
    for run_id, case_ids in by_run.items():
        query = select(table.case_id, table.repeat_index, table.verdict).where(
            table.run_id == run_id, table.case_id.in_(sorted(case_ids))
        )
        for case_id, repeat_index, verdict in connection.execute(query):
            stored[(run_id, case_id, repeat_index)] = verdict
    return [
        AttemptConflict(run_id, case_id, repeat_index, stored[key], verdict)
        for run_id, case_id, repeat_index, verdict in offered
        if (key := (run_id, case_id, repeat_index)) in stored and stored[key] != verdict
    ]


def new_attempt_inserter(connection: Connection) -> AttemptInserter:
    """Inserts attempt rows, skipping those already there, and adds them to the rollups."""
    if connection.dialect.name != "sqlite":
        return PostgresAttemptInserter(connection)
    return SqliteAttemptInserter(connection)


class AttemptInserter:
    """Inserts attempt rows (`schema.attempt_to_row`'s form), returning how many it added;
    `add_to_rollups` then adds the rows inserted since `next_id()` to the rollups, in one
    set-based step per rollup table."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._table = schema.attempts
        self._insert = dialect_insert(connection, self._table).on_conflict_do_nothing(
            index_elements=[self._table.c[name] for name in schema.ATTEMPT_KEY_COLUMNS]
        )

    def __call__(self, rows: Sequence[Mapping[str, Any]]) -> int:
        raise NotImplementedError

    def next_id(self) -> int:
        """A mark: every attempt inserted from now on has an id at least this."""
        return 0

    def add_to_rollups(self, first_id: int) -> None:
        """Add the attempts inserted since `first_id` was marked to the rollups."""
        raise NotImplementedError


class PostgresAttemptInserter(AttemptInserter):
    """PostgreSQL: one `INSERT ... ON CONFLICT DO NOTHING RETURNING` through psycopg's
    `executemany`, which prepares the statement once and pipelines the rows; the returned ids
    say which attempts the rollups gain (other transactions may insert attempts with ids in
    between).

    SQLAlchemy's multi-row VALUES statements (insertmanyvalues) cost more than PostgreSQL's
    own work here: psycopg parses each statement of a thousand rows' placeholders anew. The
    values go through each column type's own bind processor, as `Connection.execute`'s would.
    """

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        dialect = connection.dialect
        table = self._table
        columns = [table.c[name] for name in SQLITE_ATTEMPT_COLUMNS]
        self._sql = _insert_new_sql(dialect, table, [_placeholder(c) for c in columns])
        self._sql += " RETURNING attempt_id, run_id"
        self._bind = _row_binder(columns, dialect)
        self._new: list[int] = []
        self._runs: set[str] = set()

    def __call__(self, rows: Sequence[Mapping[str, Any]]) -> int:
        if not rows:
            return 0
        cursor: Any = self._connection.connection.cursor()
        try:
            cursor.executemany(self._sql, [self._bind(row) for row in rows], returning=True)
            added = 0
            while True:
                for attempt_id, run_id in cursor.fetchall():
                    self._new.append(int(attempt_id))
                    self._runs.add(str(run_id))
                    added += 1
                if not cursor.nextset():
                    break
        finally:
            cursor.close()
        return added

    def add_to_rollups(self, first_id: int) -> None:
        add_attempts_by_id(self._connection, self._new, self._runs)
        self._new, self._runs = [], set()


def _placeholder(column: Column[Any]) -> str:
    # JSON is sent as text, which PostgreSQL casts only when told to
    return "%s::json" if isinstance(column.type, JSON) else "%s"


def _row_binder(
    columns: Sequence[Column[Any]], dialect: Dialect
) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A row (`schema.attempt_to_row`'s form) as the tuple of its bound column values."""
    values_in_order = itemgetter(*(c.name for c in columns))
    processors = [
        (position, processor)
        for position, column in enumerate(columns)
        if (processor := _bind_processor(column, dialect)) is not None
    ]

    def bind(row: Mapping[str, Any]) -> tuple[Any, ...]:
        values = list(values_in_order(row))
        for position, processor in processors:
            values[position] = processor(values[position])
        return tuple(values)

    return bind


class SqliteAttemptInserter(AttemptInserter):
    """Attempt rows through one prepared `executemany`, skipping SQLAlchemy's per-row work.

    SQLite is where imports of a long history land; at a million rows the per-row statement
    handling of `Connection.execute` costs more than SQLite's own work. The values still go
    through each column type's own bind processor, so they are stored exactly as
    `Connection.execute` would store them, and the rows added are counted with SQLite's
    `total_changes()` (a skipped conflict changes nothing) instead of a RETURNING per row.
    A SQLite store has one writer at a time and gives each new row an id above every id in
    the table, so the rows a batch added are those with ids from `next_id()` on.
    """

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        dialect = connection.dialect
        table = self._table
        columns = [table.c[name] for name in SQLITE_ATTEMPT_COLUMNS]
        self._sql = _insert_new_sql(dialect, table, ["?" for _ in columns])
        self._bind = _row_binder(columns, dialect)

    def __call__(self, rows: Sequence[Mapping[str, Any]]) -> int:
        return self.insert_bound([self._bind(row) for row in rows])

    def insert_bound(self, parameters: Sequence[tuple[Any, ...]]) -> int:
        """Insert rows already bound, in `SQLITE_ATTEMPT_COLUMNS` order; returns rows added."""
        before = self._total_changes()
        self._connection.exec_driver_sql(self._sql, parameters)
        return self._total_changes() - before

    def next_id(self) -> int:
        last = self._connection.exec_driver_sql("SELECT max(attempt_id) FROM attempts").scalar()
        return int(last or 0) + 1

    def add_to_rollups(self, first_id: int) -> None:
        add_attempts(self._connection, [schema.attempts.c.attempt_id >= first_id], ())

    def _total_changes(self) -> int:
        return int(self._connection.exec_driver_sql("SELECT total_changes()").scalar_one())


def _bind_processor(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    processor: Callable[[Any], Any] | None = column.type.dialect_impl(dialect).bind_processor(
        dialect
    )
    return processor


def _insert_new_sql(dialect: Dialect, table: Table, placeholders: list[str]) -> str:
    """`INSERT` of every `SQLITE_ATTEMPT_COLUMNS` value (one placeholder each) that skips an
    attempt already stored (same run, case and repeat)."""
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in SQLITE_ATTEMPT_COLUMNS)
    key = ", ".join(quote(name) for name in schema.ATTEMPT_KEY_COLUMNS)
    return (
        f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join(placeholders)}) "
        f"ON CONFLICT ({key}) DO NOTHING"
    )
