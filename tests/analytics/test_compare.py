"""analytics/compare.py over planted improvements and regressions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
from statsmodels.stats.multitest import multipletests

from routelens.analytics.compare import (
    AttemptOutcome,
    PairedCount,
    case_passes,
    compare_outcomes,
    compare_paired_counts,
    comparison_as_dict,
    latest_by_pair,
    majority_passes,
    paired_counts,
)
from routelens.analytics.stats import PairedTable, paired_difference_interval
from routelens.analytics.summary import ASK_LABEL
from routelens.store.records import AttemptRecord, Verdict
from tests.factories import STARTED, make_attempt

P, F, E = Verdict.PASS, Verdict.FAIL, Verdict.ERROR

# case id -> (expected skill, category, baseline verdicts, candidate verdicts) per repeat
PLANTED: dict[str, tuple[str, str, list[Verdict], list[Verdict]]] = {
    **{f"R{i}": ("deploy", "core", [P, P, P], [F, F, F]) for i in range(1, 9)},
    "M1": ("deploy", "core", [P, F, E], [F, F, P]),  # 1 of 2 decided passes -> passes
    "I1": ("review", "edge", [F, F, F], [P, P, P]),
    **{f"S{i}": ("review", "edge", [P, P, P], [P, P, P]) for i in range(1, 5)},
}
"""Nine cases regress (R1-R8, M1), one improves (I1), four stay passing."""


def planted_attempts(run_id: str, side: int, *, offset_s: int = 0) -> list[AttemptRecord]:
    """The planted attempts of one side (0: baseline, 1: candidate) as records of `run_id`."""
    return [
        make_attempt(
            case_id,
            verdicts[repeat],
            expected=skill,
            category=category,
            run_id=run_id,
            repeat_index=repeat,
            started_at=STARTED + timedelta(seconds=offset_s),
            finished_at=STARTED + timedelta(seconds=offset_s),
        )
        for case_id, (skill, category, *sides) in PLANTED.items()
        for repeat, verdicts in ((r, sides[side]) for r in range(3))
    ]


def outcomes(records: list[AttemptRecord]) -> list[AttemptOutcome]:
    return [AttemptOutcome.from_attempt(record) for record in records]


@pytest.fixture
def planted() -> tuple[list[AttemptOutcome], list[AttemptOutcome]]:
    return outcomes(planted_attempts("base", 0)), outcomes(planted_attempts("cand", 1, offset_s=60))


def test_case_level_mcnemar(planted: tuple[list[AttemptOutcome], list[AttemptOutcome]]) -> None:
    result = compare_outcomes(*planted)
    assert result.regressed == ["M1", *(f"R{i}" for i in range(1, 9))]
    assert result.improved == ["I1"]
    assert (result.mcnemar.b, result.mcnemar.c) == (9, 1)
    expected = sm_mcnemar([[4, 9], [1, 0]], exact=True).pvalue
    assert result.mcnemar.p_value == pytest.approx(expected)
    assert result.mcnemar.p_value == pytest.approx(2 * 11 / 1024)
    assert result.significant_regression


def test_attempt_level_test_and_difference(
    planted: tuple[list[AttemptOutcome], list[AttemptOutcome]],
) -> None:
    result = compare_outcomes(*planted)
    # R: 24 pass->fail; M1: r0 pass->fail, r1 fail->fail, r2 dropped (baseline error);
    # I1: 3 fail->pass; S: 12 pass->pass.
    table = PairedTable(both=12, first_only=25, second_only=3, neither=1)
    assert (result.attempt_test.b, result.attempt_test.c) == (25, 3)
    assert result.paired_attempts == 41
    assert result.difference == pytest.approx(tuple(paired_difference_interval(table)))
    assert result.difference.estimate == pytest.approx((3 - 25) / 41)
    assert result.difference.high < 0


def test_side_summaries(planted: tuple[list[AttemptOutcome], list[AttemptOutcome]]) -> None:
    result = compare_outcomes(*planted)
    assert result.baseline.attempts == result.candidate.attempts == 42
    assert (result.baseline.passed, result.baseline.failed, result.baseline.errors) == (37, 4, 1)
    assert result.baseline.accuracy == pytest.approx(37 / 41)
    assert result.baseline.ci_low < result.baseline.accuracy < result.baseline.ci_high
    assert result.candidate.accuracy == pytest.approx(16 / 42)
    assert result.baseline.cases == 14
    assert result.error_rate.baseline == pytest.approx(1 / 42)
    assert result.error_rate.candidate == 0.0


def test_breakdowns_are_bh_adjusted(
    planted: tuple[list[AttemptOutcome], list[AttemptOutcome]],
) -> None:
    result = compare_outcomes(*planted)
    assert [g.key for g in result.by_skill] == ["deploy", "review"]
    deploy, review = result.by_skill
    assert (deploy.pairs, deploy.b, deploy.c) == (26, 25, 0)
    assert (review.pairs, review.b, review.c) == (15, 0, 3)
    assert review.p_value == pytest.approx(0.25)
    expected = multipletests([deploy.p_value, review.p_value], method="fdr_bh")[1]
    assert [deploy.p_adjusted, review.p_adjusted] == pytest.approx(list(expected))
    assert deploy.difference == pytest.approx(-25 / 26)
    assert [g.key for g in result.by_category] == ["core", "edge"]


def test_latest_attempt_per_pair_wins(
    planted: tuple[list[AttemptOutcome], list[AttemptOutcome]],
) -> None:
    baseline, candidate = planted
    older = outcomes(planted_attempts("cand-old", 0, offset_s=-60))  # as good as the baseline
    assert (
        compare_outcomes(baseline, older + candidate).regressed
        == compare_outcomes(baseline, candidate).regressed
    )
    newer = outcomes(planted_attempts("cand-new", 0, offset_s=600))
    assert compare_outcomes(baseline, candidate + newer).regressed == []
    assert len(latest_by_pair(candidate + newer)) == len(PLANTED) * 3


def test_unpaired_attempts_are_counted_not_compared(
    planted: tuple[list[AttemptOutcome], list[AttemptOutcome]],
) -> None:
    baseline, candidate = planted
    extra = AttemptOutcome.from_attempt(make_attempt("ONLY-BASE", F, run_id="base"))
    result = compare_outcomes([*baseline, extra], candidate)
    assert result.baseline.unpaired_attempts == 1
    assert result.candidate.unpaired_attempts == 0
    assert "ONLY-BASE" not in result.regressed


def test_not_significant_when_candidate_is_better(
    planted: tuple[list[AttemptOutcome], list[AttemptOutcome]],
) -> None:
    baseline, candidate = planted
    swapped = compare_outcomes(candidate, baseline)
    assert (swapped.mcnemar.b, swapped.mcnemar.c) == (1, 9)
    assert not swapped.significant_regression


def test_no_overlap_and_no_decided_pairs_are_errors() -> None:
    base = outcomes([make_attempt("A", P, run_id="b")])
    with pytest.raises(ValueError, match="share no"):
        compare_outcomes(base, outcomes([make_attempt("B", P, run_id="c")]))
    with pytest.raises(ValueError, match="pass or fail on both"):
        compare_outcomes(base, outcomes([make_attempt("A", E, run_id="c")]))


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [([P, F], True), ([P, F, F], False), ([E, E], None), ([P, E, F], True), ([F], False)],
)
def test_case_passes_on_half_of_decided(verdicts: list[Verdict], expected: bool | None) -> None:
    assert case_passes(verdicts) is expected


def test_dict_shape(planted: tuple[list[AttemptOutcome], list[AttemptOutcome]]) -> None:
    payload = comparison_as_dict(compare_outcomes(*planted))
    assert set(payload) >= {
        "baseline",
        "candidate",
        "difference",
        "attempt_test",
        "mcnemar",
        "by_skill",
        "by_category",
        "improved",
        "regressed",
        "significant_regression",
    }
    assert set(payload["difference"]) == {"estimate", "ci_low", "ci_high"}
    assert set(payload["mcnemar"]) == {"b", "c", "p_value"}
    assert set(payload["by_skill"][0]) >= {
        "key",
        "baseline",
        "candidate",
        "difference",
        "p_value",
        "p_adjusted",
    }


def planted_counts() -> list[PairedCount]:
    """PLANTED as the store's compare query returns it: one row per case and verdict pair."""
    rows: dict[tuple[str, str, str, Verdict, Verdict], int] = {}
    for case_id, (skill, category, before, after) in PLANTED.items():
        for pair in zip(before, after, strict=True):
            key = (case_id, skill, category, *pair)
            rows[key] = rows.get(key, 0) + 1
    return [PairedCount(*key, count=count) for key, count in rows.items()]


