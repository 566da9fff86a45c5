"""The read path of `routelens patterns`: distinct failed inputs with their verdict counts.

A GROUP BY over the window's attempts by input hash (the hash is of the input text, so
one group is one text), through (case, input hash) groups; only groups with a failure are
kept, the most failed first, up to a cap. Python receives at most `limit` rows, however
many attempts the window holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from routelens.analytics.patterns import InputOutcomes
from routelens.analytics.window import AttemptFilter
from routelens.store import schema
from routelens.store.reads import attempts_select
from routelens.store.records import Verdict
from routelens.store.sql_functions import sum_if

MAX_FAILED_INPUTS = 2000
"""The most distinct failed inputs one analysis reads (the most failed first): clustering
cost grows with the square of the inputs."""


@dataclass(frozen=True)
class FailedInputs:
    """The failed inputs read (most failed first) and how many distinct ones the window had."""

    rows: list[InputOutcomes]
    total: int

    @property
    def truncated(self) -> bool:
        """Whether the cap left some failed inputs out."""
        return self.total > len(self.rows)


def read_failed_inputs(
    engine: Engine,
    attempt_filter: AttemptFilter,
    *,
    skill: str | None = None,
    limit: int = MAX_FAILED_INPUTS,
) -> FailedInputs:
    """Each distinct input with at least one failed attempt: its failures and passes.

    `skill` keeps the attempts of cases expecting that skill. Ties in failures are broken by
    the input hash, so the same store always gives the same rows.
    """
    attempts = schema.attempts.c
    # Grouped by (case, input hash) first: on SQLite that GROUP BY reads the covering flaky
    # history index in order (nothing sorted, no table row read), then the few thousand
    # groups are summed by input hash. Grouping by input hash alone sorted every attempt.
    per_case = attempts_select(
        [
            attempts.case_id,
            attempts.input_hash,
            func.min(attempts.attempt_id).label("first_attempt"),
            sum_if(attempts.verdict == str(Verdict.FAIL)).label("failures"),
            sum_if(attempts.verdict == str(Verdict.PASS)).label("passes"),
        ],
        attempt_filter,
        attempts_only=True,
        sqlite_time_index=engine.dialect.name != "sqlite",
    )
    if skill is not None:
        per_case = per_case.where(attempts.expected_skill == skill)
    cases = per_case.group_by(attempts.case_id, attempts.input_hash).subquery("per_case")
    failures = func.sum(cases.c.failures).label("failures")
    failed = (
        select(
            cases.c.input_hash,
            func.min(cases.c.first_attempt).label("first_attempt"),
            failures,
            func.sum(cases.c.passes).label("passes"),
        )
        .group_by(cases.c.input_hash)
        .having(failures > 0)
        .subquery("failed_inputs")
    )
    ranked = (
        select(
            failed.c.first_attempt,
            failed.c.failures,
            failed.c.passes,
            func.count().over().label("total"),
        )
        .order_by(failed.c.failures.desc(), failed.c.input_hash)
        .limit(limit)
        .subquery("ranked")
    )
    query = (
        select(schema.attempts.c.input, ranked.c.failures, ranked.c.passes, ranked.c.total)
        .join_from(ranked, schema.attempts, schema.attempts.c.attempt_id == ranked.c.first_attempt)
        .order_by(ranked.c.failures.desc(), schema.attempts.c.input_hash)
    )
    with engine.connect() as connection:
        result = connection.execute(query).all()
    rows = [InputOutcomes(row[0], int(row[1]), int(row[2] or 0)) for row in result]
    return FailedInputs(rows, int(result[0][3]) if result else 0)
