"""The optimize loop: propose from train, choose on validation, measure once on test.

`select_description` sees the train and validation case ids only, runs every candidate on
those and chooses (`selection.choose_on_validation`); `measure_on_test` runs the original
and the chosen description on the test split afterwards. Nothing from the test split
reaches a proposal or a choice, and with `--all` the next skill starts from the chosen
descriptions whatever the test said, so the test cannot steer later choices either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from routelens.optimize.outcomes import Accuracy, accuracy_over
from routelens.optimize.proposals import (
    NothingToPropose,
    ProposalRequest,
    ProposalTry,
    Proposer,
    TrainFailure,
    TrainInput,
    TriedDescription,
    concerns,
    request_proposal,
)
from routelens.optimize.selection import Candidate, best_on_train, choose_on_validation
from routelens.optimize.trials import BudgetExhausted, Trial, TrialRunner
from routelens.optimize.verdict import (
    DEFAULT_ALPHA,
    DEFAULT_TOLERANCE,
    FinalVerdict,
    final_verdict,
)
from routelens.suite.models import Case, SkillSet

DEFAULT_ITERATIONS = 5
OPTIMIZE_LABEL = "optimize"
SPLIT_LABEL = "split"
Announce = Callable[[str], None]


def _quiet(message: str) -> None:
    """The default announcer says nothing."""


@dataclass(frozen=True)
class Iteration:
    """One proposal: what was proposed (None: refused twice), and how it did if it ran."""

    iteration: int
    description: str | None
    candidate: Candidate | None
    tries: tuple[ProposalTry, ...]
    note: str


@dataclass(frozen=True)
class Selection:
    """The candidates of one skill and the one chosen on validation."""

    skill: str
    base: Mapping[str, str]
    """The descriptions already replaced before this skill (`--all`), by skill."""
    original: Candidate
    iterations: tuple[Iteration, ...]
    chosen: Candidate
    stopped: str | None = None
    """Why the loop ended before its iterations (the budget, nothing to learn from)."""

    @property
    def changed(self) -> bool:
        """Whether the chosen description differs from the original."""
        return self.chosen.description != self.original.description

    def descriptions(self, description: str) -> dict[str, str]:
        """The overrides of a trial of `description` for this skill."""
        if description == self.original.description:
            return dict(self.base)
        return {**self.base, self.skill: description}


@dataclass(frozen=True)
class FinalMeasurement:
    """The original and the chosen description on the test split, and the verdict."""

    before: Trial
    after: Trial
    verdict: FinalVerdict
    test: tuple[str, ...]

    def accuracy(self, trial: Trial) -> Accuracy:
        """A trial's accuracy on the test split."""
        return accuracy_over(trial.outcomes, self.test)


@dataclass(frozen=True)
class LoopSettings:
    """How the loop runs: iterations, the verdict's alpha and tolerance, run labels."""

    iterations: int = DEFAULT_ITERATIONS
    alpha: float = DEFAULT_ALPHA
    tolerance: float = DEFAULT_TOLERANCE
    labels: Mapping[str, str] = field(default_factory=dict)


def current_description(skills: SkillSet, base: Mapping[str, str], skill: str) -> str:
    """The skill's description with `base` applied."""
    found = skills.resolve(skill)
    assert found is not None, skill
    return base.get(found.name, found.description)


def train_failures(
    trial: Trial, train: Sequence[str], skill: str, cases: Mapping[str, Case]
) -> tuple[TrainFailure, ...]:
    """The failed train cases the skill's description may be to blame for, in case order."""
    failures = []
    for case_id in train:
        outcome = trial.outcomes.get(case_id)
        if outcome is None or outcome.passed is not False:
            continue
        named = [name for _, name in cases[case_id].named_skills()]
        if concerns(outcome, skill, named):
            failures.append(TrainFailure.from_outcome(outcome))
    return tuple(failures)


def train_inputs(trial: Trial, train: Sequence[str]) -> tuple[TrainInput, ...]:
    """Every train case's input and expectation, in case order."""
    return tuple(
        TrainInput(outcome.input, outcome.expected)
        for case_id in train
        if (outcome := trial.outcomes.get(case_id)) is not None
    )


