"""Confusion matrix, precision/recall/F1 and top confusions against hand computations."""

from __future__ import annotations

import numpy as np
import pytest

from routelens.analytics.confusion import (
    CaseDisambiguation,
    RouteCount,
    confusion_matrix,
    confusion_report,
    confusion_report_dict,
    disambiguation_view,
    skill_scores,
    top_confusions,
)

# expected, actual skill, asked a question, count
GROUPS = [
    RouteCount("deploy", "deploy", False, 8),
    RouteCount("deploy", "review", False, 2),
    RouteCount("deploy", None, False, 1),
    RouteCount("review", "review", False, 5),
    RouteCount("review", "deploy", False, 1),
    RouteCount("review", None, True, 1),
    RouteCount(None, None, True, 3),
    RouteCount(None, "deploy", False, 1),
]


def test_matrix_is_square_over_skills_ask_and_outcomes() -> None:
    matrix = confusion_matrix(GROUPS)
    assert matrix.labels == ("deploy", "review", "(ask)", "clarified", "none")
    assert matrix.counts == (
        (8, 2, 0, 0, 1),
        (1, 5, 0, 1, 0),
        (1, 0, 0, 3, 0),
        (0, 0, 0, 0, 0),
        (0, 0, 0, 0, 0),
    )
    assert matrix.total == 22
    assert (
        confusion_matrix([*GROUPS, RouteCount("deploy", "deploy", False, 2)]).cell(
            "deploy", "deploy"
        )
        == 10
    )


def test_routes_to_claude_codes_own_skills_are_their_own_labels_after_the_projects() -> None:
    groups = [
        *GROUPS,
        RouteCount("deploy", "builtin:code-review", False, 2),
        RouteCount(None, "builtin:dataviz", False, 1),
    ]
    matrix = confusion_matrix(groups)
    assert matrix.labels == (
        "deploy",
        "review",
        "builtin:code-review",
        "builtin:dataviz",
        "(ask)",
        "clarified",
        "none",
    )
    assert matrix.cell("deploy", "builtin:code-review") == 2
    assert matrix.cell("(ask)", "builtin:dataviz") == 1
    by_skill = {score.skill: score for score in skill_scores(matrix)}
    assert by_skill["builtin:code-review"].precision == 0.0  # routed there, never expected
    assert by_skill["builtin:code-review"].support == 0
    assert ("deploy", "builtin:code-review", 2) in [
        (pair.expected, pair.actual, pair.count) for pair in top_confusions(matrix)
    ]


def test_precision_recall_f1_by_hand() -> None:
    scores = {score.skill: score for score in skill_scores(confusion_matrix(GROUPS))}
    # deploy: 8 right of 11 expected (recall); routed to 8 + 1 + 1 = 10 times (precision)
    deploy = scores["deploy"]
    assert deploy.support == 11
    assert deploy.recall == pytest.approx(8 / 11)
    assert deploy.precision == pytest.approx(8 / 10)
    assert deploy.f1 == pytest.approx(2 * 0.8 * (8 / 11) / (0.8 + 8 / 11))
    review = scores["review"]
    assert (review.precision, review.recall, review.support) == (
        pytest.approx(5 / 7),
        pytest.approx(5 / 7),
        7,
    )
    assert review.f1 == pytest.approx(5 / 7)


def test_scores_match_the_one_vs_rest_formulas_on_label_arrays() -> None:
    matrix = confusion_matrix(GROUPS)
    expected: list[str] = []
    actual: list[str] = []
    for i, row in enumerate(matrix.labels):
        for j, column in enumerate(matrix.labels):
            expected += [row] * matrix.counts[i][j]
            actual += [column] * matrix.counts[i][j]
    y_true, y_pred = np.array(expected), np.array(actual)
    for score in skill_scores(matrix):
        hits = np.sum((y_true == score.skill) & (y_pred == score.skill))
        precision = hits / np.sum(y_pred == score.skill)
        recall = hits / np.sum(y_true == score.skill)
        assert score.precision == pytest.approx(precision)
        assert score.recall == pytest.approx(recall)
        assert score.f1 == pytest.approx(2 * precision * recall / (precision + recall))


