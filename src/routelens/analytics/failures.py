"""The cases of a run that did not pass: what was expected, what happened, most important first."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from routelens.analytics.summary import actual_label
from routelens.store.records import AttemptRecord, Verdict


@dataclass(frozen=True)
class FailedCase:
    """One case with at least one failed or errored attempt.

    `routes` counts what the failed attempts did (a skill, `clarified`, `none`);
    `question` is the router's clarifying question on a failed attempt, if it asked one;
    `expected_question` is the question the case says it should ask (`ask`), if any.
    """

    case_id: str
    category: str
    input: str
    expected: str | None
    attempts: int
    failed: int
    errors: int
    routes: tuple[tuple[str, int], ...]
    error_types: tuple[tuple[str, int], ...]
    question: str | None
    expected_question: str | None

    @property
    def passed(self) -> int:
        """Attempts of the case that passed."""
        return self.attempts - self.failed - self.errors

    def as_dict(self) -> dict[str, Any]:
        """The case as `--json` prints it."""
        return {
            "case_id": self.case_id,
            "category": self.category,
            "input": self.input,
            "expected": self.expected,
            "attempts": self.attempts,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "routes": dict(self.routes),
            "error_types": dict(self.error_types),
            "question": self.question,
            "expected_question": self.expected_question,
        }


def _importance(case: FailedCase) -> tuple[float, float, str]:
    # Cases that fail every time first (a broken route), then by failed share, then those
    # that only errored; ties by id so the order is stable.
    decided = case.attempts - case.errors
    failed_share = case.failed / decided if decided else 0.0
    return (-failed_share, -case.errors / case.attempts, case.case_id)


def failed_cases(
    attempts: Iterable[AttemptRecord],
    definitions: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[FailedCase]:
    """Every case with a failed or errored attempt, most important first.

    `definitions` (case id → stored case definition) supplies the team's expected question
    (`ask`) when the case file has one.
    """
    by_case: dict[str, list[AttemptRecord]] = defaultdict(list)
    for attempt in attempts:
        by_case[attempt.case_id].append(attempt)
    found: list[FailedCase] = []
    for case_id, records in by_case.items():
        failed = [a for a in records if a.verdict is Verdict.FAIL]
        errored = [a for a in records if a.verdict is Verdict.ERROR]
        if not failed and not errored:
            continue
        first = records[0]
        routes = Counter(actual_label(a) for a in failed)
        error_types = Counter(a.error_type or "unknown" for a in errored)
        asked = next(
            (a.response_text for a in failed if a.asked_clarification and a.response_text), None
        )
        definition = (definitions or {}).get(case_id, {})
        expected_question = definition.get("ask")
        found.append(
            FailedCase(
                case_id=case_id,
                category=first.category,
                input=first.input,
                expected=first.expected_skill,
                attempts=len(records),
                failed=len(failed),
                errors=len(errored),
                routes=tuple(routes.most_common()),
                error_types=tuple(error_types.most_common()),
                question=asked,
                expected_question=expected_question if isinstance(expected_question, str) else None,
            )
        )
    return sorted(found, key=_importance)
