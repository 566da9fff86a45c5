"""What each rollup table sums: its *facts* (one row per attempt, or per retry) and how they
are aggregated. The write path aggregates the facts of new attempts into the tables; the read
path aggregates the facts of the attempts a table cannot answer for (hours only partly inside
a window) the same way, so both halves of an answer come from one definition.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Double,
    Integer,
    Select,
    String,
    Table,
    and_,
    case,
    cast,
    column,
    func,
    literal_column,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.sql.selectable import FromClause, TableValuedAlias

from routelens.analytics.api_health import API_LATENCY_BUCKETS_SECONDS, RATE_LIMITED_STATUSES
from routelens.store import schema
from routelens.store.records import Verdict
from routelens.store.rollup_schema import (
    ROLLUP_KEYS,
    attempt_rollups,
    cost_rollups,
    disambiguation_rollups,
    latency_rollups,
    retry_rollups,
)
from routelens.store.sql_functions import (
    epoch_seconds,
    latency_log_bucket,
    scalar_max,
    scalar_min,
    utc_hour,
)
from routelens.suite.models import Category

SPEND_DECIMALS = 9
"""Summed spend is reported to the nano-dollar: a float sum depends on the order of its
additions, and a day summed from hourly rollups differs from the same day summed attempt by
attempt in about the 13th digit, which would turn equal days into different ones (the daily
anomaly's MAD, the order of equal spends)."""
COST_UNITS_PER_USD = 100_000_000
"""Per-attempt costs are grouped to 1e-8 USD before the median, so a million attempts
arrive as a few thousand (cost, count) groups; far finer than any price difference."""

_DECIDED = (str(Verdict.PASS), str(Verdict.FAIL))

Conditions = Sequence[ColumnElement[bool]]
"""WHERE conditions over `attempts` (and `runs`, when the facts join them)."""


@dataclass(frozen=True)
class Rollup:
    """One rollup table: its key, its measures by how they combine, and its facts."""

    table: Table
    sums: tuple[str, ...]
    minimums: tuple[str, ...]
    maximums: tuple[str, ...]
    facts: Callable[[str, Conditions, bool], Select[Any]]
    """(dialect, conditions, join runs) → one row per attempt (or retry) with a column for
    each key and each measure of the table."""

    @property
    def keys(self) -> tuple[str, ...]:
        """The key columns, run first."""
        return ROLLUP_KEYS[self.table.name]

    @property
    def measures(self) -> tuple[str, ...]:
        """Every non-key column."""
        return (*self.sums, *self.minimums, *self.maximums)

    def aggregated(
        self, dialect: str, conditions: Conditions, *, join_runs: bool = False
    ) -> Select[Any]:
        """The facts where `conditions` hold, grouped by the key: rows of the table's shape."""
        facts = self.facts(dialect, conditions, join_runs).subquery("facts")
        keys = [facts.c[name] for name in self.keys]
        return (
            select(
                *keys,
                *(func.sum(facts.c[name]).label(name) for name in self.sums),
                *(func.min(facts.c[name]).label(name) for name in self.minimums),
                *(func.max(facts.c[name]).label(name) for name in self.maximums),
            )
            .where(true())  # SQLite reads ON CONFLICT after a SELECT without WHERE as a join's ON
            .group_by(*keys)
        )


def _one_of(column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN (values)` written as ORs: plain parameters, so a statement built once is
    executed without SQLAlchemy expanding an IN list each time (the runner's write path)."""
    return or_(*(column == value for value in values))


def _from_attempts(join_runs: bool) -> FromClause:
    if not join_runs:
        return schema.attempts
    return schema.attempts.join(schema.runs, schema.attempts.c.run_id == schema.runs.c.run_id)


_LARGEST_SUMMED = 1e300
"""PostgreSQL refuses a float sum that overflows (SQLite makes it infinite): there each
attempt's value enters a sum at most this large, which only a nonsensical value exceeds."""


def _summable(dialect: str, value: ColumnElement[Any]) -> ColumnElement[Any]:
    if dialect != "postgresql":
        return value.label(value.key) if value.key else value
    bound = literal_column(repr(_LARGEST_SUMMED), Double)
    capped = scalar_min(scalar_max(value, -bound), bound)
    return capped.label(value.key) if value.key else capped


def _hour() -> ColumnElement[str]:
    return utc_hour(schema.attempts.c.started_at).label("hour")


def _one(name: str) -> ColumnElement[int]:
    return literal_column("1", Integer).label(name)


def _attempt_facts(dialect: str, conditions: Conditions, join_runs: bool) -> Select[Any]:
    attempts = schema.attempts.c
    errored = attempts.verdict == str(Verdict.ERROR)
    limited = and_(errored, _one_of(attempts.http_status, sorted(RATE_LIMITED_STATUSES)))
    server = and_(
        errored,
        attempts.http_status.between(500, 599),
        attempts.http_status.not_in(sorted(RATE_LIMITED_STATUSES)),
    )
    busy = epoch_seconds(attempts.finished_at) - epoch_seconds(attempts.started_at)
    return (
        select(
            attempts.run_id,
            _hour(),
            attempts.category,
            attempts.expected_skill,
            attempts.expected_skill_hash,
            attempts.actual_skill,
            attempts.asked_clarification,
            attempts.verdict,
            _one("attempts"),
            attempts.retries,
            _summable(dialect, attempts.retry_wait_s),
            _summable(dialect, attempts.cost_usd),
            *(
                cast(attempts[name], Double).label(name)
                for name in (
                    "input_tokens",
                    "output_tokens",
                    "cache_read_tokens",
                    "cache_write_tokens",
                )
            ),
            case((limited, 1), else_=0).label("rate_limited_errors"),
            case((server, 1), else_=0).label("server_errors"),
            # SQLite's julianday has no value for the last instants of year 9999
            _summable(dialect, func.coalesce(busy, 0.0)).label("busy_s"),
            _summable(dialect, func.coalesce(attempts.options_score, 0.0)).label(
                "options_score_sum"
            ),
            case((attempts.options_score.is_not(None), 1), else_=0).label("options_scored"),
            attempts.started_at.label("first_started_at"),
            attempts.finished_at.label("last_finished_at"),
        )
        .select_from(_from_attempts(join_runs))
        .where(*conditions)
    )


def cost_units(dialect: str) -> ColumnElement[float]:
    """An attempt's cost in 1e-8 USD, rounded (`cost_rollups.cost_units`)."""
    cost = _summable(dialect, schema.attempts.c.cost_usd)
    return func.round(cost * literal_column(str(COST_UNITS_PER_USD)))


def _cost_facts(dialect: str, conditions: Conditions, join_runs: bool) -> Select[Any]:
    attempts = schema.attempts.c
    return (
        select(attempts.run_id, _hour(), cost_units(dialect).label("cost_units"), _one("attempts"))
        .select_from(_from_attempts(join_runs))
        .where(*conditions)
    )


def api_latency() -> ColumnElement[float]:
    """The latency the exporter's histogram counts: the attempt's, less its retry waits.

    Its bucket is the first of `API_LATENCY_BUCKETS_SECONDS` it is at most, or one past
    the last bound."""
    return schema.attempts.c.latency_s - schema.attempts.c.retry_wait_s


def _latency_facts(dialect: str, conditions: Conditions, join_runs: bool) -> Select[Any]:
    attempts = schema.attempts.c
    api = api_latency()
    bounds = API_LATENCY_BUCKETS_SECONDS
    api_bucket = case(
        *((api <= bound, index) for index, bound in enumerate(bounds)), else_=len(bounds)
    )
    return (
        select(
            attempts.run_id,
            _hour(),
            _one_of(attempts.verdict, _DECIDED).label("decided"),
            api_bucket.label("api_bucket"),
            _summable(dialect, api).label("api_seconds"),
            latency_log_bucket(attempts.latency_s).label("log_bucket"),
            attempts.latency_s.label("min_s"),
            attempts.latency_s.label("max_s"),
            _one("attempts"),
        )
        .select_from(_from_attempts(join_runs))
        .where(*conditions)
    )


def retry_events(dialect: str) -> TableValuedAlias:
    """`attempts.retry_log` as a table of JSON values (one row per retry), to join on true."""
    expand = func.json_array_elements if dialect == "postgresql" else func.json_each
    return expand(schema.attempts.c.retry_log).table_valued(
        column("value", JSON), joins_implicitly=True
    )


def _retry_facts(dialect: str, conditions: Conditions, join_runs: bool) -> Select[Any]:
    attempts = schema.attempts.c
    events = retry_events(dialect).alias("retry_event")
    counted = (attempts.retries > 0).label("attempt_retried")
    logged = select(
        attempts.run_id,
        _hour(),
        events.c.value["http_status"].as_integer().label("http_status"),
        events.c.value["error_type"].as_string().label("error_type"),
        literal_column("true", Boolean).label("logged"),
        counted,
        _one("retries"),
    ).select_from(_from_attempts(join_runs).join(events, true()))
    # attempts stored before schema v2 count their retries without a log
    unlogged = select(
        attempts.run_id,
        _hour(),
        literal_column("NULL", Integer).label("http_status"),
        literal_column("NULL", String).label("error_type"),
        literal_column("false", Boolean).label("logged"),
        counted,
        attempts.retries.label("retries"),
    ).select_from(_from_attempts(join_runs))
    return union_all(  # type: ignore[return-value]
        logged.where(*conditions),
        unlogged.where(attempts.retry_log.is_(None), attempts.retries > 0, *conditions),
    )


DISAMBIGUATION_CATEGORY = Category.DISAMBIGUATION.value


def _disambiguation_facts(dialect: str, conditions: Conditions, join_runs: bool) -> Select[Any]:
    attempts = schema.attempts.c
    clarified = and_(attempts.actual_skill.is_(None), attempts.asked_clarification == true())
    scored = attempts.options_score.is_not(None)
    score = _summable(dialect, func.coalesce(attempts.options_score, 0.0))
    return (
        select(
            attempts.run_id,
            _hour(),
            attempts.case_id,
            _one_of(attempts.verdict, _DECIDED).label("decided"),
            _one("attempts"),
            case((clarified, 1), else_=0).label("clarified"),
            score.label("options_score_sum"),
            case((scored, 1), else_=0).label("options_scored"),
            case((clarified, score), else_=0.0).label("clarified_options_score_sum"),
            case((and_(clarified, scored), 1), else_=0).label("clarified_options_scored"),
        )
        .select_from(_from_attempts(join_runs))
        .where(attempts.category == DISAMBIGUATION_CATEGORY, *conditions)
    )


ATTEMPTS = Rollup(
    attempt_rollups,
    sums=(
        "attempts",
        "retries",
        "retry_wait_s",
        "cost_usd",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "rate_limited_errors",
        "server_errors",
        "busy_s",
        "options_score_sum",
        "options_scored",
    ),
    minimums=("first_started_at",),
    maximums=("last_finished_at",),
    facts=_attempt_facts,
)
COSTS = Rollup(cost_rollups, ("attempts",), (), (), _cost_facts)
LATENCIES = Rollup(
    latency_rollups, ("attempts", "api_seconds"), ("min_s",), ("max_s",), _latency_facts
)
RETRIES = Rollup(retry_rollups, ("retries",), (), (), _retry_facts)

DISAMBIGUATION = Rollup(
    disambiguation_rollups,
    (
        "attempts",
        "clarified",
        "options_score_sum",
        "options_scored",
        "clarified_options_score_sum",
        "clarified_options_scored",
    ),
    (),
    (),
    _disambiguation_facts,
)

ROLLUPS = (ATTEMPTS, COSTS, LATENCIES, RETRIES, DISAMBIGUATION)
"""Every rollup table, as the write path keeps them."""
