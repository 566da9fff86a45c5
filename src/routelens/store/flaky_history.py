"""Read paths for `routelens flaky` and the exporter's case families: per-group flaky counts.

A group is (case, input, skills hash, router, model). The store returns, per (case, input
hash), each attempt's setup code and verdict letter in time order as one *history string*
(on SQLite straight from the covering index `ix_attempts_flaky_history`, nothing sorted;
on a big SQLite file two connections read half of the cases each); the strings are split
by setup and counted here: decided attempts, passes, errors and flips (docs/flaky.md).
When SQLite would not read the index in order, the portable LAG statement counts instead.
`routelens.analytics.flaky.classify_flaky` does the statistics on the result.
"""

from __future__ import annotations

import json
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    Executable,
    Select,
    TextClause,
    and_,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.exc import OperationalError

from routelens.analytics.flaky import CaseKey, FlakyAggregate
from routelens.analytics.window import AttemptFilter
from routelens.store import schema
from routelens.store.reads import attempts_select, label_conditions
from routelens.store.records import Verdict
from routelens.store.sql_functions import sum_if

_PASS, _FAIL, _ERROR = (str(verdict)[0] for verdict in (Verdict.PASS, Verdict.FAIL, Verdict.ERROR))
_FIRST_SETUP_CODE = 0x100  # clear of ASCII, so a code is never a verdict letter
_SURROGATES_START, _SURROGATES_LENGTH = 0xD800, 0x800
_SAME_SETUP_STRETCH = re.compile(r"(.)\1*", re.DOTALL)
_IDS_PER_STATEMENT = 10_000
_PARALLEL_MIN_ATTEMPTS = 50_000
"""A SQLite file with at least this many attempts is read by two connections at once."""

Setup = tuple[str, str, str | None]
"""What a run's attempts ran under: (skills hash, router, model)."""


def case_key_columns() -> list[Any]:
    """The grouping columns over `attempts` joined with `runs`, in `CaseKey` field order."""
    attempts, runs = schema.attempts.c, schema.runs.c
    return [attempts.case_id, attempts.input, runs.skills_hash, runs.router, runs.model]


def read_flaky_aggregates(
    connection: Connection, attempt_filter: AttemptFilter
) -> list[FlakyAggregate]:
    """One aggregate per group: the runs' setups, then one history string per case input.

    Groups are (case, input, skills hash, router, model); within each the decided attempts
    are counted, passed and compared in time order (see `fold_history`).
    """
    setups: dict[str, Setup] = {}  # code -> setup
    codes: dict[str, str] = {}  # run_id -> code
    code_of_setup: dict[Setup, str] = {}
    for run_id, skills_hash, router, model in connection.execute(
        run_conditions_query(attempt_filter)
    ):
        setup = (skills_hash, router, model)
        code = code_of_setup.get(setup)
        if code is None:
            code = code_of_setup[setup] = setup_code(len(code_of_setup))
            setups[code] = setup
        codes[run_id] = code
    if not codes:
        return []
    codes_json = json.dumps(codes)
    if connection.dialect.name == "postgresql":
        query = verdict_histories_query(attempt_filter, connection.dialect.name)
        rows = list(connection.execute(query, {"run_codes": codes_json}).all())
    elif sqlite_reads_in_order(connection, attempt_filter):
        rows = _read_sqlite_histories(connection, attempt_filter, codes_json)
    else:
        return read_lag_aggregates(connection, attempt_filter)
    inputs = read_inputs(connection, [row[2] for row in rows])
    aggregates = []
    for case_id, _, first_attempt_id, history in rows:
        input_text = inputs[first_attempt_id]
        for code, verdicts in split_history(history).items():
            skills_hash, router, model = setups[code]
            key = CaseKey(case_id, input_text, skills_hash, router, model)
            aggregates.append(fold_history(key, verdicts))
    return aggregates


def read_lag_aggregates(
    connection: Connection, attempt_filter: AttemptFilter
) -> list[FlakyAggregate]:
    """Run `lag_aggregates_query`: one aggregate per group."""
    return [
        FlakyAggregate(
            key=CaseKey(*row[:5]),
            attempts=int(row.attempts or 0),
            passes=int(row.passes or 0),
            errors=int(row.errors or 0),
            flips=int(row.flips or 0),
        )
        for row in connection.execute(lag_aggregates_query(attempt_filter))
    ]


