"""`read_failed_inputs`: distinct failed inputs counted in SQL, filtered, ranked and capped."""

from __future__ import annotations

from datetime import timedelta

from routelens.analytics.patterns import InputOutcomes
from routelens.analytics.window import AttemptFilter
from routelens.store import Store, Verdict
from routelens.store.pattern_reads import read_failed_inputs
from tests.factories import make_attempt, make_run
from tests.store.conftest import T0

P, F, E = Verdict.PASS, Verdict.FAIL, Verdict.ERROR


def plant(store: Store, run_id: str, started_offset: timedelta, labels: dict[str, str]) -> None:
    """One run: `show the sprint` 2 fails + 1 pass + 1 error, `log my hours` 1 fail, `deploy`
    only passes, `attach the pdf` 1 fail expecting another skill."""
    started = T0 + started_offset
    store.create_run(make_run(run_id, started_at=started, labels=labels), [], [])
    plan = [
        ("c1", "show the sprint", "jira-agile", [F, F, P, E]),
        ("c2", "log my hours", "jira-worklog", [F]),
        ("c3", "deploy it", "deployer", [P, P]),
        ("c4", "attach the pdf", "jira-attach", [F]),
    ]
    store.record_attempts(
        make_attempt(
            case_id,
            verdict,
            run_id=run_id,
            input=text,
            expected=skill,
            repeat_index=repeat,
            started_at=started + timedelta(minutes=repeat),
            finished_at=started + timedelta(minutes=repeat),
        )
        for case_id, text, skill, verdicts in plan
        for repeat, verdict in enumerate(verdicts)
    )


def test_counts_failures_and_passes_per_distinct_input_most_failed_first(store: Store) -> None:
    plant(store, "run-a", timedelta(0), {"team": "a"})
    plant(store, "run-b", timedelta(hours=1), {"team": "b"})
    read = read_failed_inputs(store.engine, AttemptFilter())
    assert read.total == 3
    assert not read.truncated
    assert read.rows[0] == InputOutcomes("show the sprint", failures=4, passes=2)
    # equal failures are ordered by input hash: the same store always gives the same order
    assert sorted(read.rows[1:], key=lambda row: row.input) == [
        InputOutcomes("attach the pdf", 2, 0),
        InputOutcomes("log my hours", 2, 0),
    ]


def test_filters_by_run_label_window_and_skill(store: Store) -> None:
    plant(store, "run-a", timedelta(0), {"team": "a"})
    plant(store, "run-b", timedelta(days=3), {"team": "b"})
    by_run = read_failed_inputs(store.engine, AttemptFilter(run_ids=("run-a",)))
    assert by_run.rows[0] == InputOutcomes("show the sprint", 2, 1)
    by_label = read_failed_inputs(store.engine, AttemptFilter(labels={"team": "b"}))
    assert by_label.rows[0] == InputOutcomes("show the sprint", 2, 1)
    recent = AttemptFilter(window=timedelta(days=1), now=T0 + timedelta(days=3, hours=1))
    assert read_failed_inputs(store.engine, recent).total == 3
    assert read_failed_inputs(store.engine, recent).rows[0].failures == 2
    by_skill = read_failed_inputs(store.engine, AttemptFilter(), skill="jira-worklog")
    assert by_skill.rows == [InputOutcomes("log my hours", 2, 0)]


def test_cap_keeps_the_most_failed_and_reports_the_total(store: Store) -> None:
    plant(store, "run-a", timedelta(0), {})
    read = read_failed_inputs(store.engine, AttemptFilter(), limit=1)
    assert read.rows == [InputOutcomes("show the sprint", 2, 1)]
    assert read.total == 3
    assert read.truncated


def test_empty_window_reads_nothing(store: Store) -> None:
    plant(store, "run-a", timedelta(0), {})
    later = AttemptFilter(window=timedelta(hours=1), now=T0 + timedelta(days=30))
    read = read_failed_inputs(store.engine, later)
    assert read.rows == []
    assert read.total == 0
