"""The read paths of `routelens confusion` (and the web's confusion and skill pages): decided
routes and disambiguation cases from the rollups, each case's options from its newest run."""

from __future__ import annotations

from sqlalchemy import Engine, func, select, true

from routelens.analytics.confusion import CaseDisambiguation, RouteCount
from routelens.analytics.window import AttemptFilter
from routelens.store import Verdict, schema
from routelens.store.rollup_reads import Period, rollup_rows
from routelens.store.rollups import ATTEMPTS, DISAMBIGUATION

_DECIDED = (str(Verdict.PASS), str(Verdict.FAIL))
_RUNS_PER_STATEMENT = 20


def decided_route_counts(engine: Engine, attempt_filter: AttemptFilter) -> list[RouteCount]:
    """Decided attempts grouped by (expected, actual, asked a question, category, verdict)."""
    rows = rollup_rows(engine.dialect.name, ATTEMPTS, Period.of(attempt_filter))
    keys = [
        rows.c.expected_skill,
        rows.c.actual_skill,
        rows.c.asked_clarification,
        rows.c.category,
        rows.c.verdict,
    ]
    query = (
        select(*keys, func.sum(rows.c.attempts)).where(rows.c.verdict.in_(_DECIDED)).group_by(*keys)
    )
    with engine.connect() as connection:
        found = connection.execute(query).all()
    return [
        RouteCount(
            row[0],
            row[1],
            bool(row[2]),
            int(row[5]),
            category=row[3],
            passed=row[4] == str(Verdict.PASS),
        )
        for row in found
    ]


def disambiguation_cases(engine: Engine, attempt_filter: AttemptFilter) -> list[CaseDisambiguation]:
    """Per disambiguation case: decided attempts, questions asked, options-named scores."""
    rows = rollup_rows(engine.dialect.name, DISAMBIGUATION, Period.of(attempt_filter))
    query = (
        select(
            rows.c.case_id,
            func.sum(rows.c.attempts),
            func.sum(rows.c.clarified),
            func.sum(rows.c.options_score_sum),
            func.sum(rows.c.options_scored),
        )
        .where(rows.c.decided == true())
        .group_by(rows.c.case_id)
    )
    with engine.connect() as connection:
        found = connection.execute(query).all()
    return [
        CaseDisambiguation(
            case_id=row[0],
            attempts=int(row[1]),
            clarified=int(row[2] or 0),
            options_score_sum=float(row[3] or 0.0),
            options_scored=int(row[4] or 0),
        )
        for row in found
    ]


def latest_case_options(
    engine: Engine, case_ids: list[str], run_ids: tuple[str, ...] = ()
) -> dict[str, tuple[str, ...]]:
    """Each case's `disambiguation_options` as the newest run that has the case defined it.

    Runs are visited newest first (start, then id), the newest alone, then a few more at a
    time, each looked up by its `run_cases` key for the cases still without a definition:
    usually the newest run defines them all, so one statement reads one definition per
    case, and `run_cases` is never scanned by case id.
    """
    if not case_ids:
        return {}
    runs, cases = schema.runs.c, schema.run_cases.c
    newest_first = select(runs.run_id).order_by(runs.started_at.desc(), runs.run_id.desc())
    if run_ids:
        newest_first = newest_first.where(runs.run_id.in_(run_ids))
    options: dict[str, tuple[str, ...]] = {}
    remaining = set(case_ids)
    with engine.connect() as connection:
        ordered = [str(run_id) for (run_id,) in connection.execute(newest_first)]
        start, size = 0, 1
        while remaining and start < len(ordered):
            chunk = ordered[start : start + size]
            start, size = start + size, min(size * 4, _RUNS_PER_STATEMENT)
            query = select(cases.run_id, cases.case_id, cases.definition).where(
                cases.run_id.in_(chunk), cases.case_id.in_(sorted(remaining))
            )
            position = {run_id: index for index, run_id in enumerate(chunk)}
            newest: dict[str, tuple[int, object]] = {}
            for run_id, case_id, definition in connection.execute(query):
                rank = position[run_id]
                if case_id not in newest or rank < newest[case_id][0]:
                    newest[case_id] = (rank, definition)
            for case_id, (_, definition) in newest.items():
                remaining.discard(case_id)
                if isinstance(definition, dict):
                    named = definition.get("disambiguation_options") or ()
                    options[case_id] = tuple(str(option) for option in named)
    return options