def test_counts_give_the_same_comparison_as_attempts(
    planted: tuple[list[AttemptOutcome], list[AttemptOutcome]],
) -> None:
    keys = len(PLANTED) * 3
    result = compare_paired_counts(planted_counts(), baseline_keys=keys, candidate_keys=keys)
    assert result == compare_outcomes(*planted)
    assert (result.mcnemar.b, result.mcnemar.c, result.attempt_test.b) == (9, 1, 25)


def test_paired_counts_group_by_case_and_verdicts(
    planted: tuple[list[AttemptOutcome], list[AttemptOutcome]],
) -> None:
    first, second = (latest_by_pair(side) for side in planted)
    counts = paired_counts((first[key], second[key]) for key in first)
    assert sorted(counts, key=repr) == sorted(planted_counts(), key=repr)


def test_keys_beyond_the_pairs_are_unpaired() -> None:
    rows = [PairedCount("A", None, "core", P, F, 2), PairedCount("A", None, "core", E, P, 1)]
    result = compare_paired_counts(rows, baseline_keys=5, candidate_keys=3)
    assert (result.baseline.unpaired_attempts, result.candidate.unpaired_attempts) == (2, 0)
    assert (result.baseline.attempts, result.baseline.errors, result.paired_attempts) == (3, 1, 2)
    assert [(group.key, group.pairs) for group in result.by_skill] == [(ASK_LABEL, 2)]
    assert result.regressed == ["A"]  # baseline 2 of 2 decided pass; candidate 1 of 3


def test_no_counted_pairs_is_an_error() -> None:
    with pytest.raises(ValueError, match="share no"):
        compare_paired_counts([], baseline_keys=1, candidate_keys=1)
    with pytest.raises(ValueError, match="pass or fail on both"):
        compare_paired_counts(
            [PairedCount("A", None, "core", P, E, 1)], baseline_keys=1, candidate_keys=1
        )


@pytest.mark.parametrize(
    ("passed", "decided", "expected"), [(1, 2, True), (1, 3, False), (0, 0, None), (0, 1, False)]
)
def test_majority_passes_on_half_of_decided(
    passed: int, decided: int, expected: bool | None
) -> None:
    assert majority_passes(passed, decided) is expected
