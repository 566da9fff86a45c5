"""Run a routelens case suite as pytest tests: one test per case and repeat.

    pytest --routelens-cases tests/routing/cases.yaml --routelens-skills skills -n 4

Each test routes its case once, records the attempt in the store `routelens run` uses (one
run for the whole session, labelled `source=pytest`, even under pytest-xdist) and fails with
"Expected X, got Y" when the route is wrong. Without a case file the plugin does nothing.

`--routelens-cases` on the command line without test paths runs the routing suite alone:
run from a team's repository, pytest would otherwise also collect every test there (the
team's own live routing harness included). Name paths to collect them too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from routelens.errors import InputError
from routelens.pytest_keys import (
    ATTEMPT_KEY,
    ROUTING_CATEGORIES,
    RUN_ID_INPUT,
    SESSION_KEY,
    RoutingSessionHandle,
    category_marker,
)

if TYPE_CHECKING:
    from routelens.pytest_support import PluginSettings, RoutingSuite

# the plugin loads with every pytest run, so the rest of routelens is imported only when a
# case file is given (by pytest_support)
__all__ = ["ATTEMPT_KEY", "ROUTING_CATEGORIES", "SESSION_KEY", "category_marker"]

_COLLECTED_AS_ARGUMENT = pytest.StashKey[bool]()
_SUITE_ONLY = pytest.StashKey[bool]()
_XDIST_WORKER_ID = re.compile(r"gw(\d+)")


class WorkerNode(Protocol):
    """What this plugin uses of pytest-xdist's `WorkerController` (xdist ships no types)."""

    config: pytest.Config
    workerinput: dict[str, Any]


def pytest_addoption(parser: pytest.Parser) -> None:
    """One `routelens` group; every flag has an ini key of the same name (`routelens_cases`)."""
    group = parser.getgroup("routelens", "routing suites (routelens)")

    def add(name: str, metavar: str, help: str, ini_type: Any = "string", **kwargs: Any) -> None:
        dest = f"routelens_{name.replace('-', '_')}"
        group.addoption(f"--routelens-{name}", dest=dest, metavar=metavar, help=help, **kwargs)
        parser.addini(dest, help=f"{help} (--routelens-{name})", type=ini_type)

    add("cases", "FILE", "Case file to run as tests; nothing runs without it.")
    add("skills", "DIR", "Folder holding the SKILL.md files.")
    add("router", "NAME", "local (default), anthropic, openai, claude-code or module:factory.")
    add("model", "M", "Model the router uses.")
    add("repeat", "N", "Attempts per case: one test each.", type=int)
    add("store", "URL", "Store URL or SQLite path (default: the config's, else .routelens).")
    add("label", "KEY=VALUE", "Label for the run, repeatable.", "args", action="append")
    add("otlp-endpoint", "URL", "Send spans and metrics over OTLP here.")
    add("trigger-skill", "NAME", "Skill a trigger eval set tests.")
    group.addoption(
        "--routelens-include-skipped",
        dest="routelens_include_skipped",
        action="store_true",
        default=None,
        help="Also run cases marked skip: true.",
    )
    parser.addini(
        "routelens_include_skipped",
        help="Also run cases marked skip: true (--routelens-include-skipped)",
        type="bool",
        default=False,
    )


def _flag_or_ini(config: pytest.Config, name: str) -> tuple[Any, Path | None]:
    """The flag's value and the folder it is relative to, else the ini key's."""
    flag = config.getoption(f"routelens_{name}")
    if flag not in (None, []):
        return flag, config.invocation_params.dir
    ini = config.getini(f"routelens_{name}")
    if ini in ("", []):
        return None, None
    return ini, config.inipath.parent if config.inipath else config.rootpath


def _path_setting(config: pytest.Config, name: str) -> Path | None:
    value, base = _flag_or_ini(config, name)
    if value is None or base is None:
        return None
    # absolute, not resolved: a symlink in the path must not move the file out of the
    # rootdir, or the test ids would read `../elsewhere/cases.yaml::...`
    return Path(os.path.abspath(base / Path(value).expanduser()))


def _text_setting(config: pytest.Config, name: str) -> str | None:
    value, _ = _flag_or_ini(config, name)
    return None if value is None else str(value)


def _repeat_setting(config: pytest.Config) -> int | None:
    value, _ = _flag_or_ini(config, "repeat")
    if value is None:
        return None
    try:
        repeat = int(value)
    except ValueError:
        repeat = 0
    if repeat < 1:
        raise InputError("routelens_repeat", f"{value!r} is not a positive integer", field="repeat")
    return repeat


def _label_setting(config: pytest.Config) -> dict[str, str]:
    value, _ = _flag_or_ini(config, "label")
    labels: dict[str, str] = {}
    for pair in value or []:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise InputError("--routelens-label", f"{pair!r} is not key=value", field="label")
        labels[key.strip()] = text.strip()
    return labels


def read_settings(config: pytest.Config) -> PluginSettings:
    """Read every routelens flag and ini key; bad values are an `InputError`."""
    from routelens.pytest_support import PluginSettings

    return PluginSettings(
        cases=_path_setting(config, "cases"),
        skills=_path_setting(config, "skills"),
        router=_text_setting(config, "router"),
        model=_text_setting(config, "model"),
        repeat=_repeat_setting(config),
        store=_text_setting(config, "store"),
        labels=_label_setting(config),
        otlp_endpoint=_text_setting(config, "otlp_endpoint"),
        trigger_skill=_text_setting(config, "trigger_skill"),
        include_skipped=bool(
            config.getoption("routelens_include_skipped")
            or config.getini("routelens_include_skipped")
        ),
    )


