"""What the pytest plugin (`pytest_plugin`) and its working parts (`pytest_support`) share.

The plugin loads with every pytest run, so this module imports nothing of routelens but
the store's record types; `pytest_support` imports it, and the plugin imports both (support
only when a case file is given): imports flow one way.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

if TYPE_CHECKING:
    from routelens.store.records import AttemptRecord, RunRecord, RunStatus


class RoutingSessionHandle(Protocol):
    """What the plugin's hooks use of a routing session (`pytest_support.RoutingSession`)."""

    run: RunRecord | None
    cases_path: Path
    summary_line: str | None

    def start_run(self, *, workers: int, runs_here: bool) -> RunRecord:
        """Record the run; `runs_here` when this process runs tests."""

    def worker_input(self) -> dict[str, Any]:
        """What an xdist worker needs to join the run."""

    def final_status(self, session: pytest.Session, exitstatus: int | pytest.ExitCode) -> RunStatus:
        """How the run ended, for the process that owns it."""

    def finish(self, status: RunStatus | None) -> None:
        """End this process's part (with `status`: close the run)."""

    def close(self) -> None:
        """Release what the session holds."""


# `routelens.suite.models.Category`, spelled here so the plugin need not import the suite
ROUTING_CATEGORIES = ("direct", "disambiguation", "negative", "workflow", "edge", "context")

ATTEMPT_KEY: pytest.StashKey[AttemptRecord] = pytest.StashKey()
"""`item.stash[ATTEMPT_KEY]`: the attempt a routing test recorded (set once it has run)."""
SESSION_KEY: pytest.StashKey[RoutingSessionHandle] = pytest.StashKey()
"""`config.stash[SESSION_KEY]`: this process's routing session."""

# keys of xdist's `workerinput`: how the controller tells each worker which run to join
RUN_ID_INPUT = "routelens_run_id"
STORE_INPUT = "routelens_store"
TRACE_CONTEXT_INPUT = "routelens_trace_context"
OTLP_ENDPOINT_INPUT = "routelens_otlp_endpoint"


def category_marker(category: str) -> str:
    """The marker a case's category becomes: `negative` → `routing_negative`."""
    return f"routing_{category}"