def test_undefined_ratios_are_none_and_zero_hits_give_f1_zero() -> None:
    matrix = confusion_matrix([RouteCount("a", "b", False, 2)])
    scores = {score.skill: score for score in skill_scores(matrix)}
    assert scores["a"].recall == 0.0
    assert scores["a"].precision is None  # never routed to a
    assert scores["a"].f1 is None
    assert scores["b"].recall is None  # never expected
    assert scores["b"].precision == 0.0
    both_zero = skill_scores(
        confusion_matrix([RouteCount("a", "b", False, 1), RouteCount("b", "a", False, 1)])
    )
    assert [score.f1 for score in both_zero] == [0.0, 0.0]


def test_top_confusions_skip_right_answers_and_rank_by_count_then_labels() -> None:
    pairs = top_confusions(confusion_matrix(GROUPS))
    assert [(p.expected, p.actual, p.count) for p in pairs] == [
        ("deploy", "review", 2),
        ("(ask)", "deploy", 1),
        ("deploy", "none", 1),
        ("review", "clarified", 1),
        ("review", "deploy", 1),
    ]
    assert len(top_confusions(confusion_matrix(GROUPS), limit=2)) == 2


def test_disambiguation_view_pools_cases_and_attaches_options() -> None:
    view = disambiguation_view(
        [
            CaseDisambiguation(
                "D2", attempts=4, clarified=1, options_score_sum=0.5, options_scored=1
            ),
            CaseDisambiguation(
                "D1", attempts=6, clarified=6, options_score_sum=3.0, options_scored=6
            ),
        ],
        {"D1": ["jira-agile", "jira-search"]},
    )
    assert view.attempts == 10
    assert view.clarification_rate == pytest.approx(7 / 10)
    assert view.mean_options_score == pytest.approx(3.5 / 7)
    assert [case.case_id for case in view.cases] == ["D1", "D2"]
    assert view.cases[0].options == ("jira-agile", "jira-search")
    assert view.cases[1].options == ()
    assert view.cases[1].mean_options_score == 0.5
    empty = disambiguation_view([], {})
    assert (empty.attempts, empty.clarification_rate, empty.mean_options_score) == (0, None, None)


def test_report_dict_has_the_documented_shape() -> None:
    report = confusion_report(GROUPS, disambiguation_view([], {}))
    data = confusion_report_dict(report)
    assert set(data) == {"labels", "matrix", "per_skill", "top_confusions", "disambiguation"}
    assert data["matrix"][0] == [8, 2, 0, 0, 1]
    assert set(data["per_skill"][0]) == {"skill", "precision", "recall", "f1", "support"}
    assert data["top_confusions"][0] == {"expected": "deploy", "actual": "review", "count": 2}
    assert set(data["disambiguation"]) == {
        "attempts",
        "clarification_rate",
        "mean_options_score",
        "cases",
    }


def test_right_workflow_and_negative_routes_are_no_confusion_and_no_ask_row() -> None:
    matrix = confusion_matrix(
        [
            # a workflow (search, then bulk) routed to its second step: right
            RouteCount(None, "jira-bulk", False, 3, category="workflow", passed=True),
            # a workflow that asked: right, and not a case that expects a question
            RouteCount(None, None, True, 2, category="workflow", passed=True),
            # a workflow routed outside its steps: wrong
            RouteCount(None, "jira-issue", False, 1, category="workflow", passed=False),
            # a negative case (not jira-issue) routed elsewhere: right
            RouteCount(None, "jira-search", False, 4, category="negative", passed=True),
            # ... and routed to the skill it must not use: wrong
            RouteCount(None, "jira-issue", False, 2, category="negative", passed=False),
            # a disambiguation case that asked: right, the only "(ask)" row
            RouteCount(None, None, True, 5, category="disambiguation", passed=True),
        ]
    )
    assert matrix.labels == (
        "jira-bulk",
        "jira-issue",
        "jira-search",
        "(ask)",
        "(workflow)",
        "(negative)",
        "clarified",
        "none",
    )
    assert matrix.cell("jira-bulk", "jira-bulk") == 3
    assert matrix.cell("jira-search", "jira-search") == 4
    assert matrix.cell("(workflow)", "clarified") == 2
    assert matrix.cell("(ask)", "clarified") == 5
    assert [(p.expected, p.actual, p.count) for p in top_confusions(matrix)] == [
        ("(negative)", "jira-issue", 2),
        ("(workflow)", "jira-issue", 1),
    ]
    scores = {score.skill: score for score in skill_scores(matrix)}
    assert scores["jira-search"].precision == 1.0  # the negative case's right routes count
