"""`routelens run` and `show` as a person reads them: failed cases, errors first, subsets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routelens.cli import app
from routelens.store import open_store

runner = CliRunner()

LONG_ID = "TC-a-very-long-case-identifier-that-must-never-be-elided-0001"


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite'}"


def _run(*args: str, columns: int | None = None) -> tuple[int, str, str]:
    env = {} if columns is None else {"COLUMNS": str(columns)}
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def _suite(skills_dir: Path, cases_file: Path, store_url: str, *extra: str) -> list[str]:
    return [
        "run",
        "--skills",
        str(skills_dir),
        "--cases",
        str(cases_file),
        "--store",
        store_url,
        *extra,
    ]


def _with_long_failing_case(cases_file: Path) -> None:
    cases_file.write_text(
        cases_file.read_text()
        + f"  - id: {LONG_ID}\n    category: direct\n"
        + "    input: "
        + "please create a bug about the login page crashing " * 4
        + "\n"
        + "    expected_skill: jira-lifecycle\n"
    )


@pytest.mark.parametrize("columns", [None, 100, 240])
def test_summary_lists_every_failed_case_with_full_ids_at_any_width(
    skills_dir: Path, cases_file: Path, store_url: str, columns: int | None
) -> None:
    _with_long_failing_case(cases_file)
    _, out, _ = _run(*_suite(skills_dir, cases_file, store_url, "--json"))
    report = json.loads(out)
    failed_ids = {f["case_id"] for f in report["failures"]}
    assert LONG_ID in failed_ids
    assert failed_ids == {f["case_id"] for f in report["failures"] if f["failed"] + f["errors"] > 0}
    code, out, _ = _run("show", report["run_id"], "--store", store_url, columns=columns)
    assert code == 0
    assert "Failed and errored cases" in out
    for case_id in failed_ids:
        assert case_id in out  # never elided, whatever the width
    for line in out.splitlines():
        assert len(line) <= (columns or 160)
    quiet = _run("show", report["run_id"], "--store", store_url, "--quiet")[1]
    assert "Failed and errored cases" not in quiet
    assert LONG_ID not in quiet


def test_failures_are_ordered_most_important_first(
    skills_dir: Path, cases_file: Path, store_url: str
) -> None:
    _with_long_failing_case(cases_file)
    _, out, _ = _run(
        *_suite(
            skills_dir,
            cases_file,
            store_url,
            "--router",
            "tests.support_routers:wavering_router",
            "--repeat",
            "3",
            "--json",
        )
    )
    failures = json.loads(out)["failures"]
    shares = [f["failed"] / (f["attempts"] - f["errors"]) for f in failures]
    assert shares == sorted(shares, reverse=True)
    assert {"case_id", "category", "input", "expected", "routes", "question"} <= set(failures[0])


def test_errors_above_the_limit_are_said_first_and_fail_the_default_gate(
    skills_dir: Path, cases_file: Path, store_url: str
) -> None:
    args = _suite(
        skills_dir, cases_file, store_url, "--router", "tests.support_routers:mostly_failing_router"
    )
    code, out, _ = _run(*args)
    assert code == 1  # no --min-accuracy given: the error rate alone fails the gate
    text = " ".join(out.split())
    errors = text.index("Errors: 3 of 4 attempts errored (75.0%, above the 10.0% limit)")
    assert errors < text.index("Accuracy 100.0%")  # the headline never leads with accuracy
    assert text[:errors].startswith("Run ")  # only the run's own line comes before
    assert "Gate failed: error rate 75.0% is above 10.0%" in out
    code, out, _ = _run(*args, "--max-error-rate", "0.8")
    assert code == 0
    assert "Errors:" not in out


def test_case_category_and_tag_select_a_subset(
    skills_dir: Path, cases_file: Path, store_url: str
) -> None:
    cases_file.write_text(
        cases_file.read_text().replace(
            "    expected_skill: search\n", "    expected_skill: search\n    tags: [smoke]\n"
        )
    )
    code, out, err = _run(
        *_suite(
            skills_dir,
            cases_file,
            store_url,
            "--case",
            "C1",
            "--category",
            "edge",
            "--tag",
            "smoke",
            "--json",
        )
    )
    assert code == 0, err
    report = json.loads(out)
    with open_store(store_url) as store:
        cases = {case.case_id for case in store.run_cases(report["run_id"])}
        attempts = {a.case_id for a in store.attempts(report["run_id"])}
        run = store.get_run(report["run_id"])
    assert cases == attempts == {"C1", "C2", "C4"}
    assert run is not None
    assert run.settings["selection"] == {"case": ["C1"], "category": ["edge"], "tag": ["smoke"]}
    code, out, _ = _run(*_suite(skills_dir, cases_file, store_url, "--json"))
    assert json.loads(out)["suite_hash"] != report["suite_hash"]  # a subset is another suite


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--case", "C11"], "case: no case 'C11' in the suite (did you mean C1"),
        (["--category", "diret"], "no category 'diret' in the suite (did you mean direct?)"),
        (["--tag", "nightly"], "tag: no tag 'nightly' in the suite"),
    ],
)
def test_a_selection_that_names_nothing_is_bad_input(
    skills_dir: Path, cases_file: Path, tmp_path: Path, flags: list[str], message: str
) -> None:
    store = tmp_path / "never.sqlite"
    code, _, err = _run(*_suite(skills_dir, cases_file, str(store), *flags))
    assert code == 2
    assert message in err
    assert not store.exists()  # bad input never creates a store


def test_output_files_get_their_folders_and_a_folder_is_bad_input(
    skills_dir: Path, cases_file: Path, store_url: str, tmp_path: Path
) -> None:
    junit = tmp_path / "missing" / "dir" / "x.xml"
    code, out, err = _run(
        *_suite(skills_dir, cases_file, store_url, "--junit", str(junit), "--json")
    )
    assert code == 0, err
    assert junit.read_text().startswith("<?xml")
    run_id = json.loads(out)["run_id"]
    for argv in (
        ["export", run_id, "--out", str(tmp_path)],
        ["show", run_id, "--junit", str(tmp_path)],
        [*_suite(skills_dir, cases_file, store_url, "--junit", str(tmp_path))],
    ):
        code, _, err = _run(*argv, "--store", store_url) if argv[0] != "run" else _run(*argv)
        assert code == 2, argv
        assert "is a folder;" in err
        assert "Traceback" not in err
    with open_store(store_url) as store:
        assert len(store.list_runs()) == 1  # the refused run never started
    nested = tmp_path / "a" / "b" / "run.jsonl"
    assert _run("export", run_id, "--out", str(nested), "--store", store_url)[0] == 0
    lines = [json.loads(line) for line in nested.read_text().splitlines()]
    assert [line for line in lines if line.get("kind", "attempt") == "attempt"]


def test_import_creates_a_store_only_when_every_file_imports(
    skills_dir: Path, cases_file: Path, store_url: str, tmp_path: Path
) -> None:
    _, out, _ = _run(*_suite(skills_dir, cases_file, store_url, "--json"))
    bundle = tmp_path / "run.jsonl"
    assert (
        _run("export", json.loads(out)["run_id"], "--out", str(bundle), "--store", store_url)[0]
        == 0
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"bad": 1}\n')
    target = tmp_path / "new" / "deeper" / "store.sqlite"
    code, _, err = _run("import", str(bundle), str(bad), "--store", str(target))
    assert code == 2
    assert "bad.jsonl:1" in err
    assert not (tmp_path / "new").exists()  # no store, no folders, no staging file
    code, out, err = _run("import", str(bundle), "--store", str(target))
    assert code == 0, err
    assert sorted(p.name for p in target.parent.iterdir()) == ["store.sqlite"]
    with open_store(target, access="read") as store:
        assert len(store.list_runs()) == 1


@pytest.mark.parametrize("columns", [None, 100, 240])
def test_a_piped_report_keeps_every_failed_input_whole(
    skills_dir: Path, cases_file: Path, store_url: str, columns: int | None
) -> None:
    _with_long_failing_case(cases_file)
    _, out, _ = _run(*_suite(skills_dir, cases_file, store_url, "--json"))
    run_id = json.loads(out)["run_id"]
    _, shown, _ = _run("show", run_id, "--store", store_url, columns=columns)
    assert "…" not in shown  # not a terminal: nothing is cut
    assert shown.count("crashing") == 4  # the long input, wrapped but whole
