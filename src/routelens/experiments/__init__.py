"""A/B experiments: two skill versions run as two interleaved runs, compared sequentially."""

from routelens.experiments.analysis import ExperimentComparison, Recommendation, compare_arms
from routelens.experiments.execution import ExperimentRunOutcome, run_experiment
from routelens.experiments.lifecycle import (
    ExperimentPlan,
    conclude_experiment,
    create_experiment,
    experiment_comparison,
    planned_experiment,
)
from routelens.experiments.model import (
    Arm,
    ArmKind,
    ArmSpec,
    Decision,
    ExperimentRecord,
    ExperimentStatus,
)
from routelens.experiments.sequential import ConfidenceSequenceInterval, confidence_sequence
from routelens.experiments.storage import get_experiment, list_experiments

__all__ = [
    "Arm",
    "ArmKind",
    "ArmSpec",
    "ConfidenceSequenceInterval",
    "Decision",
    "ExperimentComparison",
    "ExperimentPlan",
    "ExperimentRecord",
    "ExperimentRunOutcome",
    "ExperimentStatus",
    "Recommendation",
    "compare_arms",
    "conclude_experiment",
    "confidence_sequence",
    "create_experiment",
    "experiment_comparison",
    "get_experiment",
    "list_experiments",
    "planned_experiment",
    "run_experiment",
]
