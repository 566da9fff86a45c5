"""JSONL export and import: byte-identical round trips, idempotent imports, one-line errors."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from routelens.cli import app
from routelens.errors import InputError
from routelens.store import (
    AttemptRecord,
    ImportSummary,
    RunRecord,
    RunStatus,
    Store,
    Verdict,
    export_run_jsonl,
    import_jsonl,
    jsonl,
    jsonl_pipeline,
    open_store,
    schema,
)
from routelens.store.merge import SQLITE_ATTEMPT_COLUMNS, MergeBatch
from routelens.suite.hashing import input_hash

MakeRun = Callable[..., RunRecord]
MakeAttempt = Callable[..., AttemptRecord]
StoreFactory = Callable[[], Store]

EXPORTED_KEYS = {
    "run_id", "run_started_at", "run_finished_at", "run_status", "router", "model",
    "skills_hash", "suite_hash", "suite_name", "suite_version", "git_commit", "git_branch",
    "environment", "labels", "case_id", "category", "input", "expected_skill", "actual_skill",
    "asked_clarification", "verdict", "repeat_index", "started_at", "finished_at", "latency_s",
    "retries", "retry_wait_s", "error_type", "error_message", "http_status", "input_tokens",
    "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd", "worker_id",
    "sequence_number", "confidence", "options_score", "commands_score", "response_text",
    "response_model", "expected_skill_hash", "actual_skill_hash",
}  # fmt: skip

MINIMAL_LINE: dict[str, Any] = {
    "run_id": "imported",
    "run_started_at": "2024-05-01T12:00:00+02:00",
    "router": "function",
    "model": None,
    "skills_hash": "skills-hash",
    "labels": {},
    "case_id": "case-1",
    "category": "direct",
    "input": "deploy it",
    "expected_skill": "deploy",
    "actual_skill": "deploy",
    "asked_clarification": False,
    "verdict": "pass",
    "repeat_index": 0,
    "started_at": "2024-05-01T12:00:01.5+02:00",
    "latency_s": 0.25,
    "retries": 0,
    "error_type": None,
    "input_tokens": 10,
    "output_tokens": 2,
    "cache_read_tokens": 0,
    "cache_write_tokens": 0,
    "cost_usd": 0.001,
    "worker_id": 0,
}


def _fill_run(store: Store, make_run: MakeRun, make_attempt: MakeAttempt) -> None:
    store.create_run(
        make_run(status=RunStatus.COMPLETED, finished_at=datetime(2024, 5, 1, 13, tzinfo=UTC)),
        [],
        [],
    )
    store.record_attempts(
        [
            make_attempt("a", 0, sequence_number=0),
            make_attempt("a", 1, sequence_number=1, verdict=Verdict.FAIL, actual_skill="test"),
            make_attempt(
                "b\u2028weird",
                0,
                sequence_number=2,
                verdict=Verdict.ERROR,
                error_type="RateLimitError",
                error_message="429: slow down\nretry later",
                http_status=429,
                input="línea «dos»\u2029 ✓ \r\n tab\t",
                confidence=None,
                latency_s=0.1 + 0.2,
            ),
        ]
    )


def _write_lines(path: Path, lines: list[dict[str, Any] | str]) -> Path:
    text = "".join((ln if isinstance(ln, str) else json.dumps(ln)) + "\n" for ln in lines)
    path.write_bytes(text.encode("utf-8"))
    return path


def test_export_import_export_is_byte_identical(
    store_factory: StoreFactory, make_run: MakeRun, make_attempt: MakeAttempt, tmp_path: Path
) -> None:
    source = store_factory()
    _fill_run(source, make_run, make_attempt)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"

    assert export_run_jsonl(source, "run-1", first) == 3
    target = store_factory()
    summary = import_jsonl(target, first)
    assert export_run_jsonl(target, "run-1", second) == 3

    assert summary == ImportSummary(runs_created=1, attempts_added=3, attempts_skipped=0)
    assert second.read_bytes() == first.read_bytes()
    assert target.attempts("run-1") == source.attempts("run-1")
    assert target.get_run("run-1") == source.get_run("run-1")


def test_export_format(
    store: Store, make_run: MakeRun, make_attempt: MakeAttempt, tmp_path: Path
) -> None:
    _fill_run(store, make_run, make_attempt)
    out = tmp_path / "deep" / "run.jsonl"

    export_run_jsonl(store, "run-1", out)
    raw = out.read_bytes()
    lines = raw.decode("utf-8").split("\n")
    header, run_line, *objects = [json.loads(line) for line in lines[:-1]]

    assert raw.endswith(b"\n")
    assert lines[-1] == ""
    assert header == {"kind": "bundle", "format": "routelens-run-bundle", "version": 2}
    assert lines[0] == '{"kind":"bundle","format":"routelens-run-bundle","version":2}'
    assert run_line["kind"] == "run"
    assert run_line.keys() >= {"run_id", "run_started_at", "router", "labels", "settings"}
    assert all(obj.keys() >= EXPORTED_KEYS for obj in objects)
    assert all(list(obj) == sorted(obj) for obj in objects)
    assert objects[0]["started_at"] == "2024-05-01T12:00:01.123456+00:00"
    assert objects[0]["run_finished_at"] == "2024-05-01T13:00:00.000000+00:00"
    assert [obj["case_id"] for obj in objects] == ["a", "a", "b\u2028weird"]
    assert objects[2]["latency_s"] == 0.1 + 0.2


def test_export_of_unknown_run_is_an_input_error(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        export_run_jsonl(store, "missing", tmp_path / "out.jsonl")

    assert raised.value.field == "run_id"


def test_reimport_adds_nothing(
    store_factory: StoreFactory, make_run: MakeRun, make_attempt: MakeAttempt, tmp_path: Path
) -> None:
    source = store_factory()
    _fill_run(source, make_run, make_attempt)
    export_run_jsonl(source, "run-1", tmp_path / "run.jsonl")

    again = import_jsonl(source, tmp_path / "run.jsonl")

    assert again == ImportSummary(runs_created=0, attempts_added=0, attempts_skipped=3)
    assert len(source.attempts("run-1")) == 3


def test_minimal_line_imports_with_defaults(store: Store, tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "min.jsonl", [MINIMAL_LINE])

    assert import_jsonl(store, path) == ImportSummary(1, 1, 0)

    run = store.get_run("imported")
    [attempt] = store.attempts("imported")
    assert run is not None
    assert run.status == RunStatus.COMPLETED
    assert run.started_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert (run.suite_hash, run.suite_name, run.labels, run.settings) == ("", "", {}, {})
    assert attempt.started_at == datetime(2024, 5, 1, 10, 0, 1, 500000, tzinfo=UTC)
    assert attempt.finished_at == datetime(2024, 5, 1, 10, 0, 1, 750000, tzinfo=UTC)
    assert (attempt.sequence_number, attempt.response_text, attempt.http_status) == (0, "", None)


def test_imported_attempts_carry_their_inputs_hash(store: Store, tmp_path: Path) -> None:
    lines = [
        {**MINIMAL_LINE, "case_id": f"c{index}", "input": text}
        for index, text in enumerate(["move TES-1", "déplace ✓", ""])
    ]
    import_jsonl(store, _write_lines(tmp_path / "inputs.jsonl", lines))
    attempts = schema.attempts.c
    with store.engine.connect() as connection:
        stored = dict(connection.execute(select(attempts.input, attempts.input_hash)).all())
    assert stored == {line["input"]: input_hash(line["input"]) for line in lines}


def test_blank_lines_crlf_and_unknown_keys_are_accepted(store: Store, tmp_path: Path) -> None:
    second = {**MINIMAL_LINE, "case_id": "case-2", "from_a_newer_version": [1, 2]}
    text = "\r\n" + json.dumps(MINIMAL_LINE) + "\r\n\r\n   \n" + json.dumps(second)
    path = tmp_path / "loose.jsonl"
    path.write_bytes(text.encode("utf-8"))

    assert import_jsonl(store, path) == ImportSummary(1, 2, 0)


def test_a_file_can_hold_several_runs(store: Store, tmp_path: Path) -> None:
    lines: list[dict[str, Any] | str] = [
        MINIMAL_LINE,
        {**MINIMAL_LINE, "run_id": "other", "router": "other-router"},
        {**MINIMAL_LINE, "repeat_index": 1},
    ]

    summary = import_jsonl(store, _write_lines(tmp_path / "runs.jsonl", lines))

    assert summary == ImportSummary(2, 3, 0)
    assert {run.run_id: run.router for run in store.list_runs()} == {
        "imported": "function",
        "other": "other-router",
    }


def test_duplicate_lines_in_one_file_are_skipped(store: Store, tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "dup.jsonl", [MINIMAL_LINE, MINIMAL_LINE])

    assert import_jsonl(store, path) == ImportSummary(1, 1, 1)


def test_a_file_longer_than_a_batch_imports_whole_and_reimports_as_skipped(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonl, "_BATCH_LINES", 2)
    lines: list[dict[str, Any] | str] = [
        {**MINIMAL_LINE, "case_id": f"case-{index}", "run_id": "late" if index == 4 else "early"}
        for index in range(5)
    ]
    path = _write_lines(tmp_path / "long.jsonl", [*lines, lines[0]])

    assert import_jsonl(store, path) == ImportSummary(2, 5, 1)
    assert import_jsonl(store, path) == ImportSummary(0, 0, 6)
    assert len(store.attempts("early")) == 4
    assert [a.case_id for a in store.attempts("late")] == ["case-4"]


def test_a_bad_line_after_written_batches_writes_nothing(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonl, "_BATCH_LINES", 2)
    good = [{**MINIMAL_LINE, "case_id": f"case-{index}"} for index in range(5)]
    bad = {**MINIMAL_LINE, "latency_s": -1}
    path = _write_lines(tmp_path / "late-bad.jsonl", [*good, bad])

    with pytest.raises(InputError) as raised:
        import_jsonl(store, path)

    assert (raised.value.line, raised.value.field) == (6, "latency_s")
    assert store.list_runs() == []


def test_settings_equal_to_checked_ones_are_trusted_and_others_are_checked(
    store: Store, tmp_path: Path
) -> None:
    lines = [
        _with_raw_value("settings", '{"x": [1e308, "a"]}'),
        _with_raw_value("settings", '{"x": [1e308, "a"]}').replace('"case-1"', '"case-2"'),
        _with_raw_value("settings", '{"x": [1e999, "a"]}'),  # the float overflows to infinity
    ]
    other_run = {**MINIMAL_LINE, "run_id": "between"}
    path = _write_lines(tmp_path / "settings.jsonl", [*lines[:2], other_run, *lines])

    with pytest.raises(InputError) as raised:
        import_jsonl(store, path)

    assert (raised.value.line, raised.value.field) == (6, "settings")
    assert import_jsonl(store, _write_lines(tmp_path / "ok.jsonl", lines[:2])) == ImportSummary(
        1, 2, 0
    )


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(store: Store, tmp_path: Path) -> None:
    text = "C:\\u0000\\dir"  # a backslash, then "u0000", as a Windows path might hold
    path = _write_lines(tmp_path / "path.jsonl", [{**MINIMAL_LINE, "input": text}])

    import_jsonl(store, path)

    assert "\\u0000" in path.read_text()
    assert [attempt.input for attempt in store.attempts("imported")] == [text]


RUN_2 = {**MINIMAL_LINE, "run_id": "run-2"}


def _with_raw_value(key: str, raw_json: str) -> str:
    """MINIMAL_LINE with `key` set to JSON text that json.dumps would not write."""
    others = json.dumps({k: v for k, v in MINIMAL_LINE.items() if k != key})
    return others[:-1] + f', "{key}": {raw_json}}}'


BAD_LINES: list[tuple[str, str | dict[str, Any], str | None]] = [
    ("not json", "{not json", None),
    ("not an object", "[1, 2]", None),
    ("missing field", {k: v for k, v in MINIMAL_LINE.items() if k != "verdict"}, "verdict"),
    ("wrong type", {**MINIMAL_LINE, "repeat_index": "0"}, "repeat_index"),
    ("bool as int", {**MINIMAL_LINE, "asked_clarification": 0}, "asked_clarification"),
    ("bad timestamp", {**MINIMAL_LINE, "started_at": "yesterday"}, "started_at"),
    ("naive timestamp", {**MINIMAL_LINE, "started_at": "2024-05-01T12:00:00"}, "started_at"),
    ("unknown verdict", {**MINIMAL_LINE, "verdict": "maybe"}, "verdict"),
    ("unknown status", {**MINIMAL_LINE, "run_status": "paused"}, "run_status"),
    ("negative count", {**MINIMAL_LINE, "input_tokens": -1}, "input_tokens"),
    ("huge int", {**MINIMAL_LINE, "repeat_index": 2**40}, "repeat_index"),
    ("label not text", {**MINIMAL_LINE, "labels": {"team": 1}}, "labels.team"),
    ("raw NUL in text", _with_raw_value("input", '"a\x00b"'), None),  # not JSON
    ("NaN in a list", _with_raw_value("settings", '{"x": [1, -Infinity]}'), "settings"),
    ("overflowing float", _with_raw_value("settings", '{"x": 1e999}'), "settings"),
    ("NaN in settings", _with_raw_value("settings", '{"x": NaN}'), "settings"),
    ("infinite latency", _with_raw_value("latency_s", "Infinity"), "latency_s"),
    ("UTC overflow", {**MINIMAL_LINE, "started_at": "9999-12-31T23:00:00-05:00"}, "started_at"),
    ("finish overflow", {**MINIMAL_LINE, "finished_at": "0001-01-01T00:30+01:00"}, "finished_at"),
    # a run's first line: its times are checked before the run is read from it
    ("run start overflow", {**RUN_2, "run_started_at": "0001-01-01T00:00+00:01"}, "run_started_at"),
    ("run end overflow", {**RUN_2, "run_finished_at": "9999-12-31T23:59-00:01"}, "run_finished_at"),
    ("latency overflow", {**MINIMAL_LINE, "latency_s": 1e15}, "latency_s"),
]


@pytest.mark.parametrize(
    ("bad_line", "field"),
    [pytest.param(line, field, id=name) for name, line, field in BAD_LINES],
)
def test_a_bad_line_names_line_and_field_and_writes_nothing(
    store: Store, tmp_path: Path, bad_line: str | dict[str, Any], field: str | None
) -> None:
    good_other_run = {**MINIMAL_LINE, "run_id": "good"}
    path = _write_lines(tmp_path / "bad.jsonl", [good_other_run, MINIMAL_LINE, bad_line])

    with pytest.raises(InputError) as raised:
        import_jsonl(store, path)

    assert (raised.value.source, raised.value.line, raised.value.field) == (str(path), 3, field)
    assert str(raised.value).startswith(f"{path}:3: ")
    assert "\n" not in str(raised.value)
    assert store.list_runs() == []


def test_non_utf8_file_names_the_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(json.dumps(MINIMAL_LINE).encode() + b'\n{"input": "caf\xe9"}\n')

    with pytest.raises(InputError, match="UTF-8") as raised:
        import_jsonl(store, path)

    assert raised.value.line == 2


def test_missing_file_is_an_input_error(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        import_jsonl(store, tmp_path / "nope.jsonl")


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=8), children, max_size=3)
        ),
        max_leaves=8,
    )


@st.composite
def _near_valid_lines(draw: st.DrawFn) -> str:
    line = dict(MINIMAL_LINE)
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        key = draw(st.sampled_from([*MINIMAL_LINE, "finished_at", "settings", "http_status"]))
        if draw(st.booleans()):
            line.pop(key, None)
        else:
            line[key] = draw(_json_values())
    return json.dumps(line)


_files = st.lists(st.text() | _near_valid_lines(), max_size=4).map("\n".join)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(content=_files.map(lambda text: text.encode("utf-8", "surrogatepass")) | st.binary())
def test_any_text_imports_or_raises_input_error(
    store: Store, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(content)

    outcome: ImportSummary | InputError
    try:
        outcome = import_jsonl(store, path)
    except InputError as error:
        outcome = error

    assert isinstance(outcome, ImportSummary) or "\n" not in str(outcome)


# The worker-process pipeline (jsonl_pipeline) ----------------------------------------------


def _varied_lines(count: int) -> list[dict[str, Any] | str]:
    """Lines of three runs exercising every conversion the worker does, with duplicates."""
    zones = ["+02:00", "-05:30", "Z", "+00:00"]
    lines: list[dict[str, Any] | str] = []
    for index in range(count):
        line: dict[str, Any] = {
            **MINIMAL_LINE,
            "run_id": f"run-{index % 3}",
            "labels": {"shard": str(index % 3), "note": "ünï\u2028code"},
            "settings": {"repeat": index % 3, "nested": {"x": [1, 2.5, None]}},
            "case_id": f"case-{index}",
            # some inputs longer than the worker's input-hash cache takes
            "input": f"déplace TES-{index} ✓\r\n\t" * (1 if index % 11 else 40),
            "started_at": f"2024-05-0{1 + index % 9}T12:00:{index % 60:02d}.{index:06d}"
            + zones[index % 4],
            "latency_s": index % 5,  # an int is a valid float
            "cost_usd": 0.1 + 0.2 * index,
            "asked_clarification": index % 2 == 0,
            "confidence": None if index % 3 else index / 7,
        }
        if index % 5 == 0:
            line["finished_at"] = "2024-06-01T00:00:00.5-01:00"
        if index % 7 == 0:
            line["retries"] = 2
            line["retry_log"] = [
                {"error_type": "RateLimitError", "http_status": 429, "wait_s": 1.5},
                {"error_type": "Timeout", "http_status": None, "wait_s": 0},
            ]
        lines.append(line)
    # in the first and last years, but within range once in UTC
    edge_run = {"run_id": "edges", "run_started_at": "0001-01-01T12:00:00+01:00"}
    lines[1] = {**MINIMAL_LINE, **edge_run, "started_at": "0001-01-01T00:00:00Z"}
    lines[2] = {**MINIMAL_LINE, **edge_run, "case_id": "late",
                "started_at": "9999-12-31T23:59:59.999999+00:00", "latency_s": 0.0}  # fmt: skip
    lines[3] = {**MINIMAL_LINE, **edge_run, "case_id": "near-edges",
                "started_at": "9999-12-31T10:00:00.25-05:00", "latency_s": 3600.5}  # fmt: skip
    return [*lines, lines[10], lines[11]]


def _stored_rows(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of runs and attempts exactly as the database holds it."""
    with store.engine.connect() as connection:
        return {
            table: list(connection.exec_driver_sql(f"SELECT * FROM {table} ORDER BY 1, 2"))
            for table in ("runs", "attempts")
        }


