"""Static shards: N processes (a CI matrix) each run a fixed 1/N of one run's work.

`routelens run --shard I/N --run-id ID` plans the whole run, in the order a single process
would (`plan_work`: repeats interleaved), and takes the items at positions I-1, I-1+N,
I-1+2N, ...; each attempt keeps its position as its sequence number, so the shards' attempts
read back in the unsharded order. Every shard records (or joins) the same run: the first to
arrive creates it, the others check that they test the same skills, cases and settings.

**The last shard.** When a shard has attempted all its items, it adds its index to the run's
`settings["shards"]["finished"]` in one transaction that holds the run row (see
`store.run_progress.update_run_settings`). The shard whose transaction makes that list
complete (1..N) is the last: in the same transaction it marks the run `completed`, and it
then prints the run's summary and applies the gate. Transactions on one run row are
serialised, so in one pass exactly one shard is the last; a shard re-run after that finds
the list complete too, and gates the same attempts again. Shards in separate stores never
see each other's records: merge their exports with `routelens import`, then
`routelens run --finish ID` gates the run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from routelens.errors import InputError
from routelens.runner.engine import AttemptObserver, WorkItem, plan_work
from routelens.runner.session import ItemsOutcome, RunOutcome, execute_items
from routelens.store.records import AttemptRecord, RunRecord, RunStatus
from routelens.store.run_lookup import find_run
from routelens.store.run_progress import SHARDS_SETTING, SettingsChange, update_run_settings
from routelens.store.sqlstore import Store
from routelens.suite.models import Case

if TYPE_CHECKING:
    from routelens.runner.launch import PreparedRun

RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_SHARD_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class ShardSpec:
    """Shard `index` of `count` (1-based, as CI matrices number their jobs)."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> ShardSpec:
        """`"2/3"` → ShardSpec(2, 3); anything else is an InputError naming `--shard`."""
        match = _SHARD_PATTERN.match(text)
        if match is None:
            raise InputError("--shard", f"{text!r} is not I/N (for example 2/3)")
        index, count = int(match.group(1)), int(match.group(2))
        if count < 1 or not 1 <= index <= count:
            raise InputError("--shard", f"{text!r}: I must be between 1 and N")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def check_run_id(run_id: str) -> str:
    """A run id given on the command line: letters, digits and `._:-`, at most 128."""
    if not RUN_ID_PATTERN.match(run_id):
        raise InputError(
            "--run-id",
            f"{run_id!r}: use letters, digits and . _ : - (at most 128, a letter or digit first)",
        )
    return run_id


def shard_work(
    cases: tuple[Case, ...],
    repeat: int,
    shard: ShardSpec,
    done: set[tuple[str, int]],
    *,
    include_skipped: bool = False,
) -> list[WorkItem]:
    """This shard's items not yet done, each numbered by its place in the whole plan."""
    whole = plan_work(cases, repeat, frozenset(), include_skipped=include_skipped)
    return [
        replace(item, sequence_number=position)
        for position, item in enumerate(whole)
        if position % shard.count == shard.index - 1
        and (item.case.id, item.repeat_index) not in done
    ]


def own_attempts(attempts: list[AttemptRecord], shard: ShardSpec | None) -> list[AttemptRecord]:
    """The attempts of `shard`'s slice (a shard job's own JUnit report); all without one."""
    if shard is None:
        return attempts
    return [a for a in attempts if a.sequence_number % shard.count == shard.index - 1]


@dataclass(frozen=True)
class ShardedRunPlan:
    """The run a shard belongs to, as this shard would record it if it came first."""

    run_id: str
    shard: ShardSpec
    planned_attempts: int
    skills_hash: str
    suite_hash: str
    settings: Mapping[str, Any]
    """The run's settings as stored (`RunSettings.storable()`)."""

    def settings_record(self) -> dict[str, Any]:
        """The run's `shards` setting before any shard has finished."""
        return {"count": self.shard.count, "attempts": self.planned_attempts, "finished": []}


def create_or_join(
    store: Store, plan: ShardedRunPlan, create: Callable[[dict[str, Any]], RunRecord]
) -> RunRecord:
    """The run this shard belongs to: made by `create(extra_settings)` when no shard has
    made it yet, else the stored one, which must test the same things with as many shards."""
    try:
        return create({SHARDS_SETTING: plan.settings_record()})
    except ValueError:  # another shard created it first (the store refused a second insert)
        pass
    stored = store.get_run(plan.run_id)
    if stored is None:  # deleted between our insert's conflict and now
        raise InputError("--run-id", f"run {plan.run_id!r} vanished while joining it")
    record = stored.settings.get(SHARDS_SETTING) or {}
    if record.get("count") != plan.shard.count:
        shown = f"{record['count']} shards" if "count" in record else "no shards"
        raise InputError(
            "--shard", f"run {plan.run_id} was started with {shown}, not {plan.shard.count}"
        )
    check_same_run(stored, plan)
    return stored


