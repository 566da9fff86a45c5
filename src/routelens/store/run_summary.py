"""A run's summary (`routelens show`, the web run page) aggregated in SQL, many runs at once.

`analytics.summary.summarize_attempts` needs every attempt of a run in memory; these reads
give the same `RunSummary` from six grouped statements over the runs' attempts (read
through the `(run_id, sequence_number)` index), so a run of ten thousand attempts never
crosses into Python row by row. Latency percentiles are numpy's "linear" method
(`store.exact_percentiles.latency_percentiles_by`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from routelens.analytics.confusion import outcome_label
from routelens.analytics.summary import (
    UNKNOWN_ERROR_TYPE,
    Confusion,
    GroupAccuracy,
    RunSummary,
    TokenTotals,
    expectation_label,
)
from routelens.store import schema
from routelens.store.exact_percentiles import latency_percentiles_by
from routelens.store.records import Verdict
from routelens.store.sql_functions import verdict_sums

SUMMARY_PERCENTILES = (50.0, 95.0)
_RUNS_PER_STATEMENT = 500


@dataclass(frozen=True)
class RunTotals:
    """One run's attempts by verdict, spend and retries: a row of the runs list."""

    run_id: str
    cases: int
    attempts: int
    passed: int
    failed: int
    errors: int
    cost_usd: float
    retries: int

    @property
    def accuracy(self) -> float | None:
        """Passed ÷ decided; None when nothing was decided."""
        decided = self.passed + self.failed
        return self.passed / decided if decided else None

    @property
    def error_rate(self) -> float | None:
        """Errors ÷ attempts; None without attempts."""
        return self.errors / self.attempts if self.attempts else None


def _in_runs(run_ids: Sequence[str]) -> Any:
    return schema.attempts.c.run_id.in_(list(run_ids))


def _chunks(run_ids: Sequence[str]) -> list[list[str]]:
    unique = list(dict.fromkeys(run_ids))
    return [
        unique[start : start + _RUNS_PER_STATEMENT]
        for start in range(0, len(unique), _RUNS_PER_STATEMENT)
    ]


def run_totals(engine: Engine, run_ids: Sequence[str]) -> dict[str, RunTotals]:
    """Attempts, verdicts, distinct cases, spend and retries of each run (one statement)."""
    attempts = schema.attempts.c
    totals: dict[str, RunTotals] = {}
    with engine.connect() as connection:
        for chunk in _chunks(run_ids):
            query = (
                select(
                    attempts.run_id,
                    func.count(func.distinct(attempts.case_id)),
                    func.count(),
                    *verdict_sums(),
                    func.sum(attempts.cost_usd),
                    func.sum(attempts.retries),
                )
                .where(_in_runs(chunk))
                .group_by(attempts.run_id)
            )
            for row in connection.execute(query):
                totals[row[0]] = RunTotals(
                    run_id=row[0],
                    cases=int(row[1]),
                    attempts=int(row[2]),
                    passed=int(row[3] or 0),
                    failed=int(row[4] or 0),
                    errors=int(row[5] or 0),
                    cost_usd=float(row[6] or 0.0),
                    retries=int(row[7] or 0),
                )
    return totals


def run_summaries(
    engine: Engine, run_ids: Sequence[str], *, top_confusions: int = 5
) -> dict[str, RunSummary]:
    """The `RunSummary` of each run, as `summarize_attempts` would compute it.

    Runs without attempts get an empty summary. Sums of floats come from SQL, so costs
    and means may differ from `math.fsum` in the last bits.
    """
    summaries: dict[str, RunSummary] = {}
    with engine.connect() as connection:
        for chunk in _chunks(run_ids):
            summaries.update(_summaries(connection, chunk, top_confusions))
    return {run_id: summaries[run_id] for run_id in dict.fromkeys(run_ids)}


def _summaries(
    connection: Connection, run_ids: list[str], top_confusions: int
) -> dict[str, RunSummary]:
    overall = _overall(connection, run_ids)
    by_category = _groups(connection, run_ids, schema.attempts.c.category, None)
    by_skill = _expectation_groups(connection, run_ids)
    confusions = _confusions(connection, run_ids, top_confusions)
    error_types = _error_types(connection, run_ids)
    latencies = latency_percentiles(connection, run_ids, SUMMARY_PERCENTILES)
    summaries = {}
    for run_id in run_ids:
        row = overall.get(run_id)
        everything = _group_accuracy("all", row[1:5] if row else (0, 0, 0, 0))
        p50, p95 = latencies.get(run_id, (None, None))
        summaries[run_id] = RunSummary(
            cases=int(row[0]) if row else 0,
            attempts=everything.attempts,
            passed=everything.passed,
            failed=everything.failed,
            errors=everything.errors,
            accuracy=everything.accuracy,
            error_rate=everything.error_rate,
            by_category=by_category.get(run_id, {}),
            by_expected_skill=by_skill.get(run_id, {}),
            top_confusions=confusions.get(run_id, []),
            cost_usd=float(row[5] or 0.0) if row else 0.0,
            tokens=TokenTotals(*(int(v or 0) for v in row[6:10]))
            if row
            else TokenTotals(0, 0, 0, 0),
            retries=int(row[10] or 0) if row else 0,
            latency_p50_s=p50,
            latency_p95_s=p95,
            mean_options_score=_mean(row[11], row[12]) if row else None,
            mean_commands_score=_mean(row[13], row[14]) if row else None,
            error_types=error_types.get(run_id, {}),
            mean_confirmation_score=_mean(row[15], row[16]) if row else None,
        )
    return summaries


