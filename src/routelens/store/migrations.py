"""Versioned schema: an ordered list of migrations, applied in one transaction when a store opens.

Each migration is frozen once released: a later schema change is a new migration, never an
edit of an old one, so a store created by any version of routelens can be brought forward.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, func, inspect, select, text

from routelens.errors import InputError
from routelens.store import schema
from routelens.store.rollup_schema import ROLLUP_TABLES
from routelens.store.rollup_writes import fill_rollups
from routelens.suite.hashing import input_hash

# Any constant works; it only has to be the same for every routelens process on a database.
_POSTGRES_MIGRATION_LOCK = 0x726F_7574_656C_656E  # "routelen"


@dataclass(frozen=True)
class Migration:
    """One step of the schema: `apply` moves a store from `version - 1` to `version`."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def _create_v1(connection: Connection) -> None:
    # Creates the tables as currently defined; later migrations only add what is missing,
    # so a fresh store and one migrated from v1 end in the same shape.
    tables = [schema.runs, schema.run_skills, schema.run_cases, schema.attempts]
    schema.metadata.create_all(connection, tables=tables)


def _add_retry_log_v2(connection: Connection) -> None:
    # v1 builds tables from the live definitions, so a store created fresh already has the
    # column; one created by v1 code gets it here. Rows from before stay NULL (= no retries
    # recorded one by one).
    columns = {column["name"] for column in inspect(connection).get_columns("attempts")}
    if "retry_log" not in columns:
        connection.execute(text("ALTER TABLE attempts ADD COLUMN retry_log JSON"))


def _create_experiments_v3(connection: Connection) -> None:
    # Not in v1's table list, so every store gets it here; checkfirst keeps this a no-op
    # should a store already hold the table.
    schema.experiments.create(connection, checkfirst=True)


def _create_change_events_v4(connection: Connection) -> None:
    schema.change_events.create(connection, checkfirst=True)


def _add_input_hash_v5(connection: Connection) -> None:
    # A store created fresh has the column and index from the live definitions (v1); an
    # older one gets the column, filled for every attempt already there, then the index.
    columns = {column["name"] for column in inspect(connection).get_columns("attempts")}
    if "input_hash" not in columns:
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE attempts ADD COLUMN input_hash VARCHAR"))
            # The same value as `input_hash`: the first 16 hex digits of the UTF-8 sha256.
            connection.execute(
                text(
                    "UPDATE attempts SET input_hash = "
                    "substr(encode(sha256(convert_to(input, 'UTF8')), 'hex'), 1, 16)"
                )
            )
            connection.execute(text("ALTER TABLE attempts ALTER COLUMN input_hash SET NOT NULL"))
        else:
            # SQLite adds a NOT NULL column only with a default; every row is filled below.
            connection.execute(
                text("ALTER TABLE attempts ADD COLUMN input_hash VARCHAR NOT NULL DEFAULT ''")
            )
            sqlite_connection = connection.connection.driver_connection
            sqlite_connection.create_function(  # type: ignore[union-attr]
                "routelens_input_hash", 1, input_hash, deterministic=True
            )
            connection.execute(text("UPDATE attempts SET input_hash = routelens_input_hash(input)"))
    index = next(ix for ix in schema.attempts.indexes if ix.name == schema.FLAKY_HISTORY_INDEX)
    index.create(connection, checkfirst=True)


def _create_claude_prompts_v6(connection: Connection) -> None:
    schema.claude_prompts.create(connection, checkfirst=True)


def _add_v7_columns(connection: Connection) -> None:
    # A store created fresh has these from the live definitions (v1, v4); an older one gets
    # them here. Rows from before keep NULL (no score, offset unknown) or false.
    inspector = inspect(connection)
    attempt_columns = {column["name"] for column in inspector.get_columns("attempts")}
    if "confirmation_score" not in attempt_columns:
        connection.execute(text("ALTER TABLE attempts ADD COLUMN confirmation_score FLOAT"))
    if "nul_replaced" not in attempt_columns:
        connection.execute(
            text("ALTER TABLE attempts ADD COLUMN nul_replaced BOOLEAN NOT NULL DEFAULT false")
        )
    event_columns = {column["name"] for column in inspector.get_columns("change_events")}
    if "committed_utc_offset_s" not in event_columns:
        connection.execute(
            text("ALTER TABLE change_events ADD COLUMN committed_utc_offset_s INTEGER")
        )
    if "new_has_front_matter" not in event_columns:
        connection.execute(
            text("ALTER TABLE change_events ADD COLUMN new_has_front_matter BOOLEAN")
        )


