"""Expected x actual routing: the confusion matrix, per-skill precision/recall/F1, confusions.

Rows are what a case expected: a skill; "(ask)" when the right answer is a question;
"(workflow)", "(negative)" or "(no skill)" for workflow, negative and direct cases naming no
`expected_skill` (see `analytics.summary.expectation_label`). A passing attempt routed to a
skill counts on that skill's diagonal (a workflow's second step, a negative case's
acceptable route, an alternate: each was right). Columns are what the router did (a skill,
"clarified" or "none"). Only decided attempts (pass or fail) are counted: an error says
nothing about routing, and only failed attempts are confusions.

For one skill S, over the matrix:

* recall(S) = attempts expecting S routed to S ÷ attempts expecting S (the row total);
* precision(S) = attempts routed to S that expected S ÷ attempts routed to S (the column
  total, including attempts that expected a question or another skill);
* F1(S) = 2 · precision · recall ÷ (precision + recall), 0 when both are 0;
* support(S) = the row total.

A ratio with a zero denominator is None (sklearn's `zero_division` would make it 0; None
keeps "never routed there" apart from "always wrong").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from routelens.analytics.summary import (
    ASK_LABEL,
    CLARIFIED_LABEL,
    EXPECTATION_LABELS,
    NO_ROUTE_LABEL,
    expectation_label,
)
from routelens.suite.builtin import is_builtin_route

OUTCOME_LABELS = (CLARIFIED_LABEL, NO_ROUTE_LABEL)
"""Columns that are not skills: the router asked a question, or routed nowhere."""


@dataclass(frozen=True)
class RouteCount:
    """How many decided attempts had this expected skill and this outcome (one SQL group);
    `category` and `passed` say what the case expected and whether the route was right
    (without them every attempt is read as a failure of a case expecting its skill or a
    question)."""

    expected_skill: str | None
    actual_skill: str | None
    asked_clarification: bool
    count: int
    category: str | None = None
    passed: bool = False

    @property
    def row_label(self) -> str:
        """The matrix row: a right route to a skill is its diagonal, else the expectation."""
        if self.passed and self.actual_skill is not None:
            return self.actual_skill
        return expectation_label(self.category or "", self.expected_skill)


@dataclass(frozen=True)
class SkillScore:
    """Precision, recall and F1 of routing to one skill (None when undefined)."""

    skill: str
    precision: float | None
    recall: float | None
    f1: float | None
    support: int


@dataclass(frozen=True)
class LabelPair:
    """How many decided attempts expecting `expected` went to `actual`."""

    expected: str
    actual: str
    count: int


@dataclass(frozen=True)
class ConfusionMatrix:
    """A square matrix over `labels`: `counts[i][j]` attempts expected `labels[i]`, got `labels[j]`.

    The labels are the skills (sorted; routes to Claude Code's bundled skills, `builtin:<name>`,
    after the project's), then the expectations that are not skills ("(ask)", "(workflow)",
    ...) that occur, then "clarified" and "none". The rows "clarified" and "none" and the
    expectation columns are always zero; they keep the matrix square, as sklearn's is.
    `failures` has the same shape and counts the failed attempts only.

    Example::

        matrix = confusion_matrix([RouteCount("deploy", "review", False, 3)])
        matrix.cell("deploy", "review")  # 3
    """

    labels: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]
    failures: tuple[tuple[int, ...], ...] | None = None

    def cell(self, expected: str, actual: str) -> int:
        """The count at (expected, actual); 0 for labels the matrix does not have."""
        if expected not in self.labels or actual not in self.labels:
            return 0
        return self.counts[self.labels.index(expected)][self.labels.index(actual)]

    @property
    def total(self) -> int:
        """All decided attempts in the matrix."""
        return sum(sum(row) for row in self.counts)


@dataclass(frozen=True)
class CaseDisambiguation:
    """One disambiguation case: how often it asked, how many options the question named."""

    case_id: str
    attempts: int
    clarified: int
    options_score_sum: float
    options_scored: int
    options: tuple[str, ...] = ()

    @property
    def clarification_rate(self) -> float | None:
        """Share of the case's decided attempts that asked a clarifying question."""
        return self.clarified / self.attempts if self.attempts else None

    @property
    def mean_options_score(self) -> float | None:
        """Mean share of the options the question named, over attempts that were scored."""
        return self.options_score_sum / self.options_scored if self.options_scored else None


