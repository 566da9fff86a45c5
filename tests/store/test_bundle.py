"""Run bundles: a run with its skills, cases and attempts in one JSONL file, and back.

Runs on SQLite, and on PostgreSQL when ROUTELENS_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from routelens.cli import app
from routelens.errors import InputError
from routelens.store import (
    AttemptRecord,
    ImportSummary,
    RunCaseRecord,
    RunRecord,
    RunSkillRecord,
    Store,
    Verdict,
    export_run_jsonl,
    import_jsonl,
    jsonl,
    jsonl_pipeline,
)
from routelens.store.merge import AttemptConflict
from tests.store.test_jsonl import MINIMAL_LINE, _write_lines

StoreFactory = Callable[[], Store]


def _fill(
    store: Store,
    make_run: Callable[..., RunRecord],
    make_attempt: Callable[..., AttemptRecord],
    make_skill: Callable[..., RunSkillRecord],
    make_case: Callable[..., RunCaseRecord],
) -> None:
    store.create_run(
        make_run(),
        [make_skill("deploy"), make_skill("review")],
        [make_case("b", 0), make_case("a", 1)],
    )
    store.record_attempts(
        [make_attempt("b", 0, sequence_number=0), make_attempt("a", 0, sequence_number=1)]
    )


def test_a_bundle_carries_the_runs_skills_and_cases_and_round_trips_byte_for_byte(
    store_factory: StoreFactory,
    make_run: Callable[..., RunRecord],
    make_attempt: Callable[..., AttemptRecord],
    make_skill: Callable[..., RunSkillRecord],
    make_case: Callable[..., RunCaseRecord],
    tmp_path: Path,
) -> None:
    source = store_factory()
    _fill(source, make_run, make_attempt, make_skill, make_case)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    assert export_run_jsonl(source, "run-1", first) == 2
    kinds = [json.loads(line).get("kind") for line in first.read_text().splitlines()]
    assert kinds == ["bundle", "run", "skill", "skill", "case", "case", None, None]

    target = store_factory()
    assert import_jsonl(target, first) == ImportSummary(1, 2, 0)
    assert target.run_skills("run-1") == source.run_skills("run-1")
    assert target.run_cases("run-1") == source.run_cases("run-1")
    assert target.get_run("run-1") == source.get_run("run-1")
    export_run_jsonl(target, "run-1", second)
    assert second.read_bytes() == first.read_bytes()
    assert import_jsonl(target, first) == ImportSummary(0, 0, 2)  # idempotent


def test_a_run_without_attempts_still_travels(
    store_factory: StoreFactory,
    make_run: Callable[..., RunRecord],
    make_case: Callable[..., RunCaseRecord],
    tmp_path: Path,
) -> None:
    source = store_factory()
    source.create_run(make_run(), [], [make_case("a", 0)])
    path = tmp_path / "empty.jsonl"
    assert export_run_jsonl(source, "run-1", path) == 0
    target = store_factory()
    assert import_jsonl(target, path) == ImportSummary(1, 0, 0)
    assert [case.case_id for case in target.run_cases("run-1")] == ["a"]


@pytest.mark.parametrize(("worker", "index"), [("gw0", 0), ("gw7", 7), (3, 3)])
def test_worker_ids_as_pytest_xdist_writes_them_are_accepted(
    store: Store, tmp_path: Path, worker: str | int, index: int
) -> None:
    import_jsonl(store, _write_lines(tmp_path / "w.jsonl", [{**MINIMAL_LINE, "worker_id": worker}]))
    assert [attempt.worker_id for attempt in store.attempts("imported")] == [index]


@pytest.mark.parametrize("worker", ["gw", "worker-1", "3", "gw-1"])
def test_other_worker_ids_name_the_line(store: Store, tmp_path: Path, worker: str) -> None:
    path = _write_lines(tmp_path / "w.jsonl", [{**MINIMAL_LINE, "worker_id": worker}])
    with pytest.raises(InputError) as raised:
        import_jsonl(store, path)
    assert (raised.value.line, raised.value.field) == (1, "worker_id")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"router": "anthropic"}, "router"),
        ({"model": "claude-x"}, "model"),
        ({"labels": {"team": "other"}}, "labels"),
        ({"run_started_at": "2024-05-01T12:00:01+02:00"}, "run_started_at"),
    ],
)
def test_lines_of_one_run_that_disagree_on_the_run_are_refused_with_the_line(
    store: Store, tmp_path: Path, change: dict[str, Any], field: str
) -> None:
    lines = [
        MINIMAL_LINE,
        {**MINIMAL_LINE, "case_id": "c2"},
        {**MINIMAL_LINE, "case_id": "c3", **change},
    ]
    path = _write_lines(tmp_path / "mixed.jsonl", lines)
    with pytest.raises(InputError) as raised:
        import_jsonl(store, path)
    assert (raised.value.line, raised.value.field) == (3, field)
    assert "at line 1: one run id, two runs" in raised.value.message
    assert store.list_runs() == []


def test_status_and_finish_time_may_advance_between_lines(store: Store, tmp_path: Path) -> None:
    later = {
        **MINIMAL_LINE,
        "case_id": "c2",
        "run_status": "interrupted",
        "run_finished_at": "2024-05-01T13:00:00+00:00",
    }
    assert import_jsonl(store, _write_lines(tmp_path / "ok.jsonl", [MINIMAL_LINE, later])) == (
        ImportSummary(1, 2, 0)
    )


def test_a_run_the_store_holds_differently_is_refused(store: Store, tmp_path: Path) -> None:
    import_jsonl(store, _write_lines(tmp_path / "one.jsonl", [MINIMAL_LINE]))
    other = {**MINIMAL_LINE, "case_id": "c2", "model": "claude-x"}
    path = _write_lines(tmp_path / "two.jsonl", [other])
    with pytest.raises(InputError) as raised:
        import_jsonl(store, path)
    assert (raised.value.line, raised.value.field) == (1, "model")
    assert raised.value.message == (
        "run 'imported' is in the store with model None; this file says 'claude-x'"
    )
    assert len(store.attempts("imported")) == 1


def test_an_attempt_offered_again_with_another_verdict_is_a_conflict(
    store: Store, tmp_path: Path
) -> None:
    import_jsonl(store, _write_lines(tmp_path / "one.jsonl", [MINIMAL_LINE]))
    failed = {**MINIMAL_LINE, "verdict": "fail", "actual_skill": "review"}
    repeat_1 = {**MINIMAL_LINE, "repeat_index": 1}
    path = _write_lines(tmp_path / "two.jsonl", [MINIMAL_LINE, failed, repeat_1, failed])
    summary = import_jsonl(store, path)
    conflict = AttemptConflict("imported", "case-1", 0, "pass", "fail")
    assert summary == ImportSummary(0, 1, 1, (conflict, conflict))
    assert [a.verdict for a in store.attempts("imported")] == [Verdict.PASS, Verdict.PASS]


def test_a_conflict_inside_one_file_is_found_by_the_worker_too(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonl, "_BATCH_LINES", 2)
    monkeypatch.setattr(jsonl_pipeline, "PIPELINE_MIN_BYTES", 0)
    lines = [
        MINIMAL_LINE,
        {**MINIMAL_LINE, "case_id": "c2"},
        {**MINIMAL_LINE, "verdict": "error", "error_type": "timeout"},
        MINIMAL_LINE,
    ]
    summary = import_jsonl(store, _write_lines(tmp_path / "dup.jsonl", lines))
    assert summary == ImportSummary(
        1, 2, 1, (AttemptConflict("imported", "case-1", 0, "pass", "error"),)
    )


def test_a_nul_in_an_attempts_text_is_stored_replaced_and_flagged(
    store: Store, tmp_path: Path
) -> None:
    lines = [
        {**MINIMAL_LINE, "input": "a\x00b", "response_text": "x\u0000"},
        {**MINIMAL_LINE, "case_id": "clean"},
    ]
    assert import_jsonl(store, _write_lines(tmp_path / "nul.jsonl", lines)) == ImportSummary(
        1, 2, 0
    )
    nul, clean = sorted(store.attempts("imported"), key=lambda a: a.case_id != "case-1")
    assert (nul.input, nul.response_text, nul.nul_replaced) == ("a\ufffdb", "x\ufffd", True)
    assert clean.nul_replaced is False


def test_a_nul_in_a_runs_labels_or_a_case_definition_imports_replaced(
    store: Store, tmp_path: Path
) -> None:
    lines: list[dict[str, Any] | str] = [
        '{"kind":"bundle","format":"routelens-run-bundle","version":2}',
        {**MINIMAL_LINE, "labels": {"team": "q\u0000a"}, "settings": {"k\u0000": 1}},
        {
            "kind": "case",
            "run_id": "imported",
            "case_id": "case-1",
            "category": "direct",
            "position": 0,
            "definition": {"id": "case-1", "notes": "n\u0000"},
        },
    ]
    import_jsonl(store, _write_lines(tmp_path / "nul.jsonl", lines))
    run = store.get_run("imported")
    assert run is not None
    assert (run.labels, run.settings) == ({"team": "q\ufffda"}, {"k\ufffd": 1})
    assert store.run_cases("imported")[0].definition["notes"] == "n\ufffd"


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        (
            ['{"kind":"bundle","format":"routelens-run-bundle","version":3}', MINIMAL_LINE],
            1,
            "bundle version 3 is newer than this routelens reads (2); upgrade routelens",
        ),
        (
            [MINIMAL_LINE, '{"kind":"bundle","format":"routelens-run-bundle","version":2}'],
            2,
            "a bundle header must be the first line",
        ),
        (
            [
                '{"kind":"skill","run_id":"elsewhere","name":"a","folder_name":"a",'
                '"content_hash":"h","description":"d","path":"p"}'
            ],
            1,
            "run 'elsewhere' is not described before this line (a run line or an attempt "
            "line of it comes first)",
        ),
    ],
)
def test_a_malformed_bundle_names_the_line(
    store: Store, tmp_path: Path, lines: list[dict[str, Any] | str], line: int, message: str
) -> None:
    with pytest.raises(InputError) as raised:
        import_jsonl(store, _write_lines(tmp_path / "bad.jsonl", lines))
    assert (raised.value.line, raised.value.message) == (line, message)


def test_the_import_command_reports_conflicts_apart_from_what_was_already_there(
    store_url_factory: Callable[[], str], tmp_path: Path
) -> None:
    url = store_url_factory()
    runner = CliRunner()
    first = _write_lines(tmp_path / "one.jsonl", [MINIMAL_LINE])
    failed = {**MINIMAL_LINE, "verdict": "fail"}
    second = _write_lines(tmp_path / "two.jsonl", [MINIMAL_LINE, failed])
    assert runner.invoke(app, ["import", str(first), "--store", url]).exit_code == 0
    result = runner.invoke(app, ["import", str(second), "--store", url])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"{second}: 0 runs created, 0 attempts added, 1 already present, 1 conflicting "
        "(the store's verdict is kept)\n"
        "  conflict: run imported, case case-1, repeat 0: stored pass, offered fail\n"
    )
