"""The offline summary: the facts in fixed sentences."""

from __future__ import annotations

from dataclasses import replace

from routelens.summaries.offline import offline_summary
from tests.summaries.sample import sample_facts


def test_states_every_topic_with_its_numbers() -> None:
    assert offline_summary(sample_facts()) == (
        "In the last 7d (2026-11-24 to 2026-12-01), routing accuracy was 87.3% (1235 of 1414 "
        "decided attempts), down 2.1 pt from 89.5% in the 7d before, which meets the 85.0% SLO. "
        "12 attempts ended in errors (0.8%). Weakest skills: jira-search at 61.0% (25 of 41); "
        "jira-agile at 70.0% (70 of 100). Newly flaky: TC031 (passes 55.6% of 9); 4 flaky in "
        "the window. SKILL.md changes that moved accuracy: #17 jira-search (3f2a9b1c, "
        "2026-11-27) took the affected cases from 91.0% to 82.0% (-9.0 pt, p = 0.021, a "
        "significant regression). The window cost $12.40 over 1426 attempts; at $1.77 a day "
        "(mean of the last 7 days) that is $53.14 per 30 days, against a daily budget of "
        "$25.00 (no day went over it)."
    )


def test_quiet_week_and_empty_lists() -> None:
    facts = sample_facts(worst_skills=(), new_flaky=(), changes=())
    facts = replace(
        facts,
        accuracy=replace(
            facts.accuracy, delta=0.004, direction="flat", accuracy=0.60, meets_slo=False
        ),
    )
    text = offline_summary(facts)
    assert "about flat (+0.4 pt) against 89.5%" in text
    assert "which is below the 85.0% SLO" in text
    assert "No case became flaky (4 flaky in the window)." in text
    assert "Weakest" not in text
    assert "SKILL.md" not in text


def test_nothing_decided() -> None:
    facts = sample_facts()
    facts = replace(
        facts,
        accuracy=replace(
            facts.accuracy, passed=0, failed=0, decided=0, errors=3, accuracy=None, delta=None
        ),
    )
    assert offline_summary(facts).startswith(
        "No attempt was decided in the last 7d (2026-11-24 to 2026-12-01) (3 attempts ended in "
        "errors)."
    )
