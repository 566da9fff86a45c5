"""The page cache: kept while the store is unchanged and fresh; anything recorded empties it."""

from __future__ import annotations

from pathlib import Path

import pytest

from routelens.changes.model import ChangeEvent, ChangeKind
from routelens.experiments.model import ArmKind, ArmSpec, ExperimentRecord
from routelens.experiments.storage import insert_experiment
from routelens.store import RunStatus, Verdict, open_store
from routelens.store.changes import record_change_events
from routelens.web.cache import PageCache, store_version
from tests import factories


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_is_used_at_its_version_within_its_lifetime() -> None:
    version, clock, computed = ["v1"], Clock(), []
    cache = PageCache(lambda: version[0], ttl_s=30, clock=clock)

    def compute() -> int:
        computed.append(1)
        return len(computed)

    assert cache.get_or_compute("page", compute) == 1
    clock.now = 29.9
    assert cache.get_or_compute("page", compute) == 1
    assert cache.get_or_compute("other", compute) == 2
    version[0] = "v2"
    assert cache.get_or_compute("page", compute) == 3
    clock.now = 60.0
    assert cache.get_or_compute("page", compute) == 4
    assert (cache.hits, cache.misses) == (1, 4)


def test_zero_seconds_turns_caching_off() -> None:
    calls = []
    cache = PageCache(lambda: "v", ttl_s=0)
    for _ in range(3):
        cache.get_or_compute("page", lambda: calls.append(1))
    assert len(calls) == 3


def test_the_store_version_changes_with_every_kind_of_record(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.sqlite") as store:
        seen = [store_version(store.engine)]

        def changed() -> bool:
            seen.append(store_version(store.engine))
            return seen[-1] != seen[-2]

        store.create_run(factories.make_run("r1", status=RunStatus.RUNNING), [], [])
        assert changed()
        store.record_attempt(factories.make_attempt("a", Verdict.PASS, run_id="r1"))
        assert changed()
        store.set_run_status("r1", RunStatus.COMPLETED, factories.STARTED)
        assert changed()
        arm = ArmSpec(ArmKind.FOLDER, "skills", "h")
        insert_experiment(
            store,
            ExperimentRecord("e", arm, arm, "c.yaml", "local", None, 1, 1, 1, factories.STARTED),
        )
        assert changed()
        event = ChangeEvent(
            "repo", "deploy", ChangeKind.ADDED, "s/deploy/SKILL.md", None, "a" * 40, None,
            "me", factories.STARTED, "add", None, "h", None, "d", True, 3, 0,
        )  # fmt: skip
        record_change_events(store, [event])
        assert changed()
        assert not changed()  # nothing recorded since


@pytest.mark.parametrize("ttl", [-1.0, 0.0])
def test_no_positive_lifetime_never_stores(ttl: float) -> None:
    cache = PageCache(lambda: "v", ttl_s=ttl)
    cache.get_or_compute("k", lambda: 1)
    assert cache.hits == 0
