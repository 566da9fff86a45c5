"""The submitting side of a queued run: enqueue its items, then watch the store until done.

`routelens run --executor redis://HOST` records the run as usual, writes a new submission
token on it (settings `queue.submission`), enqueues one `WorkOrder` per missing item, and
then reads the store every half second: each attempt a worker stores is handed to the
observers (progress bar, telemetry) once. The run completes when every order is done; Ctrl-C,
SIGTERM or `--max-wait` leave it `interrupted`, which tells the workers to drop the orders
they have not started, and `routelens run --resume ID --executor URL` enqueues the rest.
"""

from __future__ import annotations

import secrets
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from routelens.runner.engine import AttemptObserver, WorkItem, plan_work
from routelens.runner.queue_broker import (
    WorkOrder,
    connect,
    enqueue,
    publish_skill_texts,
    unreachable,
)
from routelens.runner.session import RunOutcome, interrupting_signal, sigterm_as_interrupt
from routelens.store.records import RunStatus, Verdict
from routelens.store.run_progress import (
    AttemptState,
    SettingsChange,
    attempt_states,
    attempts_with_keys,
    update_run_settings,
)
from routelens.store.sqlstore import Store
from routelens.store.urls import strip_url_credentials
from routelens.suite.skill_texts import skill_texts

if TYPE_CHECKING:
    from routelens.runner.launch import PreparedRun

QUEUE_SETTING = "queue"
"""The key in a run's settings: {"submission": token, "executor": URL without credentials}."""
POLL_INTERVAL_S = 0.5
TIMED_OUT = signal.SIGALRM
"""`RunOutcome.interrupted_by` when `--max-wait` passed: the submitter's alarm went off."""


def queued_items(
    states: dict[tuple[str, int], AttemptState], prepared: PreparedRun, *, retry_errors: bool
) -> list[WorkItem]:
    """The items a submission enqueues, numbered after every stored attempt."""
    done = {
        key
        for key, state in states.items()
        if not retry_errors or state.verdict is not Verdict.ERROR
    }
    first = max((state.sequence_number for state in states.values()), default=-1) + 1
    settings = prepared.settings
    items = plan_work(
        prepared.cases, settings.repeat, done, include_skipped=settings.include_skipped
    )
    return [
        WorkItem(item.case, item.repeat_index, first + position)
        for position, item in enumerate(items)
    ]


def order_done(order: WorkOrder, state: AttemptState | None) -> bool:
    """Whether the store shows `order` done: its attempt is there (and, for an order that
    redoes an error, was redone by it or holds a decided verdict: the test a worker
    applies before it skips an order)."""
    if state is None:
        return False
    if not order.replace:
        return True
    return state.sequence_number == order.sequence_number or state.verdict is not Verdict.ERROR


@dataclass
class QueueWatcher:
    """Reads a queued run's progress from the store and tells the observer of each attempt."""

    store: Store
    run_id: str
    orders: list[WorkOrder]
    observer: AttemptObserver | None = None
    sleep: Callable[[float], None] = time.sleep
    reported: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._pending = {order.key: order for order in self.orders}

    @property
    def pending(self) -> int:
        """Orders the store does not show done yet."""
        return len(self._pending)

    def poll(self) -> int:
        """Read the store once; report the attempts newly done; returns how many."""
        states = attempt_states(self.store, self.run_id)
        newly = [key for key, order in self._pending.items() if order_done(order, states.get(key))]
        for key in newly:
            del self._pending[key]
        if newly and self.observer is not None:
            for attempt in attempts_with_keys(self.store, self.run_id, newly):
                self.observer.attempt_finished(attempt)
        self.reported += len(newly)
        return len(newly)

    def wait(self, max_wait_s: float | None) -> bool:
        """Poll until every order is done (True) or `max_wait_s` passes (False)."""
        deadline = None if max_wait_s is None else time.monotonic() + max_wait_s
        while True:
            self.poll()
            if not self._pending:
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            self.sleep(POLL_INTERVAL_S)


def mark_submission(store: Store, run_id: str, submission: str, executor: str) -> None:
    """Make `submission` the run's current one and the run `running`: workers take only
    this submission's orders from now on."""

    def change(settings: dict[str, Any], status: RunStatus) -> tuple[SettingsChange, None]:
        record = {"submission": submission, "executor": strip_url_credentials(executor)}
        return SettingsChange({**settings, QUEUE_SETTING: record}, RunStatus.RUNNING), None

    update_run_settings(store, run_id, change)


def _orders(
    run_id: str, items: Iterable[WorkItem], submission: str, replace: bool
) -> list[WorkOrder]:
    return [
        WorkOrder(
            run_id=run_id,
            case_id=item.case.id,
            repeat_index=item.repeat_index,
            sequence_number=item.sequence_number or 0,
            submission=submission,
            replace=replace,
        )
        for item in items
    ]


def execute_queued_run(
    store: Store,
    prepared: PreparedRun,
    *,
    retry_errors: bool = False,
    observer: AttemptObserver | None = None,
) -> RunOutcome:
    """Enqueue the run's missing items for `routelens worker`s and wait for them."""
    import redis

    run, executor = prepared.run, prepared.distribution.executor
    assert executor is not None, "a queued run names its executor"
    states = attempt_states(store, run.run_id)
    items = queued_items(states, prepared, retry_errors=retry_errors)
    submission = secrets.token_hex(8)
    orders = _orders(run.run_id, items, submission, retry_errors)
    watcher = QueueWatcher(store, run.run_id, orders, observer)
    broker = connect(executor)
    status, stopped_by = RunStatus.FAILED, None
    try:
        with sigterm_as_interrupt():
            try:
                publish_skill_texts(broker, run.skills_hash, skill_texts(prepared.skills))
            except redis.RedisError as error:
                raise unreachable(executor, error) from None
            mark_submission(store, run.run_id, submission, executor)
            enqueue(broker, orders, executor)
            finished = watcher.wait(prepared.distribution.max_wait_s)
        status = RunStatus.COMPLETED if finished else RunStatus.INTERRUPTED
        stopped_by = None if finished else TIMED_OUT
    except KeyboardInterrupt as interrupt:
        status, stopped_by = RunStatus.INTERRUPTED, interrupting_signal(interrupt)
    finally:
        store.set_run_status(run.run_id, status, finished_at=datetime.now(UTC))
        broker.close()
    final = store.get_run(run.run_id) or run
    return RunOutcome(final, watcher.reported, status is RunStatus.INTERRUPTED, stopped_by)
