"""Running `optimize` from the library in the tests, against a SQLite store of their own."""

from __future__ import annotations

import asyncio
from pathlib import Path

from routelens.optimize.optimizer import OptimizeRequest, OptimizeResult, optimize
from routelens.optimize.trials import Budget, TrialRunner, TrialSettings, plan_first
from routelens.store.sqlstore import Store, open_store


def run_optimize(
    settings: TrialSettings, store_path: Path, request: OptimizeRequest, budget: float | None = None
) -> tuple[OptimizeResult, list[str]]:
    """Optimise as the command does (without recording an experiment); the result and the
    ids of every run it made."""
    plan = plan_first(settings, None)
    asyncio.run(plan.router.aclose())
    with open_store(f"sqlite:///{store_path}") as store:
        trials = TrialRunner(store, settings, Budget(limit_usd=budget))
        result = optimize(trials, plan.skills, plan.suite, request)
        return result, list(trials.runs)


def open_test_store(store_path: Path) -> Store:
    """The store a `run_optimize` wrote, opened read-only."""
    return open_store(f"sqlite:///{store_path}", access="read")
