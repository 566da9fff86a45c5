"""The one write path: a `Store` owns the engine, and every write is a transaction.

>>> with open_store("sqlite:///.routelens/routelens.sqlite") as store:  # doctest: +SKIP
...     store.create_run(run, skills, cases)
...     store.record_attempt(attempt)  # False, and nothing written, if already there
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

from sqlalchemy import (
    URL,
    Connection,
    Engine,
    create_engine,
    event,
    make_url,
    select,
)
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import ConnectionPoolEntry

from routelens.errors import InputError
from routelens.store import schema
from routelens.store.merge import (
    ImportSummary,
    MergeBatch,
    insert_run,
    merge_into,
)
from routelens.store.migrations import check_not_empty, check_readable, check_tables, migrate
from routelens.store.nul_text import attempt_without_nul, record_without_nul
from routelens.store.records import (
    AttemptRecord,
    RunCaseRecord,
    RunRecord,
    RunSkillRecord,
    RunStatus,
    Verdict,
)
from routelens.store.rollup_writes import (
    add_attempts_by_id,
    refresh_hours,
    stored_hour,
    touched_hours,
)
from routelens.store.sql_functions import dialect_insert, register_sqlite_functions
from routelens.store.urls import DEFAULT_STORE_URL, redact_url

T = TypeVar("T")

_SQLITE_BUSY_TIMEOUT_MS = 30_000
_POSTGRES_CONNECT_TIMEOUT_S = 10
# Carried on a connection's execution options to pick SQLite's BEGIN flavour.
_BEGIN_MODE_OPTION = "routelens_sqlite_begin"


def parse_store_url(url: str | Path) -> URL:
    """The SQLAlchemy URL for a store: a `sqlite:///` or `postgresql://` URL, or a file path.

    A plain path means SQLite; `postgresql://` (and `postgres://`) use psycopg 3.
    """
    if isinstance(url, Path) or "://" not in url:
        return URL.create("sqlite", database=str(url))
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise InputError(redact_url(url), f"not a store URL: {error}", field="store") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise InputError(
            parsed.render_as_string(hide_password=True),
            f"unsupported database {parsed.get_backend_name()!r}; use sqlite or postgresql",
            field="store",
        )
    return parsed


StoreAccess = Literal["create", "write", "read"]
"""How a command opens its store: `create` (make it if missing, migrate), `write` (it must
exist; migrate), `read` (it must exist at the current schema; nothing is ever written)."""


def open_store(url: str | Path = DEFAULT_STORE_URL, *, access: StoreAccess = "create") -> Store:
    """Open the store at `url`: created and migrated if needed, unless `access` says otherwise.

    With `access="read"` a missing store, a store at an older schema (`routelens migrate`
    brings it forward) or a damaged one is an InputError, and the connection cannot write:
    a file the user may only read still opens. A bad URL, an unreachable database or an
    unreadable file is an InputError naming the URL with its password hidden.
    """
    parsed = parse_store_url(url)
    shown = parsed.render_as_string(hide_password=True)
    if access != "create" and not _store_may_exist(parsed):
        raise InputError(
            shown,
            "no store here (a run creates it: routelens run ...)",
            field="store",
        )
    try:
        engine = _create_engine(parsed, read_only=access == "read")
    except (NoSuchModuleError, ImportError) as error:
        raise InputError(shown, f"no driver for this store: {error}", field="store") from None
    except OSError as error:
        raise InputError(shown, f"cannot create the store: {error}", field="store") from None
    try:
        return Store(engine, read_only=access == "read", must_exist=access != "create")
    except DBAPIError as error:
        engine.dispose()
        reason = str(error.orig).strip() or type(error.orig).__name__
        raise InputError(shown, f"cannot open the store: {reason}", field="store") from None
    except BaseException:
        engine.dispose()
        raise


def _store_may_exist(url: URL) -> bool:
    """False when `url` is a SQLite file that is not there (a server database is asked later)."""
    if url.get_backend_name() != "sqlite":
        return True
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return True
    return Path(database).exists()


class Store:
    """Runs, their skills and cases, and attempts, in SQLite or PostgreSQL.

    Construct with `open_store`. Writes are idempotent on their natural keys, so a resumed
    or re-imported run never duplicates an attempt.
    """

    def __init__(
        self, engine: Engine, *, read_only: bool = False, must_exist: bool = False
    ) -> None:
        """Own `engine`; bring its schema up to date, or (read-only) check that it is."""
        self._engine = engine
        self._read_only = read_only
        if read_only:
            with self._engine.connect() as connection:
                check_readable(connection, self.display_url)
            return
        with self._write() as connection:
            if must_exist:
                check_not_empty(connection, self.display_url)
            migrate(connection, self.display_url)
            check_tables(connection, self.display_url)

    @property
    def read_only(self) -> bool:
        """Whether this store was opened for reading only (every write raises)."""
        return self._read_only

    @property
    def engine(self) -> Engine:
        """The engine, for read-only queries (analytics, the web layer); never write through it."""
        return self._engine

    @property
    def display_url(self) -> str:
        """The store URL with its password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Release every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.display_url!r})"

    # Writes -----------------------------------------------------------------------------

    def execute_write(self, write: Callable[[Connection], T]) -> T:
        """Run `write(connection)` in one write transaction: the path for every table
        besides runs and attempts (experiments, change events, deletions)."""
        with self._write() as connection:
            return write(connection)

    def create_run(
        self,
        run: RunRecord,
        skills: Sequence[RunSkillRecord],
        cases: Sequence[RunCaseRecord],
    ) -> None:
        """Record a new run with the skills and cases it tests; ValueError if it exists."""
        run = record_without_nul(run)[0]
        skills = [record_without_nul(skill)[0] for skill in skills]
        cases = [record_without_nul(case)[0] for case in cases]
        with self._write() as connection:
            if not insert_run(connection, run):
                raise ValueError(f"run {run.run_id!r} already exists in {self.display_url}")
            if skills:
                connection.execute(
                    schema.run_skills.insert(), [schema.skill_to_row(s) for s in skills]
                )
            if cases:
                connection.execute(
                    schema.run_cases.insert(), [schema.case_to_row(c) for c in cases]
                )

    def record_attempt(self, attempt: AttemptRecord, *, replace: bool = False) -> bool:
        """Write one attempt; False (nothing written) if its (run, case, repeat) is there.

        With `replace=True` an existing attempt is overwritten, and True is returned. The
        rollups are brought up to date in the same transaction.
        """
        return self.record_attempts([attempt], replace=replace) == 1

    def record_attempts(self, attempts: Iterable[AttemptRecord], *, replace: bool = False) -> int:
        """Write many attempts in one transaction; returns how many were written."""
        with self._write() as connection:
            written: list[int] = []
            run_ids: set[str] = set()
            replaced: set[tuple[str, str]] = set()  # (run, hour) an overwritten attempt left
            for offered in attempts:
                attempt = attempt_without_nul(offered)
                if replace:
                    replaced |= stored_hour(connection, attempt)
                attempt_id = self._insert_attempt(connection, attempt, replace=replace)
                if attempt_id is not None:
                    written.append(attempt_id)
                    run_ids.add(attempt.run_id)
            if replaced:
                by_run: dict[str, set[str]] = {}
                for run_id, hour in replaced | touched_hours(connection, written):
                    by_run.setdefault(run_id, set()).add(hour)
                for run_id, hours in sorted(by_run.items()):
                    refresh_hours(connection, run_id, hours)
            else:
                add_attempts_by_id(connection, written, run_ids)
            return len(written)

    def merge(self, runs: Sequence[RunRecord], attempts: Sequence[AttemptRecord]) -> ImportSummary:
        """Add the runs the store lacks and the attempts their runs lack, in one transaction.

        Runs and attempts already present are left exactly as they are.
        """
        rows = [schema.attempt_to_row(attempt_without_nul(a)) for a in attempts]
        return self.merge_batches([MergeBatch([record_without_nul(r)[0] for r in runs], rows)])

    def merge_batches(self, batches: Iterable[MergeBatch]) -> ImportSummary:
        """`merge`, fed batch by batch, all in one transaction (see `store.merge`).

        `batches` may validate its input as it is consumed: whatever it raises rolls back
        every batch already written, so a bad input writes nothing. Each batch's runs are
        written before its skills, cases and attempts.
        """
        with self._write() as connection:
            return merge_into(connection, batches)

    def set_run_status(
        self, run_id: str, status: RunStatus, finished_at: datetime | None = None
    ) -> None:
        """Set a run's status and finish time (None clears it, e.g. when resuming).

        LookupError if there is no such run.
        """
        statement = (
            schema.runs.update()
            .where(schema.runs.c.run_id == run_id)
            .values(status=str(status), finished_at=finished_at)
        )
        with self._write() as connection:
            if connection.execute(statement).rowcount == 0:
                raise LookupError(f"no run {run_id!r} in {self.display_url}")

    # Reads ------------------------------------------------------------------------------

    def get_run(self, run_id: str) -> RunRecord | None:
        """The run with this id, or None."""
        statement = select(schema.runs).where(schema.runs.c.run_id == run_id)
        with self._engine.connect() as connection:
            row = connection.execute(statement).mappings().first()
        return None if row is None else schema.run_from_row(row)

    def list_runs(self, limit: int | None = None) -> list[RunRecord]:
        """Runs, newest first (by start time, then id so ties have a stable order)."""
        statement = (
            select(schema.runs)
            .order_by(schema.runs.c.started_at.desc(), schema.runs.c.run_id.desc())
            .limit(limit)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(statement).mappings().all()
        return [schema.run_from_row(row) for row in rows]

    def run_skills(self, run_id: str) -> list[RunSkillRecord]:
        """The skills a run tested, by name."""
        table = schema.run_skills
        statement = (
            select(table)
            .where(table.c.run_id == run_id)
            .order_by(table.c.name, table.c.folder_name, table.c.path)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(statement).mappings().all()
        return [schema.skill_from_row(row) for row in rows]

    def run_cases(self, run_id: str) -> list[RunCaseRecord]:
        """The cases a run tested, in suite order."""
        table = schema.run_cases
        statement = (
            select(table)
            .where(table.c.run_id == run_id)
            .order_by(table.c.position, table.c.case_id)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(statement).mappings().all()
        return [schema.case_from_row(row) for row in rows]

    def attempts(self, run_id: str) -> list[AttemptRecord]:
        """A run's attempts in the order they were scheduled."""
        table = schema.attempts
        statement = (
            select(*schema.attempt_record_columns())
            .where(table.c.run_id == run_id)
            .order_by(table.c.sequence_number, table.c.case_id, table.c.repeat_index)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(statement).all()
        return [schema.attempt_from_values(row) for row in rows]

    def attempt_keys(
        self, run_id: str, verdicts: Collection[Verdict] | None = None
    ) -> set[tuple[str, int]]:
        """The (case_id, repeat_index) pairs a run has, optionally only with these verdicts.

        A resume skips these: `attempt_keys(run_id, {Verdict.PASS, Verdict.FAIL})` leaves the
        errored attempts to be tried again.
        """
        table = schema.attempts
        statement = select(table.c.case_id, table.c.repeat_index).where(table.c.run_id == run_id)
        if verdicts is not None:
            statement = statement.where(table.c.verdict.in_([str(v) for v in verdicts]))
        with self._engine.connect() as connection:
            return {(case_id, repeat) for case_id, repeat in connection.execute(statement)}

    # Internals --------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        if self._read_only:
            raise InputError(self.display_url, "opened read-only; this command cannot write")
        with self._engine.connect() as connection:
            # IMMEDIATE takes SQLite's write lock up front, so two writers wait on the busy
            # timeout instead of deadlocking when a reader tries to become a writer.
            connection.execution_options(**{_BEGIN_MODE_OPTION: "IMMEDIATE"})
            with connection.begin():
                yield connection

    def _insert_attempt(
        self, connection: Connection, attempt: AttemptRecord, *, replace: bool
    ) -> int | None:
        """The id of `attempt` (NUL already replaced) once written; None when it was there
        and not replaced."""
        table = schema.attempts
        key = [table.c[name] for name in schema.ATTEMPT_KEY_COLUMNS]
        insert = dialect_insert(connection, table)
        if replace:
            excluded = insert.excluded
            updates = {
                column.name: excluded[column.name]
                for column in table.columns
                if column.name not in schema.ATTEMPT_KEY_COLUMNS and not column.primary_key
            }
            upsert = insert.on_conflict_do_update(index_elements=key, set_=updates)
        else:
            upsert = insert.on_conflict_do_nothing(index_elements=key)
        statement = upsert.returning(table.c.attempt_id)
        row = schema.attempt_to_row(attempt)
        # RETURNING, rather than rowcount: drivers disagree on rowcount for ON CONFLICT
        written = connection.execute(statement, row).first()
        return None if written is None else int(written[0])


def _create_engine(url: URL, *, read_only: bool = False) -> Engine:
    if url.get_backend_name() == "postgresql":
        connect_args: dict[str, Any] = {}
        if "connect_timeout" not in url.query:
            connect_args["connect_timeout"] = _POSTGRES_CONNECT_TIMEOUT_S
        if read_only:
            # appended to the URL's own `options` (a search_path, say), not replacing them
            given = url.query.get("options", "")
            given = " ".join(given) if isinstance(given, tuple) else given
            connect_args["options"] = f"{given} -c default_transaction_read_only=on".strip()
            url = url.difference_update_query(["options"])
        return create_engine(url, connect_args=connect_args, pool_pre_ping=True)
    database = url.database or ""
    if read_only:
        return _create_read_only_sqlite_engine(database)
    if database not in ("", ":memory:") and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _create_read_only_sqlite_engine(database: str) -> Engine:
    """SQLite opened `mode=ro`; where even that needs a write (the WAL index of a file in a
    folder the user cannot write), `immutable=1`, which reads the file as it stands."""
    path = Path(database).resolve()

    def connect() -> sqlite3.Connection:
        uri = f"{path.as_uri()}?mode=ro"
        try:
            connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            connection = sqlite3.connect(
                f"{path.as_uri()}?immutable=1", uri=True, check_same_thread=False
            )
        connection.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA query_only = ON")
        register_sqlite_functions(connection)
        return connection

    # The URL names the file (for messages and for readers that open a second connection);
    # the connections themselves come from `connect`.
    return create_engine(URL.create("sqlite", database=str(path)), creator=connect)


def _configure_sqlite_connection(
    dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry
) -> None:
    # pysqlite's own transaction handling skips BEGIN before DDL, so migrations would not
    # be atomic; take over and emit BEGIN ourselves (see _begin_sqlite_transaction).
    dbapi_connection.isolation_level = None
    register_sqlite_functions(dbapi_connection)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        # WAL lets readers (the web UI, the exporter) run while a suite is writing.
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    mode = connection.get_execution_options().get(_BEGIN_MODE_OPTION, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")
