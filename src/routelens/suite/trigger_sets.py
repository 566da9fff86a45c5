"""Single-skill trigger eval sets (`[{"query": ..., "should_trigger": ...}]`) as cases.

`should_trigger: true` becomes a `direct` case expecting the skill, `false` a `negative`
case with `not_skill` the skill; ids are `SKILL-trigger-001`, ... in file order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from routelens.suite.models import Case, Category
from routelens.suite.problems import Problem, did_you_mean, error, warning
from routelens.suite.yaml_lines import LocatedYaml, Path_

TRIGGER_KEYS = ("query", "should_trigger")


@dataclass
class TriggerCases:
    """The cases of a trigger eval set, each with its item index, and the problems found."""

    cases: list[tuple[int, Case]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def is_trigger_eval(data: Any) -> bool:
    """Whether parsed file content is a trigger eval set."""
    # `any`, so that one item missing `should_trigger` is reported as such, not as a
    # golden-set case without `input`
    return isinstance(data, list) and any(
        isinstance(item, dict) and "should_trigger" in item for item in data
    )


def trigger_evals_to_cases(
    items: list[Any], skill: str, located: LocatedYaml, source: str
) -> TriggerCases:
    """Every item as a case; each bad item a problem (the others still load)."""
    result = TriggerCases()
    for index, item in enumerate(items):
        path: Path_ = (index,)
        if not isinstance(item, dict):
            result.problems.append(
                error(
                    source,
                    "each item must be an object",
                    line=located.line_of(path),
                    field=f"[{index}]",
                )
            )
            continue
        for key in item:
            if key not in TRIGGER_KEYS:
                result.problems.append(
                    warning(
                        source,
                        f"unknown key {key!r}{did_you_mean(str(key), TRIGGER_KEYS)}; ignored",
                        line=located.line_of((*path, key)),
                        field=f"[{index}].{key}",
                    )
                )
        query, should = item.get("query"), item.get("should_trigger")
        bad = False
        if not isinstance(query, str):
            bad = True
            result.problems.append(
                error(
                    source,
                    "must be a string",
                    line=located.line_of((*path, "query")),
                    field=f"[{index}].query",
                )
            )
        elif "\x00" in query:
            bad = True
            result.problems.append(
                error(
                    source,
                    "contains a NUL character",
                    line=located.line_of((*path, "query")),
                    field=f"[{index}].query",
                )
            )
        if not isinstance(should, bool):
            bad = True
            result.problems.append(
                error(
                    source,
                    "must be true or false",
                    line=located.line_of((*path, "should_trigger")),
                    field=f"[{index}].should_trigger",
                )
            )
        if bad:
            continue
        assert isinstance(query, str)
        case_id = f"{skill}-trigger-{index + 1:03d}"
        if should:
            case = Case(id=case_id, category=Category.DIRECT, input=query, expected_skill=skill)
        else:
            case = Case(id=case_id, category=Category.NEGATIVE, input=query, not_skill=skill)
        result.cases.append((index, case))
    return result
