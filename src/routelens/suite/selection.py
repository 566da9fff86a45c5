"""Run part of a suite: the cases named by id, category or tag (`run --case/--category/--tag`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from difflib import get_close_matches

from routelens.errors import InputError
from routelens.suite.hashing import canonical_json_hash
from routelens.suite.models import Case, CaseSuite, Category


@dataclass(frozen=True)
class CaseSelection:
    """Which cases to run: a case matches when it is named by any given id, category or tag.

    An empty selection selects every case.
    """

    case_ids: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.case_ids or self.categories or self.tags)

    def as_dict(self) -> dict[str, list[str]]:
        """The selection as stored with a run's settings."""
        return {
            "case": list(self.case_ids),
            "category": list(self.categories),
            "tag": list(self.tags),
        }

    def matches(self, case: Case) -> bool:
        """Whether `case` is selected."""
        return (
            case.id in self.case_ids
            or case.category.value in self.categories
            or bool(set(case.tags) & set(self.tags))
        )


def _check_named(
    wanted: Sequence[str], known: Sequence[str], flag: str, source: str, what: str
) -> None:
    for name in wanted:
        if name not in known:
            close = get_close_matches(name, known, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise InputError(source, f"no {what} {name!r} in the suite{hint}", field=flag)


def select_cases(suite: CaseSuite, selection: CaseSelection) -> CaseSuite:
    """The suite narrowed to `selection`, with its own suite hash (it is a different suite).

    A name that matches nothing is an InputError: a typo must not run an empty or wrong subset.
    """
    if not selection:
        return suite
    source = str(suite.path)
    _check_named(selection.case_ids, [c.id for c in suite.cases], "case", source, "case")
    _check_named(selection.categories, [c.value for c in Category], "category", source, "category")
    tags = sorted({tag for case in suite.cases for tag in case.tags})
    _check_named(selection.tags, tags, "tag", source, "tag")
    cases = tuple(case for case in suite.cases if selection.matches(case))
    if not cases:
        raise InputError(source, "the selection matches no case", field="category")
    definitions = [case.model_dump(mode="json", exclude_defaults=True) for case in cases]
    digest = canonical_json_hash(
        {"version": suite.version, "cases": definitions, "selection": selection.as_dict()}
    )
    return replace(suite, cases=cases, suite_hash=digest)
