"""Static shards: the partition of a run's plan, joining a run, and the one last shard."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from routelens.errors import InputError
from routelens.runner.engine import plan_work
from routelens.runner.session import RunSettings, create_run
from routelens.runner.shards import (
    ShardedRunPlan,
    ShardSpec,
    check_run_id,
    create_or_join,
    finish_run,
    record_shard_finished,
    shard_work,
)
from routelens.store import RunStatus, Store, open_store
from routelens.store.run_progress import SHARDS_SETTING
from routelens.suite.models import CaseSuite, SkillSet
from tests.factories import make_attempt


def test_a_shard_is_read_as_index_of_count() -> None:
    assert ShardSpec.parse("2/3") == ShardSpec(2, 3)
    assert ShardSpec.parse(" 1 / 1 ") == ShardSpec(1, 1)
    assert str(ShardSpec(2, 3)) == "2/3"
    for bad in ("0/3", "4/3", "3", "a/b", "1/0", "-1/2"):
        with pytest.raises(InputError, match="--shard"):
            ShardSpec.parse(bad)


def test_run_ids_given_on_the_command_line_are_plain_words() -> None:
    assert check_run_id("pipeline-1234.7_a:b") == "pipeline-1234.7_a:b"
    for bad in ("", "-x", "a b", "a/b", "x" * 129):
        with pytest.raises(InputError, match="--run-id"):
            check_run_id(bad)


def test_the_shards_split_the_unsharded_plan_and_keep_its_order(small_suite: CaseSuite) -> None:
    cases, repeat, count = small_suite.cases, 3, 5
    whole = plan_work(cases, repeat, frozenset())
    shards = [shard_work(cases, repeat, ShardSpec(i, count), set()) for i in range(1, count + 1)]
    numbered = sorted(
        (item.sequence_number, item.case.id, item.repeat_index) for s in shards for item in s
    )
    # every item exactly once, each numbered by its place in the unsharded plan
    assert numbered == [(n, item.case.id, item.repeat_index) for n, item in enumerate(whole)]
    assert [len(s) for s in shards] == [3, 3, 2, 2, 2]  # 12 items, as even as 12/5 allows
    # the same call gives the same shard (a CI retry runs the same items)
    assert shard_work(cases, repeat, ShardSpec(2, count), set()) == shards[1]


def test_a_shard_skips_what_the_store_already_has(small_suite: CaseSuite) -> None:
    first = shard_work(small_suite.cases, 2, ShardSpec(1, 2), set())
    done = {(first[0].case.id, first[0].repeat_index)}
    rest = shard_work(small_suite.cases, 2, ShardSpec(1, 2), done)
    assert rest == first[1:]


def _sharded_plan(
    skills: SkillSet, suite: CaseSuite, settings: RunSettings, count: int, run_id: str = "ci-7"
) -> ShardedRunPlan:
    return ShardedRunPlan(
        run_id=run_id,
        shard=ShardSpec(1, count),
        planned_attempts=len(suite.cases) * settings.repeat,
        skills_hash=skills.skills_hash,
        suite_hash=suite.suite_hash,
        settings=settings.storable(),
    )


def _join(store: Store, skills: SkillSet, suite: CaseSuite, plan: ShardedRunPlan) -> str:
    settings = RunSettings.from_stored(plan.settings)

    def create(extra: dict[str, object]) -> object:
        return create_run(store, skills, suite, settings, run_id=plan.run_id, extra_settings=extra)

    return create_or_join(store, plan, create).run_id  # type: ignore[arg-type]


def test_the_first_shard_creates_the_run_and_the_others_join_it(
    shared_store_url: str, small_skills: SkillSet, small_suite: CaseSuite
) -> None:
    settings = RunSettings(router="local", repeat=2)
    plan = _sharded_plan(small_skills, small_suite, settings, count=3)
    with open_store(shared_store_url) as store:
        assert _join(store, small_skills, small_suite, plan) == "ci-7"
        assert _join(store, small_skills, small_suite, plan) == "ci-7"
        (run,) = store.list_runs()
        assert run.settings[SHARDS_SETTING] == {"count": 3, "attempts": 8, "finished": []}
        assert len(store.run_cases("ci-7")) == 4


def test_a_shard_that_tests_something_else_cannot_join(
    shared_store_url: str, small_skills: SkillSet, small_suite: CaseSuite
) -> None:
    settings = RunSettings(router="local", repeat=2)
    with open_store(shared_store_url) as store:
        _join(
            store, small_skills, small_suite, _sharded_plan(small_skills, small_suite, settings, 3)
        )
        other_repeat = _sharded_plan(
            small_skills, small_suite, RunSettings(router="local", repeat=3), 3
        )
        with pytest.raises(InputError, match="repeat is 3 here, 2 in the run"):
            _join(store, small_skills, small_suite, other_repeat)
        with pytest.raises(InputError, match="started with 3 shards, not 4"):
            _join(
                store,
                small_skills,
                small_suite,
                _sharded_plan(small_skills, small_suite, settings, 4),
            )
        create_run(store, small_skills, small_suite, settings, run_id="plain")
        plain = _sharded_plan(small_skills, small_suite, settings, 3, run_id="plain")
        with pytest.raises(InputError, match="started with no shards"):
            _join(store, small_skills, small_suite, plain)


@pytest.mark.parametrize("trial", range(3))
def test_exactly_one_shard_is_the_last_when_all_finish_at_once(
    shared_store_url: str, small_skills: SkillSet, small_suite: CaseSuite, trial: int
) -> None:
    count = 6
    settings = RunSettings(router="local", repeat=1)
    plan = _sharded_plan(small_skills, small_suite, settings, count, run_id=f"ci-{trial}")
    with open_store(shared_store_url) as store:
        _join(store, small_skills, small_suite, plan)
    barrier = threading.Barrier(count)
    pending: dict[int, tuple[int, ...]] = {}

    def finish(index: int) -> None:
        # each shard in its own store, as separate processes would be
        with open_store(shared_store_url, access="write") as own:
            barrier.wait()
            pending[index] = record_shard_finished(own, plan.run_id, ShardSpec(index, count))

    threads = [threading.Thread(target=finish, args=(i,)) for i in range(1, count + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # serialised: each shard saw one more finished shard than the one before it
    assert sorted(len(left) for left in pending.values()) == list(range(count))
    assert len([index for index, left in pending.items() if not left]) == 1
    for index, left in pending.items():
        assert index not in left
    with open_store(shared_store_url, access="read") as store:
        run = store.get_run(plan.run_id)
    assert run is not None
    assert run.settings[SHARDS_SETTING]["finished"] == list(range(1, count + 1))
    assert run.status is RunStatus.COMPLETED
    assert run.finished_at is not None


def test_finish_closes_a_run_and_counts_what_is_missing(
    tmp_path: Path, small_skills: SkillSet, small_suite: CaseSuite
) -> None:
    settings = RunSettings(router="local", repeat=2)
    with open_store(tmp_path / "store.sqlite") as store:
        run = create_run(store, small_skills, small_suite, settings, run_id="r1")
        for case in small_suite.cases[:3]:
            store.record_attempt(make_attempt(case.id, repeat_index=0, run_id=run.run_id))
        check = finish_run(store, "r1")
        assert (check.planned_attempts, check.missing_attempts) == (8, 5)
        assert check.run.status is RunStatus.INTERRUPTED
        for case in small_suite.cases:
            for repeat in range(2):
                store.record_attempt(make_attempt(case.id, repeat_index=repeat, run_id="r1"))
        check = finish_run(store, "r")  # a unique prefix names it too
        assert (check.planned_attempts, check.missing_attempts) == (8, 0)
        assert check.run.status is RunStatus.COMPLETED