def check_same_run(stored: RunRecord, plan: ShardedRunPlan) -> None:
    """A shard joining `stored` must test what it tests: skills, cases, router and settings."""
    checks: list[tuple[str, Any, Any]] = [
        ("skills hash", stored.skills_hash, plan.skills_hash),
        ("suite hash", stored.suite_hash, plan.suite_hash),
    ]
    checks += [
        (key, stored.settings.get(key), plan.settings.get(key))
        for key in ("router", "model", "repeat", "selection", "include_skipped")
    ]
    for name, theirs, ours in checks:
        if theirs != ours:
            raise InputError(
                "--run-id",
                f"this shard does not match run {stored.run_id}: {name} is {ours!r} here, "
                f"{theirs!r} in the run (every shard must run the same suite and settings)",
            )


def record_shard_finished(store: Store, run_id: str, shard: ShardSpec) -> tuple[int, ...]:
    """Record that `shard` attempted all its items; the shards still to finish are returned.

    When none is left, the run is marked `completed` in the same transaction."""

    def change(
        settings: dict[str, Any], status: RunStatus
    ) -> tuple[SettingsChange, tuple[int, ...]]:
        record = dict(settings.get(SHARDS_SETTING) or {"count": shard.count})
        finished = sorted({*record.get("finished", []), shard.index})
        pending = tuple(i for i in range(1, int(record["count"]) + 1) if i not in finished)
        updated = {**settings, SHARDS_SETTING: {**record, "finished": finished}}
        return SettingsChange(updated, None if pending else RunStatus.COMPLETED), pending

    return update_run_settings(store, run_id, change)


def execute_shard(
    store: Store,
    prepared: PreparedRun,
    shard: ShardSpec,
    *,
    observer: AttemptObserver | None = None,
) -> RunOutcome:
    """Attempt this shard's missing items; record its completion; the last shard completes
    the run. An interrupted shard leaves the run `interrupted` (run the shard again)."""
    run, router = prepared.run, prepared.router
    assert router is not None, "a shard routes its items itself"
    done = store.attempt_keys(run.run_id)
    settings = prepared.settings
    items = shard_work(
        prepared.cases, settings.repeat, shard, done, include_skipped=settings.include_skipped
    )
    store.set_run_status(run.run_id, RunStatus.RUNNING)
    ran = ItemsOutcome(RunStatus.FAILED, 0)
    try:
        ran = execute_items(
            store, run, prepared.skills, router, prepared.settings, items, observer=observer
        )
    finally:
        if ran.status is not RunStatus.COMPLETED:
            store.set_run_status(run.run_id, ran.status, finished_at=datetime.now(UTC))
    if ran.status is not RunStatus.COMPLETED:
        return ran.outcome(store, run)
    pending = record_shard_finished(store, run.run_id, shard)
    return replace(ran.outcome(store, run), pending_shards=pending)


@dataclass(frozen=True)
class FinishedCheck:
    """A run closed by `--finish`: as now stored, and how many planned attempts it lacks."""

    run: RunRecord
    planned_attempts: int | None
    missing_attempts: int


def planned_attempts(store: Store, run: RunRecord) -> int | None:
    """How many attempts the run was planned to make: recorded by shards, else cases
    times repeats from its stored cases; None when neither is known (an imported plain run)."""
    record = run.settings.get(SHARDS_SETTING) or {}
    if isinstance(record.get("attempts"), int):
        return int(record["attempts"])
    cases = store.run_cases(run.run_id)
    repeat = run.settings.get("repeat")
    if not cases or not isinstance(repeat, int):
        return None
    every = bool(run.settings.get("include_skipped"))
    return sum(1 for case in cases if every or not case.definition.get("skip")) * repeat


def finish_run(store: Store, reference: str) -> FinishedCheck:
    """Close a run whatever its shards or workers did: `completed` when every planned
    attempt is there, else `interrupted` (resumable), with the count of missing attempts."""
    run = find_run(store, reference)
    planned = planned_attempts(store, run)
    present = len(store.attempt_keys(run.run_id))
    missing = max(0, planned - present) if planned is not None else 0
    status = RunStatus.COMPLETED if missing == 0 else RunStatus.INTERRUPTED
    store.set_run_status(run.run_id, status, finished_at=datetime.now(UTC))
    return FinishedCheck(store.get_run(run.run_id) or run, planned, missing)
