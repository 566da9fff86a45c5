"""`routelens serve`: refusals are one line and exit 2; a real server demands its token."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routelens.cli import app
from routelens.store import open_store
from routelens.store.migrations import LATEST_VERSION
from routelens.web.defaults import TOKEN_VARIABLE

runner = CliRunner()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "s.sqlite"
    with open_store(path):
        pass
    return path


def _serve(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["serve", *args], env=env)
    return result.exit_code, result.output


def test_a_missing_store_is_refused_and_not_created(tmp_path: Path) -> None:
    code, output = _serve("--store", str(tmp_path / "none.sqlite"), "--port", "0")
    assert code == 2
    assert output.startswith("routelens: error: ")
    assert "no store here" in output
    assert not (tmp_path / "none.sqlite").exists()


def test_a_newer_store_is_refused(store_path: Path) -> None:
    import sqlite3

    with sqlite3.connect(store_path) as connection:
        connection.execute(
            "INSERT INTO schema_version VALUES (?, 'from the future', '2030-01-01')",
            (LATEST_VERSION + 1,),
        )
    code, output = _serve("--store", str(store_path), "--port", "0")
    assert code == 2
    assert "Traceback" not in output


def test_other_hosts_need_a_token(store_path: Path) -> None:
    code, output = _serve("--store", str(store_path), "--host", "0.0.0.0", "--port", "0",
                          env={TOKEN_VARIABLE: ""})  # fmt: skip
    assert code == 2
    assert "--auth-token" in output
    assert TOKEN_VARIABLE in output


def test_a_port_in_use_is_one_line(store_path: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        code, output = _serve("--store", str(store_path), "--port", str(taken.getsockname()[1]))
    finally:
        taken.close()
    assert code == 2
    assert "cannot listen on 127.0.0.1:" in output


def test_without_the_web_extra_it_says_how_to_get_it(store_path: Path) -> None:
    # a fresh interpreter in which starlette cannot be imported, as without the extra
    program = (
        "import sys; sys.modules['starlette'] = None; sys.argv = sys.argv[1:]; "
        "from routelens.cli import main; main()"
    )
    completed = subprocess.run(
        [sys.executable, "-c", program, "routelens", "serve", "--store", str(store_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert completed.returncode == 2
    assert completed.stderr.startswith("routelens: error: routelens serve: needs the web extra")
    assert "pip install -e '.[web]' (in a clone of routelens)" in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serves_until_interrupted_and_demands_its_token(store_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, TOKEN_VARIABLE: "t0ken", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "routelens.cli", "serve", "--store", str(store_path),
         "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        # a shell's background job ignores SIGINT, and a child inherits that: undo it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith(f"routelens serve: http://127.0.0.1:{port}/ from sqlite:///")
        url = f"http://127.0.0.1:{port}/healthz"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=10)
        assert refused.value.code == 401
        request = urllib.request.Request(url, headers={"Authorization": "Bearer t0ken"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.read() == b"ok\n"
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "routelens serve: stopped" in output


def test_the_command_table_summary_is_the_first_line_of_its_help() -> None:
    from routelens.cli import COMMANDS
    from routelens.commands.serve import serve_command

    (serve,) = [command for command in COMMANDS if command.name == "serve"]
    assert serve.summary == (serve_command.__doc__ or "").splitlines()[0]