def xdist_worker_index(config: pytest.Config) -> int:
    """The xdist worker's index (`gw3` → 3), or 0 when tests run in this one process."""
    workerinput: Mapping[str, Any] = getattr(config, "workerinput", {})
    match = _XDIST_WORKER_ID.fullmatch(str(workerinput.get("workerid", "")))
    return int(match.group(1)) if match else 0


def _cases_given(config: pytest.Config) -> bool:
    return bool(config.getoption("routelens_cases") or config.getini("routelens_cases"))


def _routing_session(config: pytest.Config) -> RoutingSessionHandle | None:
    return config.stash.get(SESSION_KEY, None)


def pytest_configure(config: pytest.Config) -> None:
    """Declare the category markers; with a case file, load and check it (bad input: exit 4)."""
    for category in ROUTING_CATEGORIES:
        config.addinivalue_line(
            "markers", f"{category_marker(category)}: a routelens case of category {category}"
        )
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    from_controller = RUN_ID_INPUT in workerinput
    if not from_controller and not _cases_given(config):
        return
    from routelens.pytest_support import RoutingSession

    try:
        if from_controller:
            session = RoutingSession.join(workerinput, config.rootpath, xdist_worker_index(config))
        else:
            session = RoutingSession.prepare(read_settings(config), config.rootpath)
    except InputError as error:
        raise _usage_error(error) from None
    config.stash[SESSION_KEY] = session
    config.stash[_SUITE_ONLY] = _suite_only(config)


def _suite_only(config: pytest.Config) -> bool:
    """`--routelens-cases` given on the command line and no test paths: run just the suite
    (an ini `routelens_cases` keeps plain `pytest` collecting everything, as before)."""
    given_as_flag = bool(config.getoption("routelens_cases"))
    return given_as_flag and config.args_source is not pytest.Config.ArgsSource.ARGS


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Collect nothing from the file system when the routing suite runs alone."""
    if config.stash.get(_SUITE_ONLY, False):
        return True
    return None


def _usage_error(error: InputError) -> pytest.UsageError:
    """Bad input as pytest's usage error: every problem listed first when there are several."""
    lines = [*(f"routelens: {line}" for line in error.detail_lines()), error.one_line()]
    lines[-1] = f"routelens: {lines[-1]}"
    return pytest.UsageError("\n".join(lines))


def _distributed(config: pytest.Config) -> bool:
    return config.pluginmanager.has_plugin("dsession")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Create the run once, in the process that owns the session (never in xdist workers)."""
    config = session.config
    routing = _routing_session(config)
    if routing is None or routing.run is not None or config.option.collectonly:
        return
    distributed = _distributed(config)
    # xdist turns -n (auto included) and --maxprocesses into one --tx per worker
    workers = (len(config.getoption("tx", None) or ()) or 1) if distributed else 1
    try:
        routing.start_run(workers=workers, runs_here=not distributed)
    except InputError as error:
        raise _usage_error(error) from None


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: WorkerNode) -> None:
    """Tell each xdist worker which run to join, where it is stored, and the suite span."""
    routing = _routing_session(node.config)
    if routing is not None and routing.run is not None:
        node.workerinput.update(routing.worker_input())


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> RoutingSuite | None:
    """Collect the case file when it is named on the command line (`cases.yaml::TC1[r0]`)."""
    routing = _routing_session(parent.config)
    if routing is None or file_path != routing.cases_path:
        return None
    if not parent.session.isinitpath(file_path):
        return None
    from routelens.pytest_support import RoutingSuite

    parent.config.stash[_COLLECTED_AS_ARGUMENT] = True
    return RoutingSuite.from_parent(parent, path=file_path)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Add the suite's tests unless the case file was collected as an argument; first, so
    that `-m routing_negative`, `-k` and `--deselect` apply to them."""
    routing = _routing_session(config)
    if routing is None or config.stash.get(_COLLECTED_AS_ARGUMENT, False):
        return
    from routelens.pytest_support import RoutingSuite

    suite = RoutingSuite.from_parent(
        session, path=routing.cases_path, nodeid=suite_nodeid(config, routing.cases_path)
    )
    items.extend(session.genitems(suite))


def suite_nodeid(config: pytest.Config, path: Path) -> str:
    """The case file's node id: relative to the rootdir (through symlinks too), else its
    name, so ids read `routing_golden.yaml::TC031[r0]`, never `../jira/...`."""
    root = config.rootpath
    for candidate, base in ((path, root), (Path(os.path.realpath(path)), root.resolve())):
        try:
            return candidate.relative_to(base).as_posix()
        except ValueError:
            continue
    return path.name


def pytest_sessionfinish(session: pytest.Session, exitstatus: int | pytest.ExitCode) -> None:
    """Close the run (only where it was created), end its spans, release the store."""
    routing = _routing_session(session.config)
    if routing is None:
        return
    owner = not hasattr(session.config, "workerinput")
    routing.finish(routing.final_status(session, exitstatus) if owner else None)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """One line: the run id, its accuracy and its attempts."""
    routing = _routing_session(config)
    if routing is not None and routing.summary_line:
        terminalreporter.write_line(routing.summary_line)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave nothing open when the session ended early (a run left `running` can be resumed)."""
    routing = _routing_session(config)
    if routing is not None:
        routing.close()
        del config.stash[SESSION_KEY]