def lag_aggregates_query(attempt_filter: AttemptFilter) -> Select[Any]:
    """The portable statement, used when SQLite would not read the flaky index in order.

    Per group: decided attempts, passes, errors, and flips between consecutive decided ones.

    Errors get a window partition of their own, so LAG in the decided partition sees the
    previous *decided* attempt: pass, error, pass is no flip. Ties in time are broken by the
    run's sequence number, then by insertion order.
    """
    attempts = schema.attempts.c
    keys = case_key_columns()
    is_error = attempts.verdict == str(Verdict.ERROR)
    previous = func.lag(attempts.verdict).over(
        partition_by=[*keys, is_error],
        order_by=[attempts.started_at, attempts.sequence_number, attempts.attempt_id],
    )
    ordered = attempts_select(
        [
            *(column.label(f"key_{index}") for index, column in enumerate(keys)),
            attempts.verdict,
            previous.label("previous"),
        ],
        attempt_filter,
    ).subquery("ordered")
    verdict, before = ordered.c.verdict, ordered.c.previous
    decided = verdict != str(Verdict.ERROR)
    flipped = decided & before.is_not(None) & (before != verdict)
    group = [ordered.c[f"key_{index}"] for index in range(len(keys))]
    return select(
        *group,
        sum_if(decided).label("attempts"),
        sum_if(verdict == str(Verdict.PASS)).label("passes"),
        sum_if(~decided).label("errors"),
        sum_if(flipped).label("flips"),
    ).group_by(*group)


def run_conditions_query(attempt_filter: AttemptFilter) -> Select[Any]:
    """The runs the filter admits, with the setup their attempts ran under."""
    runs = schema.runs.c
    query = select(runs.run_id, runs.skills_hash, runs.router, runs.model)
    conditions = label_conditions(attempt_filter)
    if attempt_filter.run_ids:
        conditions.append(runs.run_id.in_(attempt_filter.run_ids))
    return query.where(and_(*conditions)) if conditions else query


def verdict_histories_query(attempt_filter: AttemptFilter, dialect: str) -> Executable:
    """Per (case, input hash): the first attempt's id and a history string.

    The history holds two characters per attempt in time order (start, then the run's
    sequence number, then insertion): the run's setup code, as bound in the JSON object
    `run_codes`, and the verdict's first letter (p, f, e). Runs missing from `run_codes`
    are left out. SQLite reads the rows in that order from the flaky history index, which
    also orders its GROUP BY, so nothing is sorted (`sqlite_reads_in_order` checks the
    plan); PostgreSQL orders the aggregate itself.
    """
    if dialect != "postgresql":
        return _sqlite_histories(attempt_filter)
    attempts = schema.attempts.c
    since = attempt_filter.since
    pairs = func.json_each_text(cast(bindparam("run_codes"), JSON)).table_valued("key", "value")
    run_codes = select(pairs.c.key.label("run_id"), pairs.c.value.label("code")).cte("run_codes")
    token = run_codes.c.code.concat(func.substr(attempts.verdict, 1, 1))
    order = (attempts.started_at, attempts.sequence_number, attempts.attempt_id)
    history = func.string_agg(token, aggregate_order_by(literal_column("''"), *order))
    query = (
        select(attempts.case_id, attempts.input_hash, func.min(attempts.attempt_id), history)
        .select_from(schema.attempts.join(run_codes, run_codes.c.run_id == attempts.run_id))
        .group_by(attempts.case_id, attempts.input_hash)
    )
    if since is not None:
        query = query.where(attempts.started_at.between(since, attempt_filter.now))
    return query


# CROSS JOIN keeps attempts the outer loop; MATERIALIZED stops SQLite from re-reading the JSON
# for every attempt. group_concat appends in the order rows arrive, which is the index's.
_SQLITE_HISTORIES = """
WITH run_codes AS MATERIALIZED (SELECT key AS run_id, value AS code FROM json_each(:run_codes))
SELECT attempts.case_id, attempts.input_hash, min(attempts.attempt_id),
       group_concat(run_codes.code || substr(attempts.verdict, 1, 1), '')
FROM attempts INDEXED BY {index} CROSS JOIN run_codes ON run_codes.run_id = attempts.run_id
{where}
GROUP BY attempts.case_id, attempts.input_hash
"""

# The case in the middle of the index, when there are enough attempts to be worth a thread.
_SPLIT_CASE = text(
    f"SELECT case_id FROM attempts INDEXED BY {schema.FLAKY_HISTORY_INDEX} "
    "WHERE (SELECT count(*) FROM attempts) >= :minimum ORDER BY case_id "
    "LIMIT 1 OFFSET (SELECT count(*) FROM attempts) / 2"
)


def _sqlite_histories(
    attempt_filter: AttemptFilter, prefix: str = "", cases: str = ""
) -> TextClause:
    # `cases` ("<" or ">="): only the cases before, or from, the one bound as :split_case.
    conditions = ["attempts.started_at BETWEEN :since AND :now"] if attempt_filter.since else []
    if cases:
        conditions.append(f"attempts.case_id {cases} :split_case")
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    sql = _SQLITE_HISTORIES.format(index=schema.FLAKY_HISTORY_INDEX, where=where)
    statement = text(prefix + sql)
    if attempt_filter.since is None:
        return statement
    time_type = schema.attempts.c.started_at.type
    return statement.bindparams(
        bindparam("since", attempt_filter.since, type_=time_type),
        bindparam("now", attempt_filter.now, type_=time_type),
    )