def _child_pids() -> set[int]:
    """This process's live children (Linux)."""
    tasks = Path(f"/proc/{os.getpid()}/task")
    return {int(pid) for task in tasks.iterdir() for pid in (task / "children").read_text().split()}


@pytest.fixture
def sqlite_store_factory(tmp_path: Path) -> Iterator[StoreFactory]:
    """Fresh SQLite stores: the worker pipeline is SQLite-only."""
    with ExitStack() as cleanup:
        yield lambda: cleanup.enter_context(
            open_store(f"sqlite:///{tmp_path / uuid.uuid4().hex / 'routelens.sqlite'}")
        )


def test_the_worker_pipeline_stores_what_the_in_process_import_stores(
    sqlite_store_factory: StoreFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonl, "_BATCH_LINES", 7)
    path = _write_lines(tmp_path / "varied.jsonl", _varied_lines(120))
    in_process, pipelined = sqlite_store_factory(), sqlite_store_factory()
    children_before = _child_pids()

    expected = in_process.merge_batches(jsonl._merge_batches(path))
    summary = jsonl_pipeline.merge_in_worker(pipelined, path, jsonl._bound_batches)

    assert (
        summary == expected == ImportSummary(runs_created=4, attempts_added=120, attempts_skipped=2)
    )
    assert _stored_rows(pipelined) == _stored_rows(in_process)
    assert jsonl_pipeline.merge_in_worker(pipelined, path, jsonl._bound_batches) == ImportSummary(
        0, 0, 122
    )
    assert _child_pids() == children_before