def select_description(
    trials: TrialRunner,
    skills: SkillSet,
    cases: Mapping[str, Case],
    skill: str,
    train: Sequence[str],
    validation: Sequence[str],
    proposer: Proposer,
    *,
    base: Mapping[str, str] | None = None,
    settings: LoopSettings | None = None,
    announce: Announce = _quiet,
) -> Selection:
    """Propose up to `iterations` descriptions from train failures, run each on train and
    validation, and choose on validation. Takes no test case: it cannot see the test split."""
    settings = settings or LoopSettings()
    base = dict(base or {})
    selection_ids = tuple(train) + tuple(validation)
    others = {s.name: base.get(s.name, s.description) for s in skills.skills if s.name != skill}
    trial_of: dict[int, Trial] = {}

    def evaluate(iteration: int, description: str) -> Candidate:
        overrides = {**base, skill: description} if description != original_text else base
        labels = {
            **settings.labels,
            OPTIMIZE_LABEL: skill,
            SPLIT_LABEL: "train+validation",
            "iteration": str(iteration),
        }
        trial = trials.run(overrides, selection_ids, labels)
        trial_of[iteration] = trial
        candidate = Candidate(
            iteration,
            description,
            accuracy_over(trial.outcomes, train),
            accuracy_over(trial.outcomes, validation),
            trial.run_id,
        )
        announce(
            f"{skill}: {'original' if iteration == 0 else f'proposal {iteration}'}: train "
            f"{_shown(candidate.train)}, validation {_shown(candidate.validation)} "
            f"(run {trial.run_id})"
        )
        return candidate

    original_text = current_description(skills, base, skill)
    original = evaluate(0, original_text)
    candidates = [original]
    iterations: list[Iteration] = []
    stopped: str | None = None
    for number in range(1, settings.iterations + 1):
        start = best_on_train(candidates)
        failures = train_failures(trial_of[start.iteration], train, skill, cases)
        if not failures:
            stopped = "no train failure concerns this skill: nothing to learn from"
            break
        history = tuple(TriedDescription(c.description, c.train.value) for c in candidates)
        request = ProposalRequest(
            skill=skill,
            description=start.description,
            other_skills=others,
            failures=failures,
            history=history,
            iteration=number,
            train_inputs=train_inputs(trial_of[start.iteration], train),
        )
        try:
            trials.budget.check()
            try:
                outcome = request_proposal(proposer, request)
            except NothingToPropose as empty:
                stopped = str(empty)
                break
            trials.budget.spend(outcome.cost_usd)
            if outcome.description is None:
                reasons = "; ".join("; ".join(t.problems) for t in outcome.tries)
                announce(f"{skill}: proposal {number} refused twice, skipped: {reasons}")
                iterations.append(Iteration(number, None, None, outcome.tries, reasons))
                continue
            candidate = evaluate(number, outcome.description)
        except BudgetExhausted as spent:
            stopped = str(spent)
            break
        candidates.append(candidate)
        note = outcome.tries[-1].proposal.raw if proposer.name == "offline" else ""
        iterations.append(Iteration(number, outcome.description, candidate, outcome.tries, note))
    return Selection(
        skill=skill,
        base=base,
        original=original,
        iterations=tuple(iterations),
        chosen=choose_on_validation(candidates),
        stopped=stopped,
    )


def measure_on_test(
    trials: TrialRunner,
    selection: Selection,
    test: Sequence[str],
    settings: LoopSettings | None = None,
) -> FinalMeasurement:
    """Run the original and the chosen description on the test split, once, and judge."""
    settings = settings or LoopSettings()
    runs = []
    for arm, description in (
        ("original", selection.original.description),
        ("chosen", selection.chosen.description),
    ):
        labels = {**settings.labels, OPTIMIZE_LABEL: selection.skill, SPLIT_LABEL: "test"}
        runs.append(trials.run(selection.descriptions(description), test, {**labels, "arm": arm}))
    before, after = runs
    verdict = final_verdict(
        selection.skill,
        before.outcomes,
        after.outcomes,
        test,
        alpha=settings.alpha,
        tolerance=settings.tolerance,
    )
    if not selection.changed:
        verdict = FinalVerdict(
            verdict.cases,
            verdict.mcnemar,
            verdict.difference,
            verdict.interference,
            False,
            "no proposal beat the original on validation; the original stays",
        )
    return FinalMeasurement(before, after, verdict, tuple(test))


def worst_first(trial: Trial, train: Sequence[str], skills: SkillSet) -> list[str]:
    """Skill names by their accuracy on the train cases that expect them, lowest first;
    skills no train case expects come last, by name."""

    def key(name: str) -> tuple[int, float, str]:
        ids = [c for c in train if c in trial.outcomes and trial.outcomes[c].expected == name]
        value = accuracy_over(trial.outcomes, ids).value
        return (0, value, name) if value is not None else (1, 0.0, name)

    return sorted(skills.names, key=key)


def _shown(accuracy: Accuracy) -> str:
    value = accuracy.value
    return "-" if value is None else f"{value:.1%} ({accuracy.passed}/{accuracy.decided})"