@dataclass(frozen=True)
class DisambiguationView:
    """Disambiguation-category attempts: clarification rate and options named, per case."""

    attempts: int
    clarification_rate: float | None
    mean_options_score: float | None
    cases: tuple[CaseDisambiguation, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ConfusionReport:
    """Everything `routelens confusion` shows."""

    matrix: ConfusionMatrix
    per_skill: tuple[SkillScore, ...]
    top_confusions: tuple[LabelPair, ...]
    disambiguation: DisambiguationView


def outcome_label(actual_skill: str | None, asked_clarification: bool) -> str:
    """The column of an attempt: its routed skill, "clarified" or "none"."""
    if actual_skill is not None:
        return actual_skill
    return CLARIFIED_LABEL if asked_clarification else NO_ROUTE_LABEL


def expected_row_label(expected_skill: str | None, category: str = "") -> str:
    """The row of a failed attempt: what its case expected (see `expectation_label`)."""
    return expectation_label(category, expected_skill)


def is_correct(expected: str, actual: str) -> bool:
    """Whether a cell is a right answer: the same skill, or a question when one was expected."""
    return expected == actual or (expected == ASK_LABEL and actual == CLARIFIED_LABEL)


def confusion_matrix(route_counts: Iterable[RouteCount]) -> ConfusionMatrix:
    """Build the square matrix from grouped counts (groups may repeat; they are added)."""
    pairs: Counter[tuple[str, str]] = Counter()
    failed: Counter[tuple[str, str]] = Counter()
    for group in route_counts:
        key = (group.row_label, outcome_label(group.actual_skill, group.asked_clarification))
        pairs[key] += group.count
        if not group.passed:
            failed[key] += group.count
    skills = {label for pair in pairs for label in pair} - {*EXPECTATION_LABELS, *OUTCOME_LABELS}
    expectations = [e for e in EXPECTATION_LABELS if any(row == e for row, _ in pairs)]
    # the project's skills first, then Claude Code's own (`builtin:<name>`)
    ordered = sorted(skills, key=lambda label: (is_builtin_route(label), label))
    labels = (*ordered, *expectations, *OUTCOME_LABELS)
    counts = tuple(tuple(pairs[(row, column)] for column in labels) for row in labels)
    failures = tuple(tuple(failed[(row, column)] for column in labels) for row in labels)
    return ConfusionMatrix(labels=labels, counts=counts, failures=failures)


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def skill_scores(matrix: ConfusionMatrix) -> tuple[SkillScore, ...]:
    """Precision, recall, F1 and support for every skill label (see the module docstring)."""
    scores = []
    for index, label in enumerate(matrix.labels):
        if label in EXPECTATION_LABELS or label in OUTCOME_LABELS:
            continue
        hits = matrix.counts[index][index]
        support = sum(matrix.counts[index])
        routed = sum(row[index] for row in matrix.counts)
        precision, recall = _ratio(hits, routed), _ratio(hits, support)
        f1: float | None = None
        if precision is not None and recall is not None:
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append(SkillScore(label, precision, recall, f1, support))
    return tuple(scores)


def top_confusions(matrix: ConfusionMatrix, limit: int | None = 10) -> tuple[LabelPair, ...]:
    """Failed attempts by cell (wrong answers), most frequent first, ties by labels."""
    cells = matrix.failures if matrix.failures is not None else matrix.counts
    pairs = [
        LabelPair(expected, actual, cells[i][j])
        for i, expected in enumerate(matrix.labels)
        for j, actual in enumerate(matrix.labels)
        if cells[i][j] and not is_correct(expected, actual)
    ]
    pairs.sort(key=lambda pair: (-pair.count, pair.expected, pair.actual))
    return tuple(pairs[:limit])


def disambiguation_view(
    cases: Iterable[CaseDisambiguation], options: Mapping[str, Sequence[str]]
) -> DisambiguationView:
    """Pool per-case counts into the overall view; `options` are each case's named options."""
    rows = sorted(cases, key=lambda case: case.case_id)
    attempts = sum(case.attempts for case in rows)
    scored = sum(case.options_scored for case in rows)
    score_sum = sum(case.options_score_sum for case in rows)
    return DisambiguationView(
        attempts=attempts,
        clarification_rate=_ratio(sum(case.clarified for case in rows), attempts),
        mean_options_score=score_sum / scored if scored else None,
        cases=tuple(
            CaseDisambiguation(
                case_id=case.case_id,
                attempts=case.attempts,
                clarified=case.clarified,
                options_score_sum=case.options_score_sum,
                options_scored=case.options_scored,
                options=tuple(options.get(case.case_id, ())),
            )
            for case in rows
        ),
    )


def confusion_report(
    route_counts: Iterable[RouteCount],
    disambiguation: DisambiguationView,
    *,
    limit: int | None = 10,
) -> ConfusionReport:
    """The matrix, its per-skill scores and top confusions, with the disambiguation view."""
    matrix = confusion_matrix(route_counts)
    return ConfusionReport(
        matrix=matrix,
        per_skill=skill_scores(matrix),
        top_confusions=top_confusions(matrix, limit),
        disambiguation=disambiguation,
    )


def confusion_report_dict(report: ConfusionReport) -> dict[str, Any]:
    """The JSON object of `routelens confusion --json`."""
    view = report.disambiguation
    return {
        "labels": list(report.matrix.labels),
        "matrix": [list(row) for row in report.matrix.counts],
        "per_skill": [
            {
                "skill": s.skill,
                "precision": s.precision,
                "recall": s.recall,
                "f1": s.f1,
                "support": s.support,
            }
            for s in report.per_skill
        ],
        "top_confusions": [
            {"expected": p.expected, "actual": p.actual, "count": p.count}
            for p in report.top_confusions
        ],
        "disambiguation": {
            "attempts": view.attempts,
            "clarification_rate": view.clarification_rate,
            "mean_options_score": view.mean_options_score,
            "cases": [
                {
                    "case_id": case.case_id,
                    "attempts": case.attempts,
                    "clarification_rate": case.clarification_rate,
                    "mean_options_score": case.mean_options_score,
                    "options": list(case.options),
                }
                for case in view.cases
            ],
        },
    }