def test_the_line_binder_binds_as_the_in_process_rows_and_column_types_do(
    sqlite_store_factory: StoreFactory, tmp_path: Path
) -> None:
    store = sqlite_store_factory()
    path = _write_lines(tmp_path / "varied.jsonl", _varied_lines(60))
    dialect = store.engine.dialect
    columns = [schema.attempts.c[name] for name in SQLITE_ATTEMPT_COLUMNS]
    processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    binder = jsonl_pipeline.SqliteLineBinder(dialect)
    bound_count = 0

    for line_number, line in jsonl._validated_lines(path):
        row = jsonl._attempt_row(path, line_number, line)
        expected = tuple(
            value if process is None else process(value)
            for process, value in zip(processors, (row[c.name] for c in columns), strict=True)
        )
        bound = binder(line, *jsonl._attempt_times(path, line_number, line))
        assert bound == expected
        # equal is not enough: 1 == 1.0 == True, but SQLite stores them differently
        assert [type(value) for value in bound] == [type(value) for value in expected]
        bound_count += 1
    assert bound_count == 62


def test_big_sqlite_files_use_the_worker_and_small_or_postgresql_ones_do_not(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write_lines(tmp_path / "some.jsonl", _varied_lines(40))
    on_sqlite = store.engine.dialect.name == "sqlite"

    assert not jsonl_pipeline.worker_would_help(store, path)
    monkeypatch.setattr(jsonl_pipeline, "PIPELINE_MIN_BYTES", path.stat().st_size)
    assert jsonl_pipeline.worker_would_help(store, path) == on_sqlite
    assert not jsonl_pipeline.worker_would_help(store, tmp_path / "missing.jsonl")

    calls: list[Path] = []
    real_merge_in_worker = jsonl.merge_in_worker

    def counting_merge_in_worker(*args: Any) -> ImportSummary:
        calls.append(args[1])
        return real_merge_in_worker(*args)

    monkeypatch.setattr(jsonl, "merge_in_worker", counting_merge_in_worker)
    assert import_jsonl(store, path) == ImportSummary(4, 40, 2)
    assert calls == ([path] if on_sqlite else [])


def test_a_bad_line_deep_in_a_big_file_exits_2_writes_nothing_and_stops_the_worker(
    store_url_factory: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonl, "_BATCH_LINES", 50)
    monkeypatch.setattr(jsonl_pipeline, "PIPELINE_MIN_BYTES", 0)
    lines = _varied_lines(2000)
    lines[1899] = {**MINIMAL_LINE, "input_tokens": -3}
    path = _write_lines(tmp_path / "big.jsonl", lines)
    url = store_url_factory()
    children_before = _child_pids()

    result = CliRunner().invoke(app, ["import", str(path), "--store", url])

    assert result.exit_code == 2, result.output
    message = "input_tokens: Input should be greater than or equal to 0"
    assert result.stderr == f"routelens: error: {path}:1900: {message}\n"
    assert _child_pids() == children_before
    with open_store(url) as reopened:
        assert reopened.list_runs() == []
        assert _stored_rows(reopened)["attempts"] == []


_ENDLESS_FOR_S = 60.0


def _endless_batches(path: Path, binder: jsonl_pipeline.SqliteLineBinder) -> Iterator[MergeBatch]:
    """A batch source that goes on (for a minute at most, so that a lost interrupt fails the
    test instead of hanging it), to interrupt the main process while it imports."""
    [batch] = jsonl._bound_batches(path, binder)
    yield batch
    deadline = time.monotonic() + _ENDLESS_FOR_S
    while time.monotonic() < deadline:
        yield MergeBatch((), (), batch.bound_attempts)


def _batches_then_death(
    path: Path, binder: jsonl_pipeline.SqliteLineBinder
) -> Iterator[MergeBatch]:
    """A batch source whose process dies after one batch, as if killed."""
    yield from jsonl._bound_batches(path, binder)
    os._exit(3)


def test_ctrl_c_rolls_back_and_stops_the_worker(
    sqlite_store_factory: StoreFactory, tmp_path: Path
) -> None:
    store = sqlite_store_factory()
    path = _write_lines(tmp_path / "some.jsonl", _varied_lines(30))
    children_before = _child_pids()
    previous = signal.signal(signal.SIGALRM, signal.default_int_handler)  # raises Ctrl-C's error
    # Ctrl-C after half a second, and again every two seconds, as a person would press it
    # again: an interrupt that lands in a finaliser is printed and ignored by Python
    signal.setitimer(signal.ITIMER_REAL, 0.5, 2.0)
    try:
        with pytest.raises(KeyboardInterrupt):
            jsonl_pipeline.merge_in_worker(store, path, _endless_batches)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    assert _child_pids() == children_before
    assert _stored_rows(store) == {"runs": [], "attempts": []}


def test_a_worker_that_dies_is_an_error_and_writes_nothing(
    sqlite_store_factory: StoreFactory, tmp_path: Path
) -> None:
    store = sqlite_store_factory()
    path = _write_lines(tmp_path / "some.jsonl", _varied_lines(30))

    with pytest.raises(RuntimeError, match="stopped before the end of the file"):
        jsonl_pipeline.merge_in_worker(store, path, _batches_then_death)

    assert _stored_rows(store) == {"runs": [], "attempts": []}


def test_bound_rows_merge_into_sqlite_only(store: Store, tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "one.jsonl", [MINIMAL_LINE])
    [batch] = jsonl._bound_batches(path, jsonl_pipeline.SqliteLineBinder(store.engine.dialect))
    bound = batch.bound_attempts
    if store.engine.dialect.name == "sqlite":
        assert store.merge_batches([MergeBatch(batch.runs, (), bound)]) == ImportSummary(1, 1, 0)
    else:
        with pytest.raises(ValueError, match="only be merged into SQLite"):
            store.merge_batches([MergeBatch(batch.runs, (), bound)])
        assert store.list_runs() == []
