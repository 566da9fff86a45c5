"""Run a set of descriptions on some of the cases as a real, recorded run.

Each trial is planned, recorded and executed as `routelens run --description SKILL=TEXT
--case ID ...` would be (runner/launch.py, runner/session.py): the overrides are in the
run's settings and its skills hash, the cases it ran are its selection, and its labels say
what it was for. The same descriptions on the same cases are run once per command.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from routelens.config import RoutelensConfig
from routelens.optimize.outcomes import CaseOutcome, case_outcomes
from routelens.runner.launch import NewRunPlan, RunFlags, plan_new_run, record_new_run
from routelens.runner.session import execute_run
from routelens.store.records import RunStatus
from routelens.store.sqlstore import Store
from routelens.suite.selection import CaseSelection
from routelens.suite.trigger_sets import is_trigger_eval


class BudgetExhausted(Exception):
    """The `--max-cost` budget is spent: no further run or proposal may start."""


class TrialInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped a trial's run; the run is left `interrupted`."""

    def __init__(self, run_id: str, signal_number: int) -> None:
        super().__init__(run_id)
        self.run_id = run_id
        self.signal_number = signal_number


@dataclass
class Budget:
    """What a command may spend in all (None: no limit) and what it has spent."""

    limit_usd: float | None = None
    spent_usd: float = 0.0

    @property
    def remaining_usd(self) -> float | None:
        """What is left, or None without a limit."""
        return None if self.limit_usd is None else max(0.0, self.limit_usd - self.spent_usd)

    def check(self) -> None:
        """BudgetExhausted when nothing is left."""
        remaining = self.remaining_usd
        if remaining is not None and remaining <= 0.0:
            raise BudgetExhausted(f"the budget of ${self.limit_usd:g} is spent")

    def spend(self, cost_usd: float) -> None:
        """Count a cost."""
        self.spent_usd += cost_usd


@dataclass(frozen=True)
class TrialSettings:
    """Where trials come from and how they run: `run`'s flags, minus what a trial sets."""

    config: RoutelensConfig
    skills_dir: Path
    cases_path: Path
    router: str | None = None
    model: str | None = None
    repeat: int | None = None
    concurrency: int | None = None
    router_options: Mapping[str, Any] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    trigger_skill: str | None = None

    def flags(
        self,
        descriptions: Mapping[str, str] | None = None,
        case_ids: Sequence[str] = (),
        labels: Mapping[str, str] | None = None,
        max_cost_usd: float | None = None,
    ) -> RunFlags:
        """The `run` flags of one trial."""
        return RunFlags(
            skills=self.skills_dir,
            cases=self.cases_path,
            router=self.router,
            model=self.model,
            repeat=self.repeat,
            concurrency=self.concurrency,
            max_cost_usd=max_cost_usd,
            labels={**self.labels, **(labels or {})},
            router_options=dict(self.router_options),
            trigger_skill=self.trigger_skill,
            selection=CaseSelection(case_ids=tuple(case_ids)),
            descriptions=dict(descriptions or {}),
        )


def trigger_skill_for(cases_path: Path, skill: str | None) -> str | None:
    """`skill` when the case file is a trigger eval set (it tests that skill), else None."""
    try:
        data = yaml.safe_load(cases_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None  # loading the suite reports what is wrong with the file
    return skill if is_trigger_eval(data) else None


def plan_first(settings: TrialSettings, store_url: str | None) -> NewRunPlan:
    """Plan (validate) the unchanged suite without recording it: every input error surfaces
    here, before a store is created. The caller closes the plan's router."""
    return plan_new_run(settings.config, settings.flags(), store_url)


@dataclass(frozen=True)
class Trial:
    """One recorded run of some descriptions on some cases, and what it found."""

    run_id: str
    descriptions: Mapping[str, str]
    case_ids: tuple[str, ...]
    outcomes: Mapping[str, CaseOutcome]
    cost_usd: float
    complete: bool


TrialKey = tuple[tuple[tuple[str, str], ...], tuple[str, ...]]


class TrialRunner:
    """Runs trials in one store under one budget, each (descriptions, cases) once."""

    def __init__(self, store: Store, settings: TrialSettings, budget: Budget | None = None):
        self.store = store
        self.settings = settings
        self.budget = budget or Budget()
        self.runs: list[str] = []
        self._done: dict[TrialKey, Trial] = {}
        # what an attempt has cost so far, so each new run's budget guard starts cautious
        self._largest_attempt_cost_usd = 0.0

    def run(
        self,
        descriptions: Mapping[str, str],
        case_ids: Sequence[str],
        labels: Mapping[str, str] | None = None,
    ) -> Trial:
        """The trial of `descriptions` on `case_ids` (run now, or the earlier identical one).

        BudgetExhausted before a run when the budget is spent, and after one the budget
        stopped; TrialInterrupted when Ctrl-C stopped it.
        """
        key = (tuple(sorted(descriptions.items())), tuple(sorted(case_ids)))
        if key in self._done:
            return self._done[key]
        self.budget.check()
        flags = self.settings.flags(descriptions, case_ids, labels, self.budget.remaining_usd)
        plan = plan_new_run(self.settings.config, flags, store=self.store)
        prepared = record_new_run(self.store, plan)
        self.runs.append(prepared.run.run_id)
        assert prepared.router is not None, "trials run in process: the plan builds a router"
        outcome = execute_run(
            self.store,
            prepared.run,
            prepared.skills,
            prepared.cases,
            prepared.router,
            prepared.settings,
            expected_attempt_cost_usd=self._largest_attempt_cost_usd,
        )
        attempts = self.store.attempts(prepared.run.run_id)
        cost = sum(attempt.cost_usd for attempt in attempts)
        self._largest_attempt_cost_usd = max(
            [self._largest_attempt_cost_usd, *(attempt.cost_usd for attempt in attempts)]
        )
        self.budget.spend(cost)
        if outcome.interrupted:
            raise TrialInterrupted(prepared.run.run_id, int(outcome.interrupted_by or 2))
        trial = Trial(
            run_id=prepared.run.run_id,
            descriptions=dict(descriptions),
            case_ids=tuple(case_ids),
            outcomes=case_outcomes(attempts),
            cost_usd=cost,
            complete=outcome.run.status is RunStatus.COMPLETED,
        )
        if outcome.run.status is RunStatus.STOPPED_BY_BUDGET:
            raise BudgetExhausted(
                f"run {trial.run_id} stopped at the budget of ${self.budget.limit_usd:g}"
            )
        self._done[key] = trial
        return trial
