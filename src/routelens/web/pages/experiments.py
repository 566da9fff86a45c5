"""`/experiments` and `/experiments/<name>`: each A/B experiment, its arms and its decision.

`/api/experiments` is `routelens experiment list --json`; `/api/experiments/<name>` is
`routelens experiment status --json` plus `path`: the confidence sequence as each look
would have seen it (what the chart draws), from the arms' attempts as the store has them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routelens.commands.experiment import experiment_list_rows, experiment_status_dict
from routelens.experiments.analysis import confidence_sequence_path, paired_outcomes
from routelens.experiments.model import Arm
from routelens.experiments.storage import arm_attempts, get_experiment
from routelens.web.context import PageNotFound, Params, WebContext


def experiments_page(
    context: WebContext, path: Mapping[str, str], params: Params
) -> dict[str, Any]:
    """Every experiment, newest first."""
    return {"experiments": experiment_list_rows(context.store)}


def experiment_page(context: WebContext, path: Mapping[str, str], params: Params) -> dict[str, Any]:
    """One experiment's status, comparison and confidence-sequence path."""
    record = get_experiment(context.store, path["name"])
    if record is None:
        raise PageNotFound(f"no experiment {path['name']!r} in this store")
    control, treatment = record.run_id(Arm.CONTROL), record.run_id(Arm.TREATMENT)
    arms = None
    if control is not None and treatment is not None:
        # read once, for the status's comparison and for the path
        arms = (arm_attempts(context.store, control), arm_attempts(context.store, treatment))
    view = experiment_status_dict(record, context.store, arms)
    view["path"] = []
    comparison = view.get("comparison")
    if arms is not None and comparison is not None:
        outcomes = paired_outcomes(*arms)
        view["path"] = [
            {"pairs": look.pairs, "estimate": look.estimate, "low": look.low, "high": look.high}
            for look in confidence_sequence_path(
                outcomes,
                comparison["planned_pairs"],
                alpha=comparison["confidence_sequence"]["alpha"],
            )
        ]
    return view
