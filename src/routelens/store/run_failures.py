"""A run's failed and errored cases, a page at a time: what the web run page lists.

One grouped statement per page (cases with at least one failed or errored attempt that
match the filters, in suite order), then the newest such attempt of each case on the page
and the case definitions those few cases have. The search is a case-insensitive substring
match over the input and the response text (SQL `LIKE`, with `%`, `_` and `\\` escaped).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, func, or_, select

from routelens.store import schema
from routelens.store.records import Verdict
from routelens.store.sql_functions import sum_if

NOT_PASSED = (str(Verdict.FAIL), str(Verdict.ERROR))
PAGE_SIZE = 50


@dataclass(frozen=True)
class FailureFilter:
    """Which failures to list: by category, by a skill expected or routed to, by verdict,
    and a text that the input or the response must contain."""

    category: str | None = None
    skill: str | None = None
    verdict: str | None = None
    search: str | None = None


@dataclass(frozen=True)
class FailedCase:
    """One case of a run that failed or errored at least once, with its newest such attempt."""

    case_id: str
    category: str
    input: str
    expected_skill: str | None
    failed: int
    errors: int
    attempts: int
    last_attempt_id: int
    last_verdict: str
    actual_skill: str | None
    asked_clarification: bool
    response_text: str
    error_type: str | None
    error_message: str | None
    ask: str | None
    """The question the team expects the router to ask (the case's `ask`), if it has one."""


@dataclass(frozen=True)
class FailurePage:
    """One page of a run's failed cases and how many match in all."""

    cases: tuple[FailedCase, ...]
    total: int
    page: int
    page_size: int


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(run_id: str, wanted: FailureFilter) -> list[ColumnElement[bool]]:
    attempts = schema.attempts.c
    conditions = [attempts.run_id == run_id]
    if wanted.category:
        conditions.append(attempts.category == wanted.category)
    if wanted.skill:
        conditions.append(
            or_(attempts.expected_skill == wanted.skill, attempts.actual_skill == wanted.skill)
        )
    if wanted.search:
        pattern = _like(wanted.search)
        conditions.append(
            or_(
                func.lower(attempts.input).like(pattern, escape="\\"),
                func.lower(attempts.response_text).like(pattern, escape="\\"),
            )
        )
    return conditions


def failed_cases(
    engine: Engine,
    run_id: str,
    wanted: FailureFilter = FailureFilter(),
    *,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> FailurePage:
    """The page-th `page_size` failed or errored cases of a run that match `wanted`."""
    attempts = schema.attempts.c
    verdicts = [wanted.verdict] if wanted.verdict in NOT_PASSED else list(NOT_PASSED)
    failing = [*_conditions(run_id, wanted), attempts.verdict.in_(verdicts)]
    grouped = (
        select(
            attempts.case_id,
            func.min(attempts.sequence_number).label("first"),
            sum_if(attempts.verdict == str(Verdict.FAIL)).label("failed"),
            sum_if(attempts.verdict == str(Verdict.ERROR)).label("errors"),
            func.max(attempts.attempt_id).label("last_attempt_id"),
        )
        .where(and_(*failing))
        .group_by(attempts.case_id)
        .subquery("failing")
    )
    positions = (
        select(schema.run_cases.c.case_id, schema.run_cases.c.position)
        .where(schema.run_cases.c.run_id == run_id)
        .subquery("positions")
    )
    ordered = (
        select(grouped)
        .outerjoin(positions, positions.c.case_id == grouped.c.case_id)
        .order_by(positions.c.position, grouped.c.first, grouped.c.case_id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    with engine.connect() as connection:
        total = int(connection.execute(select(func.count()).select_from(grouped)).scalar_one())
        rows = connection.execute(ordered).all()
        last = _attempts_by_id(connection, [int(row.last_attempt_id) for row in rows])
        counts = _attempt_counts(connection, run_id, [row.case_id for row in rows])
        asks = _case_asks(connection, run_id, [row.case_id for row in rows])
    cases = []
    for row in rows:
        attempt = last[int(row.last_attempt_id)]
        cases.append(
            FailedCase(
                case_id=row.case_id,
                category=attempt["category"],
                input=attempt["input"],
                expected_skill=attempt["expected_skill"],
                failed=int(row.failed or 0),
                errors=int(row.errors or 0),
                attempts=counts.get(row.case_id, 0),
                last_attempt_id=int(row.last_attempt_id),
                last_verdict=attempt["verdict"],
                actual_skill=attempt["actual_skill"],
                asked_clarification=bool(attempt["asked_clarification"]),
                response_text=attempt["response_text"],
                error_type=attempt["error_type"],
                error_message=attempt["error_message"],
                ask=asks.get(row.case_id),
            )
        )
    return FailurePage(tuple(cases), total, page, page_size)


def _attempts_by_id(connection: Any, attempt_ids: Sequence[int]) -> dict[int, Any]:
    if not attempt_ids:
        return {}
    attempts = schema.attempts.c
    query = select(
        attempts.attempt_id,
        attempts.category,
        attempts.input,
        attempts.expected_skill,
        attempts.verdict,
        attempts.actual_skill,
        attempts.asked_clarification,
        attempts.response_text,
        attempts.error_type,
        attempts.error_message,
    ).where(attempts.attempt_id.in_(list(attempt_ids)))
    return {int(row.attempt_id): row._mapping for row in connection.execute(query)}


def _attempt_counts(connection: Any, run_id: str, case_ids: Sequence[str]) -> dict[str, int]:
    if not case_ids:
        return {}
    attempts = schema.attempts.c
    query = (
        select(attempts.case_id, func.count())
        .where(attempts.run_id == run_id, attempts.case_id.in_(list(case_ids)))
        .group_by(attempts.case_id)
    )
    return {row[0]: int(row[1]) for row in connection.execute(query)}


def _case_asks(connection: Any, run_id: str, case_ids: Sequence[str]) -> dict[str, str]:
    if not case_ids:
        return {}
    cases = schema.run_cases.c
    query = select(cases.case_id, cases.definition).where(
        cases.run_id == run_id, cases.case_id.in_(list(case_ids))
    )
    asks = {}
    for case_id, definition in connection.execute(query):
        ask = definition.get("ask") if isinstance(definition, dict) else None
        if ask is not None:
            asks[case_id] = str(ask)
    return asks
