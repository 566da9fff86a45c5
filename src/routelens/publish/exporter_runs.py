"""The most recent run (info, timing, workers, utilisation), its skills, and release accuracy.

* The most recent run is the one that started last (ties: the greater run id).
* Wall time: its first attempt's start to its last attempt's end. Utilisation: the sum of
  its attempts' busy time (end - start) ÷ (workers x wall time); workers are the run's
  `concurrency` setting. Absent while the run has no attempt.
* Release accuracy: `routelens trend --compare-label` grouped by the config's
  `release_label`, the five values that first appeared most recently.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from routelens.analytics.window import AttemptFilter
from routelens.publish import catalogue as c
from routelens.publish.exporter_support import (
    Families,
    ScrapeContext,
    add_info,
    add_sample,
    ensure,
    label_or_none,
    ratio,
)
from routelens.store import schema
from routelens.store.period_reads import release_verdicts
from routelens.store.rollup_reads import Period, rollup_rows
from routelens.store.rollups import ATTEMPTS
from routelens.store.sql_functions import epoch_seconds

RELEASES_SHOWN = 5
"""How many release label values `routelens_release_accuracy_ratio` shows."""


def latest_run(context: ScrapeContext) -> Any | None:
    """The `runs` row of the most recent run, or None for an empty store."""
    runs = schema.runs
    query = select(runs).order_by(runs.c.started_at.desc(), runs.c.run_id.desc()).limit(1)
    return context.connection.execute(query).mappings().first()


def run_families(context: ScrapeContext) -> Families:
    """Last-run families, skills and coverage of that run, and release accuracy."""
    families: Families = {}
    run = latest_run(context)
    if run is not None:
        _last_run(context, families, run)
        _skills(context, families, str(run["run_id"]))
    _releases(context, families)
    return ensure(
        families,
        c.LAST_RUN_INFO,
        c.LAST_RUN_TIMESTAMP,
        c.LAST_RUN_DURATION,
        c.LAST_RUN_WORKERS,
        c.LAST_RUN_WORKER_UTILIZATION,
        c.SKILLS,
        c.SKILL_CASES,
        c.SKILL_COVERAGE,
        c.RELEASE_ACCURACY,
    )


def _last_run(context: ScrapeContext, families: Families, run: Any) -> None:
    add_info(
        families,
        c.LAST_RUN_INFO,
        run_id=str(run["run_id"]),
        suite=str(run["suite_name"]),
        router=str(run["router"]),
        model=label_or_none(run["model"]),
        status=str(run["status"]),
    )
    add_sample(families, c.LAST_RUN_TIMESTAMP, run["started_at"].timestamp())
    settings = run["settings"] or {}
    concurrency = settings.get("concurrency") if isinstance(settings, dict) else None
    workers = concurrency if isinstance(concurrency, int) and concurrency > 0 else None
    add_sample(families, c.LAST_RUN_WORKERS, workers)
    rows = rollup_rows(context.dialect, ATTEMPTS, Period(run_ids=(str(run["run_id"]),)))
    query = select(
        epoch_seconds(func.min(rows.c.first_started_at)),
        epoch_seconds(func.max(rows.c.last_finished_at)),
        func.sum(rows.c.busy_s),
    )
    first_start, last_end, busy = context.connection.execute(query).one()
    if first_start is None or last_end is None:
        return
    wall = max(float(last_end) - float(first_start), 0.0)
    add_sample(families, c.LAST_RUN_DURATION, wall)
    if workers is not None:
        utilization = ratio(float(busy or 0.0), workers * wall)
        add_sample(families, c.LAST_RUN_WORKER_UTILIZATION, utilization)


def _skills(context: ScrapeContext, families: Families, run_id: str) -> None:
    skills_table, cases_table = schema.run_skills.c, schema.run_cases.c
    names = [
        str(name)
        for (name,) in context.connection.execute(
            select(skills_table.name).where(skills_table.run_id == run_id)
        )
    ]
    expected = cases_table.definition["expected_skill"].as_string()
    inner = select(expected.label("skill")).where(cases_table.run_id == run_id).subquery("expected")
    per_skill = {
        str(skill): int(count)
        for skill, count in context.connection.execute(
            select(inner.c.skill, func.count())
            .where(inner.c.skill.is_not(None))
            .group_by(inner.c.skill)
        )
    }
    add_sample(families, c.SKILLS, len(names))
    for name in sorted(names):
        add_sample(families, c.SKILL_CASES, per_skill.get(name, 0), skill=name)
    covered = sum(1 for name in names if per_skill.get(name, 0) > 0)
    add_sample(families, c.SKILL_COVERAGE, ratio(covered, len(names)))


def _releases(context: ScrapeContext, families: Families) -> None:
    groups = release_verdicts(
        context.store.engine,
        AttemptFilter(now=context.now),
        label_key=context.config.release_label,
    )
    newest = sorted(groups, key=lambda group: (group.first_seen, group.value), reverse=True)
    for group in newest[:RELEASES_SHOWN]:
        add_sample(families, c.RELEASE_ACCURACY, group.counts.accuracy, release=group.value)
