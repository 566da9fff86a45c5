"""What a run covered: per expected skill and category, its cases and their verdicts.

Read from the run's attempts (through the run index), so runs imported without their case
definitions are covered too; the run's recorded skills say which skills had no case.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from routelens.analytics.summary import DecidedAccuracy
from routelens.store import schema
from routelens.store.sql_functions import verdict_sums


@dataclass(frozen=True)
class CoverageCell(DecidedAccuracy):
    """The cases of one run that expect one skill (None: a question) in one category."""

    expected_skill: str | None
    category: str
    cases: int
    passed: int
    failed: int
    errors: int


def run_coverage(engine: Engine, run_id: str) -> list[CoverageCell]:
    """Cases and verdicts of a run per (expected skill, category)."""
    attempts = schema.attempts.c
    keys = [attempts.expected_skill, attempts.category]
    query = (
        select(*keys, func.count(func.distinct(attempts.case_id)), *verdict_sums())
        .where(attempts.run_id == run_id)
        .group_by(*keys)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        CoverageCell(row[0], row[1], int(row[2]), *(int(value or 0) for value in row[3:6]))
        for row in rows
    ]