def _mean(total: Any, count: Any) -> float | None:
    return float(total) / int(count) if count else None


def _group_accuracy(key: str, counts: Sequence[Any]) -> GroupAccuracy:
    attempts, passed, failed, errors = (int(value or 0) for value in counts)
    return GroupAccuracy(key=key, attempts=attempts, passed=passed, failed=failed, errors=errors)


def _overall(connection: Connection, run_ids: list[str]) -> dict[str, Any]:
    attempts = schema.attempts.c
    query = (
        select(
            attempts.run_id,
            func.count(func.distinct(attempts.case_id)),
            func.count(),
            *verdict_sums(),
            func.sum(attempts.cost_usd),
            func.sum(attempts.input_tokens),
            func.sum(attempts.output_tokens),
            func.sum(attempts.cache_read_tokens),
            func.sum(attempts.cache_write_tokens),
            func.sum(attempts.retries),
            func.sum(attempts.options_score),
            func.count(attempts.options_score),
            func.sum(attempts.commands_score),
            func.count(attempts.commands_score),
            func.sum(attempts.confirmation_score),
            func.count(attempts.confirmation_score),
        )
        .where(_in_runs(run_ids))
        .group_by(attempts.run_id)
    )
    return {row[0]: tuple(row[1:]) for row in connection.execute(query)}


def _groups(
    connection: Connection, run_ids: list[str], key: Any, missing: str | None
) -> dict[str, dict[str, GroupAccuracy]]:
    attempts = schema.attempts.c
    query = (
        select(attempts.run_id, key, func.count(), *verdict_sums())
        .where(_in_runs(run_ids))
        .group_by(attempts.run_id, key)
    )
    found: defaultdict[str, dict[str, GroupAccuracy]] = defaultdict(dict)
    for run_id, value, *counts in connection.execute(query):
        name = missing if value is None and missing is not None else str(value)
        found[run_id][name] = _group_accuracy(name, counts)
    return {run_id: dict(sorted(groups.items())) for run_id, groups in found.items()}


def _expectation_groups(
    connection: Connection, run_ids: list[str]
) -> dict[str, dict[str, GroupAccuracy]]:
    """Verdicts by what each case expected: its skill, else a label from its category."""
    attempts = schema.attempts.c
    keys = [attempts.expected_skill, attempts.category]
    query = (
        select(attempts.run_id, *keys, func.count(), *verdict_sums())
        .where(_in_runs(run_ids))
        .group_by(attempts.run_id, *keys)
    )
    counts: defaultdict[str, defaultdict[str, list[int]]] = defaultdict(
        lambda: defaultdict(lambda: [0, 0, 0, 0])
    )
    for run_id, expected, category, *values in connection.execute(query):
        total = counts[run_id][expectation_label(category, expected)]
        for index, value in enumerate(values):
            total[index] += int(value or 0)
    return {
        run_id: {name: _group_accuracy(name, groups[name]) for name in sorted(groups)}
        for run_id, groups in counts.items()
    }


def _confusions(
    connection: Connection, run_ids: list[str], limit: int
) -> dict[str, list[Confusion]]:
    attempts = schema.attempts.c
    keys = [
        attempts.expected_skill,
        attempts.category,
        attempts.actual_skill,
        attempts.asked_clarification,
    ]
    query = (
        select(attempts.run_id, *keys, func.count())
        .where(_in_runs(run_ids), attempts.verdict == str(Verdict.FAIL))
        .group_by(attempts.run_id, *keys)
    )
    pairs: defaultdict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    for row in connection.execute(query):
        labels = (expectation_label(row[2], row[1]), outcome_label(row[3], bool(row[4])))
        pairs[row[0]][labels] += int(row[5])
    ranked = {}
    for run_id, counter in pairs.items():
        ordered = sorted(counter.items(), key=lambda item: (-item[1], item[0][0], item[0][1]))
        ranked[run_id] = [Confusion(e, a, count) for (e, a), count in ordered[:limit]]
    return ranked


def _error_types(connection: Connection, run_ids: list[str]) -> dict[str, dict[str, int]]:
    attempts = schema.attempts.c
    query = (
        select(attempts.run_id, attempts.error_type, func.count())
        .where(_in_runs(run_ids), attempts.verdict == str(Verdict.ERROR))
        .group_by(attempts.run_id, attempts.error_type)
    )
    found: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for run_id, error_type, count in connection.execute(query):
        found[run_id][error_type or UNKNOWN_ERROR_TYPE] += int(count)
    return {run_id: dict(sorted(counts.items())) for run_id, counts in found.items()}


def latency_percentiles(
    connection: Connection, run_ids: Sequence[str], percentiles: Sequence[float]
) -> dict[str, tuple[float | None, ...]]:
    """Per run, numpy's linear percentiles of the latency of attempts that did not error."""
    attempts = schema.attempts.c
    return latency_percentiles_by(
        connection,
        attempts.run_id,
        [_in_runs(run_ids), attempts.verdict != str(Verdict.ERROR)],
        percentiles,
    )
