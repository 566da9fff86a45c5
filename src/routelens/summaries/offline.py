"""The offline summary: the same facts in plain sentences, the same every time (pure)."""

from __future__ import annotations

from routelens.summaries.facts import (
    ChangeFacts,
    SummaryFacts,
    p_value_text,
    percent,
    points,
    usd,
)


def _accuracy_sentence(facts: SummaryFacts) -> str:
    accuracy = facts.accuracy
    period = f"the last {facts.window} ({facts.start.isoformat()} to {facts.end.isoformat()})"
    if not accuracy.decided:
        errors = f" ({_attempts(accuracy.errors)} ended in errors)" if accuracy.errors else ""
        return f"No attempt was decided in {period}{errors}."
    sentence = (
        f"In {period}, routing accuracy was {percent(accuracy.accuracy)} "
        f"({accuracy.passed} of {accuracy.decided} decided attempts)"
    )
    if accuracy.delta is not None and accuracy.direction in ("up", "down"):
        sentence += (
            f", {accuracy.direction} {abs(accuracy.delta) * 100:.1f} pt from "
            f"{percent(accuracy.previous_accuracy)} in the {facts.window} before"
        )
    elif accuracy.delta is not None:
        sentence += (
            f", about flat ({points(accuracy.delta)}) against "
            f"{percent(accuracy.previous_accuracy)} in the {facts.window} before"
        )
    else:
        sentence += f", with nothing decided in the {facts.window} before to compare"
    verdict = "meets" if accuracy.meets_slo else "is below"
    sentence += f", which {verdict} the {percent(accuracy.slo)} SLO."
    if accuracy.errors:
        sentence += (
            f" {_attempts(accuracy.errors)} ended in errors ({percent(accuracy.error_rate)})."
        )
    return sentence


def _skills_sentence(facts: SummaryFacts) -> str | None:
    if not facts.worst_skills:
        return None
    listed = "; ".join(
        f"{skill.skill} at {percent(skill.accuracy)} ({skill.passed} of {skill.decided})"
        for skill in facts.worst_skills
    )
    return f"Weakest skills: {listed}."


def _flaky_sentence(facts: SummaryFacts) -> str:
    if not facts.new_flaky:
        return f"No case became flaky ({facts.flaky_cases} flaky in the window)."
    listed = ", ".join(
        f"{case.case_id} (passes {percent(case.pass_rate)} of {case.attempts})"
        for case in facts.new_flaky
    )
    return f"Newly flaky: {listed}; {facts.flaky_cases} flaky in the window."


def _change_text(change: ChangeFacts) -> str:
    text = (
        f"#{change.event_id} {change.skill} ({change.commit}, "
        f"{change.committed_on.isoformat()}) took the affected cases from "
        f"{percent(change.before_accuracy)} to {percent(change.after_accuracy)} "
        f"({points(change.delta)}, p {_p(change.p_value)}"
    )
    if change.significant_regression:
        text += ", a significant regression"
    return text + ")"


def _p(p_value: float | None) -> str:
    written = p_value_text(p_value)
    return written if written.startswith("<") else f"= {written}"


def _changes_sentence(facts: SummaryFacts) -> str | None:
    if not facts.changes:
        return None
    return (
        "SKILL.md changes that moved accuracy: " + "; ".join(map(_change_text, facts.changes)) + "."
    )


def _cost_sentence(facts: SummaryFacts) -> str:
    cost = facts.cost
    over = (
        "no day went over it"
        if not cost.days_over_budget
        else f"{cost.days_over_budget} days went over it"
    )
    return (
        f"The window cost {usd(cost.total_usd)} over {cost.attempts} attempts; at "
        f"{usd(cost.mean_daily_usd)} a day (mean of the last {cost.mean_days} days) that is "
        f"{usd(cost.monthly_projection_usd)} per {cost.projection_days} days, against a daily "
        f"budget of {usd(cost.daily_budget_usd)} ({over})."
    )


def offline_summary(facts: SummaryFacts) -> str:
    """A short paragraph stating the facts: accuracy, weakest skills, flaky cases, changes,
    cost. Every number in it passes `check_numbers` against the same facts."""
    sentences = [
        _accuracy_sentence(facts),
        _skills_sentence(facts),
        _flaky_sentence(facts),
        _changes_sentence(facts),
        _cost_sentence(facts),
    ]
    return " ".join(sentence for sentence in sentences if sentence)


def _attempts(count: int) -> str:
    return f"{count} attempt" if count == 1 else f"{count} attempts"