def _read_sqlite_histories(
    connection: Connection, attempt_filter: AttemptFilter, codes_json: str
) -> list[Any]:
    # SQLite releases the GIL while it steps, so a second connection reading the later half
    # of the cases in a thread uses the second core. Only a database file can be opened
    # twice (an in-memory one would be another, empty, database).
    parameters: dict[str, Any] = {"run_codes": codes_json}
    database = connection.engine.url.database or ""
    split_case = None
    if database not in ("", ":memory:") and not database.startswith("file:"):
        split_case = connection.execute(_SPLIT_CASE, {"minimum": _PARALLEL_MIN_ATTEMPTS}).scalar()
    if split_case is None:
        return list(connection.execute(_sqlite_histories(attempt_filter), parameters).all())
    parameters["split_case"] = split_case

    def read_later_cases() -> list[Any]:
        with connection.engine.connect() as other:
            statement = _sqlite_histories(attempt_filter, cases=">=")
            return list(other.execute(statement, parameters).all())

    with ThreadPoolExecutor(max_workers=1) as pool:
        later = pool.submit(read_later_cases)
        statement = _sqlite_histories(attempt_filter, cases="<")
        earlier = list(connection.execute(statement, parameters).all())
        return earlier + later.result()


def sqlite_reads_in_order(connection: Connection, attempt_filter: AttemptFilter) -> bool:
    """Whether SQLite's plan for the histories walks the flaky index without sorting."""
    plan = []
    for cases in ("", "<"):
        explained = _sqlite_histories(attempt_filter, prefix="EXPLAIN QUERY PLAN ", cases=cases)
        parameters = {"run_codes": "{}", "split_case": ""} if cases else {"run_codes": "{}"}
        try:
            plan += [str(row[-1]) for row in connection.execute(explained, parameters)]
        except OperationalError:  # no such index: a store someone has changed by hand
            return False
    walks_index = any(f"COVERING INDEX {schema.FLAKY_HISTORY_INDEX}" in step for step in plan)
    return walks_index and not any("TEMP B-TREE" in step for step in plan)


def read_inputs(connection: Connection, attempt_ids: list[int]) -> dict[int, str]:
    """The input text of each attempt, read by primary key a chunk at a time."""
    attempts = schema.attempts.c
    inputs: dict[int, str] = {}
    for start in range(0, len(attempt_ids), _IDS_PER_STATEMENT):
        chunk = attempt_ids[start : start + _IDS_PER_STATEMENT]
        query = select(attempts.attempt_id, attempts.input).where(attempts.attempt_id.in_(chunk))
        inputs.update({int(row[0]): row[1] for row in connection.execute(query)})
    return inputs


def setup_code(index: int) -> str:
    """The one character standing for the `index`-th setup in a history string."""
    code = _FIRST_SETUP_CODE + index
    if code >= _SURROGATES_START:  # not characters: skip the UTF-16 surrogates
        code += _SURROGATES_LENGTH
    if code > sys.maxunicode:
        raise ValueError(f"more than {index} run setups in one flaky report")
    return chr(code)


def split_history(history: str) -> dict[str, str]:
    """A (case, input)'s history string as each setup's verdict letters, in time order."""
    setups, verdicts = history[0::2], history[1::2]
    if setups.count(setups[0]) == len(setups):
        return {setups[0]: verdicts}
    parts: dict[str, list[str]] = {}
    # One step per stretch of attempts under one setup, not per attempt.
    for stretch in _SAME_SETUP_STRETCH.finditer(setups):
        parts.setdefault(stretch.group(1), []).append(verdicts[stretch.start() : stretch.end()])
    return {code: "".join(pieces) for code, pieces in parts.items()}


def fold_history(key: CaseKey, verdicts: str) -> FlakyAggregate:
    """Counts for one group from its verdict letters in time order (p, f, e).

    Errors are counted apart and dropped before flips are counted, so pass, error, pass is
    no flip: a flip is a "pf" or "fp" between consecutive decided attempts.
    """
    return FlakyAggregate(key, *_history_counts(verdicts))


@lru_cache(maxsize=65_536)
def _history_counts(verdicts: str) -> tuple[int, int, int, int]:
    # Many groups share a history (all passes, say): count each distinct one once.
    errors = verdicts.count(_ERROR)
    decided = verdicts.replace(_ERROR, "") if errors else verdicts
    flips = decided.count(_PASS + _FAIL) + decided.count(_FAIL + _PASS)
    return len(decided), decided.count(_PASS), errors, flips
