"""Experiments (state, arms, difference, p-value) and SKILL.md changes (events, hashes, impact).

* Experiments: a concluded one shows the comparison stored when it was concluded; a running
  one is compared now (`experiments.lifecycle.experiment_comparison`: the always-valid
  confidence sequence and McNemar's exact test on case-level pairs); a draft only its info.
* Changes come from the `change_events` table that `routelens changes scan` fills. A
  skill's current hash is its latest change's new hash, else the most recent run's.
* Change impact: attempts of the last 30 days expecting the skill, on its latest change's
  old hash ("before") and new hash ("after").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import false, func, select

from routelens.errors import InputError
from routelens.experiments.lifecycle import experiment_comparison
from routelens.experiments.model import Arm, ExperimentStatus
from routelens.experiments.storage import list_experiments
from routelens.publish import catalogue as c
from routelens.publish.exporter_runs import latest_run
from routelens.publish.exporter_support import (
    Families,
    ScrapeContext,
    add_info,
    add_sample,
    ensure,
    label_or_none,
    ratio,
    short_hash,
)
from routelens.store import schema
from routelens.store.rollup_reads import Period, rollup_rows
from routelens.store.rollups import ATTEMPTS
from routelens.store.sql_functions import epoch_seconds, verdict_sums

CHANGE_IMPACT_DAYS = 30
"""How far back the before/after accuracy of a skill's latest change looks."""


def experiment_families(context: ScrapeContext) -> Families:
    """Info, arm accuracy and decided attempts, difference with bounds, p-value."""
    families: Families = {}
    for record in list_experiments(context.store):
        name = record.name
        add_info(
            families,
            c.EXPERIMENT_INFO,
            experiment=name,
            status=str(record.status),
            decision=label_or_none(None if record.decision is None else str(record.decision)),
        )
        summary = _comparison_summary(context, record)
        if summary is None:
            continue
        for arm in Arm:
            side = summary.get(str(arm)) or {}
            decided = int(side.get("passed", 0)) + int(side.get("failed", 0))
            add_sample(families, c.EXPERIMENT_ARM_ATTEMPTS, decided, experiment=name, arm=str(arm))
            accuracy = side.get("accuracy")
            add_sample(families, c.EXPERIMENT_ARM_ACCURACY, accuracy, experiment=name, arm=str(arm))
        if summary.get("pairs"):
            sequence = summary.get("confidence_sequence") or {}
            for bound, value in (
                (c.BOUND_ESTIMATE, summary.get("difference")),
                (c.BOUND_LOW, sequence.get("low")),
                (c.BOUND_HIGH, sequence.get("high")),
            ):
                add_sample(families, c.EXPERIMENT_DIFFERENCE, value, experiment=name, bound=bound)
            fixed = summary.get("fixed_sample") or {}
            add_sample(
                families, c.EXPERIMENT_P_VALUE, fixed.get("mcnemar_p_value"), experiment=name
            )
    return ensure(
        families,
        c.EXPERIMENT_INFO,
        c.EXPERIMENT_ARM_ACCURACY,
        c.EXPERIMENT_ARM_ATTEMPTS,
        c.EXPERIMENT_DIFFERENCE,
        c.EXPERIMENT_P_VALUE,
    )


def _comparison_summary(context: ScrapeContext, record: Any) -> dict[str, Any] | None:
    if record.status is ExperimentStatus.CONCLUDED and record.summary:
        return dict(record.summary)
    if record.status is not ExperimentStatus.RUNNING:
        return None
    try:
        return experiment_comparison(context.store, record).to_dict()
    except InputError:  # started, but its runs are not recorded yet
        return None


def change_families(context: ScrapeContext) -> Families:
    """Change events by skill and kind, each skill's last change time and hash, the impact."""
    events = schema.change_events.c
    families: Families = {}
    connection = context.connection
    counts = select(events.skill, events.kind, func.count()).group_by(events.skill, events.kind)
    for skill, kind, count in connection.execute(counts):
        add_sample(families, c.SKILL_CHANGE_EVENTS_TOTAL, int(count), skill=skill, kind=kind)
    last_times = select(events.skill, func.max(epoch_seconds(events.committed_at))).group_by(
        events.skill
    )
    for skill, moment in connection.execute(last_times):
        add_sample(families, c.SKILL_LAST_CHANGE_TIMESTAMP, float(moment), skill=skill)
    latest = _latest_changes(context)
    run = latest_run(context)
    hashes: dict[str, str] = {}
    if run is not None:
        run_skills = schema.run_skills.c
        query = select(run_skills.name, run_skills.content_hash).where(
            run_skills.run_id == run["run_id"]
        )
        hashes.update({str(name): str(digest) for name, digest in connection.execute(query)})
    for skill, (_old, new) in latest.items():
        if new is not None:
            hashes[skill] = new
    for skill in sorted(hashes):
        add_info(families, c.SKILL_INFO, skill=skill, hash=short_hash(hashes[skill]))
    _change_impact(context, families, latest)
    return ensure(
        families,
        c.SKILL_CHANGE_EVENTS_TOTAL,
        c.SKILL_LAST_CHANGE_TIMESTAMP,
        c.SKILL_INFO,
        c.SKILL_CHANGE_ACCURACY,
    )


def _latest_changes(context: ScrapeContext) -> dict[str, tuple[str | None, str | None]]:
    """skill → (old hash, new hash) of its most recent change event."""
    events = schema.change_events.c
    ranked = select(
        events.skill,
        events.old_hash,
        events.new_hash,
        func.row_number()
        .over(
            partition_by=events.skill,
            order_by=[events.committed_at.desc(), events.event_id.desc()],
        )
        .label("position"),
    ).subquery("ranked")
    query = select(ranked.c.skill, ranked.c.old_hash, ranked.c.new_hash).where(
        ranked.c.position == 1
    )
    return {str(skill): (old, new) for skill, old, new in context.connection.execute(query)}


def _change_impact(
    context: ScrapeContext,
    families: Families,
    latest: dict[str, tuple[str | None, str | None]],
) -> None:
    period = Period(start=context.now - timedelta(days=CHANGE_IMPACT_DAYS), end=context.now)
    rows = rollup_rows(context.dialect, ATTEMPTS, period)
    keys = [rows.c.expected_skill, rows.c.expected_skill_hash]
    passed_sum, failed_sum = verdict_sums(rows.c.verdict, rows.c.attempts)[:2]
    query = (
        select(*keys, passed_sum, failed_sum)
        .where(rows.c.expected_skill.in_(sorted(latest)) if latest else false())
        .group_by(*keys)
    )
    verdicts: dict[tuple[str, str], tuple[int, int]] = defaultdict(lambda: (0, 0))
    results: Iterable[Any] = context.connection.execute(query)
    for skill, digest, passed, failed in results:
        if digest is not None:
            verdicts[(str(skill), str(digest))] = (int(passed or 0), int(failed or 0))
    for skill, (old, new) in sorted(latest.items()):
        for side, digest in ((c.SIDE_BEFORE, old), (c.SIDE_AFTER, new)):
            if digest is None:
                continue
            passed, failed = verdicts[(skill, digest)]
            add_sample(
                families,
                c.SKILL_CHANGE_ACCURACY,
                ratio(passed, passed + failed),
                skill=skill,
                side=side,
            )
