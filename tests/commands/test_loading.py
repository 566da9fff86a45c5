"""The command table: lazy loading, start-up imports, help, version and the exit-2 contract."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version

import pytest
from typer.testing import CliRunner

from routelens.cli import COMMANDS, app

runner = CliRunner()

# What `routelens --help` and `routelens run --help` must not import: each costs tens to
# hundreds of milliseconds, and start-up is paid by every command (bench/startup.py).
HEAVY_MODULES = (
    "sqlalchemy",
    "pydantic",
    "numpy",
    "scipy",
    "yaml",
    "bm25s",
    "anthropic",
    "openai",
    "opentelemetry",
    "dramatiq",
    "redis",
    "rich.markdown",
    "routelens.store.sqlstore",
    "routelens.config",
)


def _modules_after(*argv: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running `routelens *argv`."""
    script = (
        "import json, sys\n"
        "from routelens.cli import main\n"
        f"sys.argv = ['routelens', *{list(argv)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stderr))


@pytest.mark.parametrize(
    "argv", [("--help",), ("run", "--help"), ("validate", "-h"), ("worker", "--help")]
)
def test_help_imports_no_heavy_module(argv: tuple[str, ...]) -> None:
    loaded = _modules_after(*argv)
    heavy = sorted(m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY_MODULES))
    assert heavy == []


def test_root_help_imports_no_command_module() -> None:
    loaded = _modules_after("--help")
    assert not {spec.module for spec in COMMANDS} & loaded


def test_each_summary_is_the_first_sentence_of_its_help() -> None:
    for spec in COMMANDS:
        assert spec.load().get_short_help_str(limit=300) == spec.summary, spec.name


def test_root_help_lists_every_command_with_its_summary() -> None:
    result = runner.invoke(app, ["-h"])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "--version Print the version and exit." in text
    for spec in COMMANDS:
        assert f" {spec.name} {spec.summary}" in text


def test_version_prints_the_installed_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"routelens {version('routelens')}"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "--repeat", "0"], "routelens: error: routelens run: --repeat: "),
        (["run", "--min-accuracy", "2"], "routelens: error: routelens run: --min-accuracy: "),
        (["run", "--timeout", "-1"], "--timeout: must be greater than 0"),
        (["run", "--timeout", "0"], "--timeout: must be greater than 0"),
        (["run", "--no-such-flag"], "No such option: --no-such-flag"),
        (["vaildate"], "Did you mean 'validate'"),
        (["runs", "--status", "lost"], "--status: 'lost' is not one of"),
    ],
)
def test_bad_flags_are_one_line_exit_2(argv: list[str], expected: str) -> None:
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    assert result.stderr.startswith("routelens: error: ")
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_help_shows_no_python_types_or_doubled_defaults() -> None:
    for spec in COMMANDS:
        command = spec.load()
        names = [spec.name]
        if hasattr(command, "list_commands"):
            names = [f"{spec.name} {sub}" for sub in command.list_commands(None)]  # type: ignore[arg-type]
        for name in names:
            result = runner.invoke(app, [*name.split(), "--help"], env={"COLUMNS": "200"})
            assert result.exit_code == 0, name
            text = result.stdout
            for wrong in ("<bool>", "<list", "[default: see docs]", "[default: None]"):
                assert wrong not in text, (name, wrong)
            for line in text.splitlines():
                assert line.count("[default:") <= 1, (name, line)


def test_run_help_names_every_router() -> None:
    result = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    for router in ("local", "anthropic", "openai", "claude-code", "package.module:factory"):
        assert router in result.stdout
