"""The submitter's side of a queued run without a queue: what it enqueues, and how it reads
the workers' progress from the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from routelens.runner.launch import Distribution, PreparedRun
from routelens.runner.queue_broker import WorkOrder
from routelens.runner.queue_submit import QueueWatcher, order_done, queued_items
from routelens.runner.session import RunSettings, create_run
from routelens.store import AttemptRecord, Store, Verdict, open_store
from routelens.store.run_progress import AttemptState, attempt_states
from routelens.suite.models import CaseSuite, SkillSet
from tests.factories import make_attempt


def _prepared(store: Store, skills: SkillSet, suite: CaseSuite) -> PreparedRun:
    settings = RunSettings(router="local", repeat=2)
    run = create_run(store, skills, suite, settings)
    executor = Distribution(executor="redis://127.0.0.1:1/0")
    return PreparedRun(run, skills, suite.cases, settings, None, executor)


class Recorder:
    def __init__(self) -> None:
        self.attempts: list[AttemptRecord] = []

    def attempt_finished(self, attempt: AttemptRecord) -> None:
        self.attempts.append(attempt)


def test_a_submission_enqueues_what_is_missing_numbered_after_what_is_stored(
    tmp_path: Path, small_skills: SkillSet, small_suite: CaseSuite
) -> None:
    with open_store(tmp_path / "store.sqlite") as store:
        prepared = _prepared(store, small_skills, small_suite)
        run_id = prepared.run.run_id
        store.record_attempt(make_attempt("C1", run_id=run_id, sequence_number=3))
        store.record_attempt(make_attempt("C2", Verdict.ERROR, run_id=run_id, sequence_number=7))
        states = attempt_states(store, run_id)

    items = queued_items(states, prepared, retry_errors=False)
    assert [(i.case.id, i.repeat_index, i.sequence_number) for i in items] == [
        ("C3", 0, 8), ("C4", 0, 9), ("C1", 1, 10), ("C2", 1, 11), ("C3", 1, 12), ("C4", 1, 13),
    ]  # fmt: skip
    again = queued_items(states, prepared, retry_errors=True)
    assert [(i.case.id, i.repeat_index) for i in again][:1] == [("C2", 0)]
    assert len(again) == len(items) + 1


def test_an_order_is_done_when_the_store_shows_what_a_worker_would_skip() -> None:
    plain = WorkOrder("r", "C1", 0, sequence_number=4, submission="s")
    redo = WorkOrder("r", "C1", 0, sequence_number=4, submission="s", replace=True)
    assert not order_done(plain, None)
    assert order_done(plain, AttemptState(Verdict.ERROR, 1))
    assert not order_done(redo, AttemptState(Verdict.ERROR, 1))  # the old error, not redone
    assert order_done(redo, AttemptState(Verdict.ERROR, 4))  # redone, and errored again
    assert order_done(redo, AttemptState(Verdict.PASS, 1))  # decided since: nothing to redo


def test_the_watcher_reports_each_stored_attempt_once(
    tmp_path: Path, small_skills: SkillSet, small_suite: CaseSuite
) -> None:
    with open_store(tmp_path / "store.sqlite") as store:
        prepared = _prepared(store, small_skills, small_suite)
        run_id = prepared.run.run_id
        orders = [
            WorkOrder(run_id, case.id, repeat, sequence_number=n, submission="s")
            for n, (case, repeat) in enumerate(
                (case, repeat) for repeat in range(2) for case in small_suite.cases
            )
        ]
        recorder = Recorder()
        naps: list[float] = []  # the watcher never really sleeps here
        watcher = QueueWatcher(store, run_id, orders, recorder, sleep=naps.append)
        assert watcher.poll() == 0
        for order in reversed(orders[:3]):
            store.record_attempt(
                make_attempt(order.case_id, repeat_index=order.repeat_index, run_id=run_id,
                             sequence_number=order.sequence_number)
            )  # fmt: skip
        assert watcher.poll() == 3
        assert watcher.poll() == 0
        assert [a.sequence_number for a in recorder.attempts] == [0, 1, 2]
        assert watcher.pending == len(orders) - 3
        # not all done when the wait runs out: False
        assert watcher.wait(max_wait_s=0.0) is False
        for order in orders[3:]:
            store.record_attempt(
                make_attempt(order.case_id, repeat_index=order.repeat_index, run_id=run_id,
                             sequence_number=order.sequence_number)
            )  # fmt: skip
        assert watcher.wait(max_wait_s=None) is True
    assert sorted(a.sequence_number for a in recorder.attempts) == list(range(len(orders)))
    assert watcher.reported == len(orders)


def test_without_the_queue_extra_the_flag_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, skills_dir: Path, cases_file: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from routelens.cli import app
    from routelens.runner import queue_broker

    monkeypatch.setattr(queue_broker, "dramatiq", None)  # as if the extra were not installed
    files = ["--skills", str(skills_dir), "--cases", str(cases_file)]
    store = ["--store", f"sqlite:///{tmp_path / 'store.sqlite'}"]
    result = CliRunner().invoke(app, ["run", *files, *store, "--executor", "redis://localhost"])
    assert result.exit_code == 2
    assert result.stderr == (
        "routelens: error: --executor: the work queue needs the queue extra: "
        "pip install -e '.[queue]' (in a clone of routelens)\n"
    )
    assert not (tmp_path / "store.sqlite").exists()
