"""Each disambiguation case's options as the newest run that defines the case recorded them."""

from __future__ import annotations

from datetime import timedelta

from routelens.store import RunCaseRecord, Store
from routelens.store.confusion_reads import latest_case_options
from tests import factories

RUNS = 12
"""Enough runs that the oldest is read by a later statement than the newest."""


def _case(run_id: str, case_id: str, options: list[str] | None) -> RunCaseRecord:
    definition: dict[str, object] = {"id": case_id, "category": "disambiguation"}
    if options is not None:
        definition["disambiguation_options"] = options
    return RunCaseRecord(run_id, case_id, "disambiguation", 0, definition)


def _fill(store: Store) -> None:
    """Runs run-00 (oldest) to run-11 (newest), each defining some of the cases.

    - `every`: defined by every run, its options naming the run;
    - `oldest`: defined only by the oldest run;
    - `middle`: defined by run-03 and run-07 (run-07 is newer);
    - `tied`: defined by run-tie-a and run-tie-b, started at the same instant (before run-11)
      (the later id counts as newer);
    - `bare`: defined by the newest run without options (the older run's options are not
      used).
    """
    for index in range(RUNS):
        run_id = f"run-{index:02d}"
        cases = [_case(run_id, "every", [f"skill-{index}"])]
        if index == 0:
            cases += [_case(run_id, "oldest", ["a", "b"]), _case(run_id, "bare", ["old"])]
        if index in (3, 7):
            cases.append(_case(run_id, "middle", [f"m-{index}"]))
        if index == RUNS - 1:
            cases.append(_case(run_id, "bare", None))
        started = factories.STARTED + timedelta(hours=index)
        store.create_run(factories.make_run(run_id, started_at=started), [], cases)
    newest_start = factories.STARTED + timedelta(hours=RUNS - 1)
    for run_id in ("run-tie-b", "run-tie-a"):
        store.create_run(
            factories.make_run(run_id, started_at=newest_start - timedelta(minutes=1)),
            [],
            [_case(run_id, "tied", [run_id])],
        )


def test_the_newest_defining_run_wins(store: Store) -> None:
    _fill(store)
    wanted = ["every", "oldest", "middle", "tied", "bare", "never-defined"]
    assert latest_case_options(store.engine, wanted) == {
        "every": ("skill-11",),
        "oldest": ("a", "b"),
        "middle": ("m-7",),
        "tied": ("run-tie-b",),
        "bare": (),
    }


def test_only_the_given_runs_count(store: Store) -> None:
    _fill(store)
    wanted = ["every", "oldest", "middle", "bare"]
    assert latest_case_options(store.engine, wanted, ("run-00", "run-05")) == {
        "every": ("skill-5",),
        "oldest": ("a", "b"),
        "bare": ("old",),
    }
    assert latest_case_options(store.engine, []) == {}
