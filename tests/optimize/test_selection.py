"""The choice: on validation, never on test (a candidate has no test score to read)."""

from __future__ import annotations

import dataclasses

import pytest

from routelens.optimize.outcomes import Accuracy
from routelens.optimize.selection import (
    Candidate,
    best_by,
    best_on_train,
    choose_on_validation,
)


def candidate(iteration: int, train: int, validation: int) -> Candidate:
    return Candidate(
        iteration, f"description {iteration}", Accuracy(train, 10), Accuracy(validation, 10), "r"
    )


def test_a_candidate_carries_no_test_score() -> None:
    assert {f.name for f in dataclasses.fields(Candidate)} == {
        "iteration",
        "description",
        "train",
        "validation",
        "run_id",
    }


def test_the_best_validation_accuracy_wins_whatever_train_says() -> None:
    chosen = choose_on_validation([candidate(0, 5, 5), candidate(1, 10, 6), candidate(2, 6, 8)])
    assert chosen.iteration == 2


def test_a_proposal_must_beat_the_original_on_validation() -> None:
    assert choose_on_validation([candidate(0, 5, 7), candidate(1, 9, 7)]).iteration == 0


def test_ties_between_proposals_go_to_train_then_to_the_earlier() -> None:
    assert (
        choose_on_validation([candidate(0, 5, 5), candidate(1, 6, 7), candidate(2, 8, 7)]).iteration
        == 2
    )
    assert (
        choose_on_validation([candidate(0, 5, 5), candidate(1, 8, 7), candidate(2, 8, 7)]).iteration
        == 1
    )


def test_the_next_proposal_starts_from_the_best_on_train() -> None:
    assert (
        best_on_train([candidate(0, 5, 9), candidate(1, 7, 1), candidate(2, 7, 2)]).iteration == 1
    )


def test_choosing_by_another_score_is_the_same_rule() -> None:
    scores = {0: Accuracy(3, 4), 1: Accuracy(4, 4)}
    picked = best_by([candidate(0, 5, 9), candidate(1, 5, 1)], lambda c: scores[c.iteration])
    assert picked.iteration == 1
    with pytest.raises(ValueError, match="no candidate"):
        best_by([], lambda c: c.validation)
