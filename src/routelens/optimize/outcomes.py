"""What one run did with each case, and accuracy over any set of cases: pure, no I/O.

A case passes when at least half its decided attempts pass (as `compare` counts cases);
a case whose every attempt errored is undecided and counts in no accuracy.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from routelens.analytics.compare import case_passes
from routelens.analytics.stats import PairedTable
from routelens.analytics.summary import actual_label, expected_label
from routelens.store.records import AttemptRecord


@dataclass(frozen=True)
class CaseOutcome:
    """One case in one run: what it expected, what the router did most often, the verdict."""

    case_id: str
    category: str
    input: str
    expected: str
    """The expectation label: the skill, or "(ask)", "(negative)", ... (see expectation_label)."""
    actual: str
    """The most frequent route: a skill, "clarified" or "none"."""
    routes: tuple[str, ...]
    """Every route the attempts took, each once (what the case was routed to, at least once)."""
    question: str | None
    passed: bool | None


def case_outcomes(attempts: Iterable[AttemptRecord]) -> dict[str, CaseOutcome]:
    """Each case's outcome from a run's attempts, by case id."""
    by_case: defaultdict[str, list[AttemptRecord]] = defaultdict(list)
    for attempt in attempts:
        by_case[attempt.case_id].append(attempt)
    outcomes: dict[str, CaseOutcome] = {}
    for case_id, records in by_case.items():
        records.sort(key=lambda a: a.repeat_index)
        first = records[0]
        routes = Counter(actual_label(a) for a in records)
        question = next(
            (a.response_text for a in records if a.asked_clarification and a.response_text), None
        )
        outcomes[case_id] = CaseOutcome(
            case_id=case_id,
            category=first.category,
            input=first.input,
            expected=expected_label(first),
            actual=routes.most_common(1)[0][0],
            routes=tuple(sorted(routes)),
            question=question,
            passed=case_passes([a.verdict for a in records]),
        )
    return outcomes


@dataclass(frozen=True)
class Accuracy:
    """Passed cases over decided cases (None when no case was decided)."""

    passed: int
    decided: int

    @property
    def value(self) -> float | None:
        """passed ÷ decided, or None."""
        return self.passed / self.decided if self.decided else None


def accuracy_over(outcomes: Mapping[str, CaseOutcome], case_ids: Collection[str]) -> Accuracy:
    """Accuracy over the cases `case_ids` names (cases missing from `outcomes` are skipped)."""
    verdicts = [outcomes[c].passed for c in case_ids if c in outcomes]
    decided = [v for v in verdicts if v is not None]
    return Accuracy(sum(decided), len(decided))


def paired_table(
    before: Mapping[str, CaseOutcome], after: Mapping[str, CaseOutcome], case_ids: Iterable[str]
) -> PairedTable:
    """The 2x2 table of the cases decided in both runs (first = before, second = after)."""
    cells: Counter[tuple[bool, bool]] = Counter()
    for case_id in case_ids:
        first, second = before.get(case_id), after.get(case_id)
        if first is None or second is None or first.passed is None or second.passed is None:
            continue
        cells[(first.passed, second.passed)] += 1
    return PairedTable(
        both=cells[(True, True)],
        first_only=cells[(True, False)],
        second_only=cells[(False, True)],
        neither=cells[(False, False)],
    )
