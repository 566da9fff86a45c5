"""How stores open: only recording commands create one; reading never creates or writes."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from routelens.cli import app
from routelens.errors import InputError
from routelens.store import Store, open_store
from routelens.store import schema as tables
from routelens.store.migrations import LATEST_VERSION

runner = CliRunner()


def _drop_to_version(store: Store, version: int) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            tables.schema_version.delete().where(tables.schema_version.c.version > version)
        )


def test_reading_a_missing_sqlite_store_is_bad_input_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "missing.sqlite"
    for access in ("read", "write"):
        with pytest.raises(InputError, match="no store here"):
            open_store(path, access=access)  # type: ignore[arg-type]
    assert not path.exists()
    assert not path.parent.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["runs"],
        ["show", "latest"],
        ["flaky"],
        ["confusion"],
        ["trend"],
        ["cost"],
        ["export", "latest", "--out", "x.jsonl"],
        ["changes", "list"],
        ["experiment", "list"],
        ["runs", "delete", "latest"],
        ["migrate"],
    ],
)
def test_commands_that_only_read_never_create_a_store(tmp_path: Path, argv: list[str]) -> None:
    path = tmp_path / "none.sqlite"
    result = runner.invoke(app, [*argv, "--store", str(path)])
    assert result.exit_code == 2, result.output
    assert "no store here" in result.stderr
    assert not path.exists()


def test_read_only_access_cannot_write(store_url_factory: Callable[[], str]) -> None:
    url = store_url_factory()
    open_store(url).close()
    with open_store(url, access="read") as store:
        assert store.read_only
        assert store.list_runs() == []
        with pytest.raises(InputError, match="read-only"):
            store.execute_write(lambda connection: None)
        with pytest.raises(Exception, match=r"(?i)read.?only"), store.engine.begin() as connection:
            connection.execute(tables.runs.delete())  # even around the Store's own guard


def test_an_old_schema_asks_for_migrate_and_migrate_brings_it_forward(
    store_url_factory: Callable[[], str],
) -> None:
    url = store_url_factory()
    with open_store(url) as store:
        _drop_to_version(store, LATEST_VERSION - 1)
    with pytest.raises(InputError, match="run `routelens migrate --store"):
        open_store(url, access="read")
    result = runner.invoke(app, ["runs", "--store", url])
    assert result.exit_code == 2
    assert "routelens migrate" in result.stderr
    result = runner.invoke(app, ["migrate", "--store", url])
    assert result.exit_code == 0, result.output
    assert f"schema version {LATEST_VERSION}" in result.stdout
    with open_store(url, access="read") as store:
        assert store.list_runs() == []


def test_a_store_missing_a_table_is_named_as_damaged(
    store_url_factory: Callable[[], str],
) -> None:
    url = store_url_factory()
    with open_store(url) as store, store.engine.begin() as connection:
        connection.execute(text("DROP TABLE attempts"))
    for argv in (["runs"], ["show", "latest"], ["flaky"]):
        result = runner.invoke(app, [*argv, "--store", url])
        assert result.exit_code == 2
        assert "not a routelens store, or damaged: table 'attempts' is missing" in result.stderr
        assert "Traceback" not in result.output
    with pytest.raises(InputError, match="damaged"):
        open_store(url)  # writing commands refuse it too, rather than half-work


def test_a_database_that_is_not_a_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    import sqlite3

    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
    for access in ("read", "write"):
        with pytest.raises(InputError, match="no routelens store here"):
            open_store(path, access=access)  # type: ignore[arg-type]


def _make_unwritable(path: Path) -> Callable[[], None]:
    """Make `path` unwritable for this user; returns the undo. Root ignores permissions, so
    for root the file system's immutable flag is used (ext4 and most others have it)."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        os.chmod(path, 0o555 if path.is_dir() else 0o444)
        return lambda: os.chmod(path, mode)
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("running as root without chattr: cannot make a file unwritable")
    done = subprocess.run([chattr, "+i", str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"this file system has no immutable flag: {done.stderr.strip()}")
    return lambda: subprocess.run([chattr, "-i", str(path)], check=True)


@pytest.fixture
def readable_only_store() -> Iterator[Path]:
    """A store file (and its folder) this user may read but not write."""
    folder = Path(tempfile.mkdtemp(prefix="routelens-ro-"))
    undo: list[Callable[[], None]] = []
    try:
        path = folder / "store.sqlite"
        with open_store(path) as store:
            from tests.store.conftest import build_run

            store.create_run(build_run("r-1"), [], [])
        for leftover in folder.glob("store.sqlite-*"):
            leftover.unlink()
        undo.append(_make_unwritable(path))
        undo.append(_make_unwritable(folder))
        yield path
    finally:
        for step in reversed(undo):
            step()
        shutil.rmtree(folder)


def test_a_store_the_user_may_only_read_can_be_read(readable_only_store: Path) -> None:
    with pytest.raises(PermissionError):
        (readable_only_store.parent / "probe").write_text("x")  # really unwritable
    result = runner.invoke(app, ["runs", "--json", "--store", str(readable_only_store)])
    assert result.exit_code == 0, result.output
    assert '"run_id": "r-1"' in result.stdout
    result = runner.invoke(app, ["show", "r-1", "--store", str(readable_only_store)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in readable_only_store.parent.iterdir()) == ["store.sqlite"]


def test_recording_commands_given_bad_input_create_no_store(
    tmp_path: Path, skills_dir: Path, cases_file: Path
) -> None:
    bad_cases = tmp_path / "bad.yaml"
    bad_cases.write_text("tests:\n  - id: C1\n    category: nonsense\n    input: x\n")
    bad_bundle = tmp_path / "bad.jsonl"
    bad_bundle.write_text('{"bad": 1}\n')
    commands = [
        ["run", "--skills", str(skills_dir), "--cases", str(bad_cases)],
        ["import", str(bad_bundle)],
        ["experiment", "create", "e1", "--control", str(tmp_path / "missing"),
         "--treatment", str(skills_dir), "--cases", str(cases_file)],
        ["changes", "scan", str(tmp_path)],
    ]  # fmt: skip
    for index, argv in enumerate(commands):
        store = tmp_path / f"store-{index}.sqlite"
        result = runner.invoke(app, [*argv, "--store", str(store)])
        assert result.exit_code == 2, (argv, result.output)
        assert not store.exists(), argv
