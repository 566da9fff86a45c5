"""Choosing a description: on validation accuracy, from candidates that carry no test score.

A `Candidate` holds a description's train and validation accuracy and nothing else: the
test split is run only after the choice (`loop.measure_on_test`), so the choice cannot
depend on it. A proposal must do better than the original on validation to replace it;
ties between proposals go to the higher train accuracy, then to the earlier one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from routelens.optimize.outcomes import Accuracy


@dataclass(frozen=True)
class Candidate:
    """A description that was run on train and validation: iteration 0 is the original."""

    iteration: int
    description: str
    train: Accuracy
    validation: Accuracy
    run_id: str


def _value(accuracy: Accuracy) -> float:
    value = accuracy.value
    return -1.0 if value is None else value


def best_by(candidates: Sequence[Candidate], score: Callable[[Candidate], Accuracy]) -> Candidate:
    """The candidate with the highest `score`; a tie with the original keeps the original,
    other ties go to the higher train accuracy, then to the earlier candidate."""
    if not candidates:
        raise ValueError("no candidate to choose from")
    return max(
        candidates,
        key=lambda c: (_value(score(c)), c.iteration == 0, _value(c.train), -c.iteration),
    )


def choose_on_validation(candidates: Sequence[Candidate]) -> Candidate:
    """The description `optimize` keeps: the best validation accuracy."""
    return best_by(candidates, lambda candidate: candidate.validation)


def best_on_train(candidates: Sequence[Candidate]) -> Candidate:
    """The description the next proposal starts from: the best train accuracy (proposals
    learn from train only)."""
    return max(candidates, key=lambda c: (_value(c.train), -c.iteration))
