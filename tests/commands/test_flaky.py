"""`routelens flaky`'s pieces: reading and classifying a store, and the `--json` text."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from routelens.analytics.flaky import (
    CaseKey,
    FlakyAggregate,
    FlakyClass,
    FlakyRule,
    classify_flaky,
)
from routelens.analytics.window import AttemptFilter
from routelens.commands.flaky import find_flaky_cases, flaky_case_dict, flaky_json
from routelens.store import Verdict, open_store
from tests.factories import make_attempt, make_run


def test_flaky_json_is_json_dumps_of_the_case_dicts() -> None:
    aggregates = [
        FlakyAggregate(CaseKey(f"c{i % 7}", f"in {i % 3}", f"s{i % 2}", "r", None), a, p, e, f)
        for i, (a, p, e, f) in enumerate(
            [(10, 5, 0, 5), (10, 10, 1, 0), (3, 1, 0, 2), (0, 0, 4, 0), (50, 45, 0, 8)] * 3
        )
    ]
    cases = classify_flaky(aggregates)
    header = {"window": "7d", "rule": "interval", "min_attempts": 5}
    expected = json.dumps({**header, "cases": [flaky_case_dict(case) for case in cases]})
    assert flaky_json(header, cases) == expected
    assert flaky_json(header, []) == json.dumps({**header, "cases": []})


def test_find_flaky_cases_classifies_the_windows_groups_flaky_first(tmp_path: Path) -> None:
    start = datetime.now(UTC) - timedelta(hours=1)
    with open_store(tmp_path / "store.sqlite") as store:
        store.create_run(make_run("run-1", started_at=start), [], [])
        for case_id, verdicts in {"steady": "PPPPPP", "coin": "PFPFPF", "gone": "FFFFFF"}.items():
            for index, code in enumerate(verdicts):
                at = start + timedelta(seconds=index)
                verdict = Verdict.PASS if code == "P" else Verdict.FAIL
                store.record_attempt(
                    make_attempt(
                        case_id, verdict, repeat_index=index, started_at=at, finished_at=at
                    )
                )
        cases = find_flaky_cases(store, AttemptFilter(window=timedelta(days=1)))
        plan = find_flaky_cases(
            store, AttemptFilter(window=timedelta(days=1)), min_attempts=7, rule=FlakyRule.PLAN
        )
        outside = find_flaky_cases(store, AttemptFilter(window=timedelta(minutes=1)))
    classes = {case.key.case_id: case.flaky_class for case in cases}
    assert classes == {
        "coin": FlakyClass.FLAKY,
        "steady": FlakyClass.STABLE_PASS,
        "gone": FlakyClass.BROKEN,
    }
    assert cases[0].key.case_id == "coin"
    assert (cases[0].attempts, cases[0].passes, cases[0].flips) == (6, 3, 5)
    assert {case.flaky_class for case in plan} == {FlakyClass.INSUFFICIENT_DATA}
    assert outside == []