def _create_rollups_v8(connection: Connection) -> None:
    for table in ROLLUP_TABLES:
        table.create(connection, checkfirst=True)
    fill_rollups(connection)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "runs, run_skills, run_cases and attempts", _create_v1),
    Migration(2, "attempts.retry_log: each retry's error type, status and wait", _add_retry_log_v2),
    Migration(3, "experiments: A/B tests of two skill versions", _create_experiments_v3),
    Migration(4, "change_events: SKILL.md history from git", _create_change_events_v4),
    Migration(5, "attempts.input_hash and the flaky history index", _add_input_hash_v5),
    Migration(
        6, "claude_prompts: captured Claude Code request templates", _create_claude_prompts_v6
    ),
    Migration(
        7,
        "attempts.confirmation_score and nul_replaced; change_events commit offset and "
        "front matter",
        _add_v7_columns,
    ),
    Migration(
        8,
        "rollups: attempts, costs, latencies and retries summed per hour and run",
        _create_rollups_v8,
    ),
)
"""Every migration this code knows, oldest first."""

LATEST_VERSION = MIGRATIONS[-1].version
"""The schema version this code writes."""


def check_ordered(migrations: Sequence[Migration]) -> None:
    """Raise ValueError unless versions run 1, 2, 3, … without gaps or repeats."""
    versions = [migration.version for migration in migrations]
    expected = list(range(1, len(migrations) + 1))
    if versions != expected:
        raise ValueError(f"migration versions must be {expected}, got {versions}")


def current_version(connection: Connection) -> int:
    """The store's schema version; 0 for an empty database."""
    if not inspect(connection).has_table(schema.schema_version.name):
        return 0
    version = connection.execute(select(func.max(schema.schema_version.c.version))).scalar()
    return int(version or 0)


def migrate(
    connection: Connection,
    store_url: str,
    migrations: Sequence[Migration] = MIGRATIONS,
) -> int:
    """Apply the pending migrations on `connection` (inside the caller's transaction).

    Returns the version the store is at afterwards. A store newer than the newest migration
    is refused with an InputError naming `store_url`: old code must not write a schema it
    does not understand.
    """
    check_ordered(migrations)
    if connection.dialect.name == "postgresql":
        # Two processes opening a fresh database must not both create the tables.
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_MIGRATION_LOCK}
        )
    schema.schema_version.create(connection, checkfirst=True)
    version = current_version(connection)
    latest = migrations[-1].version if migrations else 0
    if version > latest:
        raise InputError(
            store_url,
            f"the store's schema is version {version} but this routelens knows up to "
            f"version {latest}; upgrade routelens to use this store",
            field="schema_version",
        )
    for migration in migrations[version:]:
        migration.apply(connection)
        connection.execute(
            schema.schema_version.insert().values(
                version=migration.version,
                description=migration.description,
                applied_at=datetime.now(UTC),
            )
        )
    return max(version, latest)


def _store_tables() -> list[str]:
    return sorted(table.name for table in schema.metadata.sorted_tables)


def check_tables(connection: Connection, store_url: str) -> None:
    """InputError unless every table of the schema is there (a damaged or foreign database)."""
    missing = sorted(set(_store_tables()) - set(inspect(connection).get_table_names()))
    if missing:
        raise InputError(
            store_url,
            f"not a routelens store, or damaged: table {missing[0]!r} is missing",
            field="store",
        )


def check_not_empty(connection: Connection, store_url: str) -> None:
    """InputError when the database holds no routelens store (nothing to open for writing)."""
    if current_version(connection) == 0 and not inspect(connection).has_table("runs"):
        raise InputError(
            store_url,
            "no routelens store here (a run creates it: routelens run ...)",
            field="store",
        )


def check_readable(connection: Connection, store_url: str) -> None:
    """InputError unless the store is at exactly the schema this code reads, with its tables.

    Reading never migrates: an older store asks for `routelens migrate`, a newer one for a
    newer routelens.
    """
    version = current_version(connection)
    if version == 0:
        check_not_empty(connection, store_url)
        raise InputError(
            store_url, "not a routelens store, or damaged: no schema version", field="store"
        )
    if version > LATEST_VERSION:
        raise InputError(
            store_url,
            f"the store's schema is version {version} but this routelens knows up to "
            f"version {LATEST_VERSION}; upgrade routelens to use this store",
            field="schema_version",
        )
    if version < LATEST_VERSION:
        raise InputError(
            store_url,
            f"the store's schema is version {version}; this routelens reads version "
            f"{LATEST_VERSION}: run `routelens migrate --store {store_url}` first",
            field="schema_version",
        )
    check_tables(connection, store_url)
