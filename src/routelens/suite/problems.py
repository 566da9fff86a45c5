"""Problems found in skills and case files, gathered in one pass instead of stopping at the first.

Loaders return every problem they find (`Problem`); a command lists them, then decides:
errors stop it, warnings do not unless `--strict` (`[cases] strict = true`) says they do.

>>> problem = Problem("cases.yaml", "unknown key 'ownr' (did you mean 'owner'?)", line=12,
...                   field="tests[3].ownr", severity=Severity.WARNING)
>>> problem.listing()
"cases.yaml:12: warning: tests[3].ownr: unknown key 'ownr' (did you mean 'owner'?)"
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from enum import StrEnum
from pathlib import Path

from routelens.errors import InputError


class Severity(StrEnum):
    """An error stops a run (and fails `validate`); a warning is printed and let through."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or suspicious) in a file: where, which field, what, how bad."""

    source: str
    message: str
    line: int | None = None
    field: str | None = None
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        """Whether this problem stops a run by itself."""
        return self.severity is Severity.ERROR

    def as_input_error(self) -> InputError:
        """The same problem as the one-line bad-input error (`file:line: field: message`)."""
        return InputError(self.source, self.message, line=self.line, field=self.field)

    def one_line(self) -> str:
        """`file:line: field: message`, as an `InputError` renders it."""
        return self.as_input_error().one_line()

    def listing(self) -> str:
        """`file:line: severity: field: message`: one line of a problem list."""
        location = self.source if self.line is None else f"{self.source}:{self.line}"
        field = f"{self.field}: " if self.field else ""
        return f"{location}: {self.severity}: {field}" + " ".join(self.message.split())

    def as_error(self) -> Problem:
        """This problem at error severity (what `--strict` makes of a warning)."""
        return Problem(self.source, self.message, self.line, self.field, Severity.ERROR)

    @classmethod
    def from_input_error(cls, error: InputError, severity: Severity = Severity.ERROR) -> Problem:
        """An `InputError` (the fatal path's type) as a problem of a list."""
        return cls(error.source, error.message, error.line, error.field, severity)


def warning(
    source: str | Path, message: str, *, line: int | None = None, field: str | None = None
) -> Problem:
    """A warning-level problem."""
    return Problem(str(source), message, line, field, Severity.WARNING)


def error(
    source: str | Path, message: str, *, line: int | None = None, field: str | None = None
) -> Problem:
    """An error-level problem."""
    return Problem(str(source), message, line, field, Severity.ERROR)


def skipped(problem: Problem) -> Problem:
    """An invalid skill's error as the warning `--skip-invalid-skills` turns it into."""
    if not problem.is_error:
        return problem
    return warning(
        problem.source,
        f"skipped (--skip-invalid-skills): {problem.message}",
        line=problem.line,
        field=problem.field,
    )


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """` (did you mean 'x'?)` when `word` is a near typo of a known word, else ''."""
    matches = get_close_matches(word, list(known), n=1, cutoff=0.75)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def blocking(problems: Iterable[Problem], *, strict: bool) -> list[Problem]:
    """The problems that stop a command: errors, and warnings too when `strict`."""
    return [p.as_error() if strict else p for p in problems if strict or p.is_error]


def count_text(problems: Sequence[Problem]) -> str:
    """`3 problems (2 errors, 1 warning)`."""
    errors = sum(problem.is_error for problem in problems)
    warnings = len(problems) - errors
    noun = "problem" if len(problems) == 1 else "problems"
    parts = [
        f"{errors} error{'' if errors == 1 else 's'}",
        f"{warnings} warning{'' if warnings == 1 else 's'}",
    ]
    return f"{len(problems)} {noun} ({', '.join(parts)})"


class ProblemsError(InputError):
    """Bad input made of several problems: the CLI lists them all, then one summary line.

    One problem renders exactly as an `InputError` of its own would.
    """

    def __init__(self, problems: Sequence[Problem], *, strict: bool = False) -> None:
        if not problems:
            raise ValueError("ProblemsError needs at least one problem")
        self.problems = tuple(problems)
        self.strict = strict
        first = next((p for p in self.problems if p.is_error), self.problems[0])
        if len(self.problems) == 1:
            super().__init__(first.source, first.message, line=first.line, field=first.field)
        else:
            why = " (--strict: warnings count as errors)" if strict else ""
            super().__init__(first.source, f"{count_text(self.problems)}, listed above{why}")

    def detail_lines(self) -> list[str]:
        """The listing printed before the summary line (nothing for a single problem)."""
        if len(self.problems) == 1:
            return []
        return [problem.listing() for problem in self.problems]


def raise_for_problems(problems: Sequence[Problem], *, strict: bool = False) -> None:
    """Raise `ProblemsError` with every problem when an error (or, `strict`, any warning)
    is among them; otherwise return, leaving the warnings to the caller to print."""
    if blocking(problems, strict=strict):
        shown = [p.as_error() if strict else p for p in problems]
        raise ProblemsError(shown, strict=strict)
