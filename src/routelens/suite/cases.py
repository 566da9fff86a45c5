"""Load a case file (golden-set YAML or a single-skill trigger eval set) and validate it.

Every problem of the file is found in one pass (`check_case_file`): each case is checked on
its own, so one bad case does not hide the next. Unknown keys are warnings naming the key
(with a "did you mean" for near typos), since teams keep their own notes in their golden
sets; `--strict` turns warnings into errors.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from routelens.errors import InputError
from routelens.suite.builtin import is_builtin_route
from routelens.suite.case_checks import case_warnings, string_problems, strip_unknown_keys
from routelens.suite.hashing import canonical_json_hash
from routelens.suite.models import Case, CaseSuite, Category, SkillSet
from routelens.suite.problems import (
    Problem,
    did_you_mean,
    error,
    raise_for_problems,
    warning,
)
from routelens.suite.trigger_sets import is_trigger_eval, trigger_evals_to_cases
from routelens.suite.yaml_lines import LocatedYaml, Path_, format_path, load_located_yaml

__all__ = ["CaseFileCheck", "check_case_file", "load_case_suite", "trigger_evals_to_cases"]

TOP_LEVEL_KEYS = frozenset({"version", "name", "description", "tests"})
CASE_KEYS = tuple(Case.model_fields)


@dataclass(frozen=True)
class CaseFileCheck:
    """A case file checked in full: the suite (None when no case could be read at all or an
    error was found) and every problem, in file order."""

    suite: CaseSuite | None
    problems: list[Problem] = field(default_factory=list)


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError(path, "no such case file", field="cases") from None
    except IsADirectoryError:
        raise InputError(path, "a folder, not a case file", field="cases") from None
    except UnicodeDecodeError as failure:
        raise InputError(path, f"not UTF-8 text (byte {failure.start})") from None
    except OSError as failure:
        raise InputError(path, f"cannot read: {failure.strerror}") from None


def _located_path(located: LocatedYaml, base: Path_, loc: Sequence[int | str]) -> Path_:
    """The longest prefix of a pydantic error location that exists in the document."""
    path: Path_ = base
    for part in loc:
        candidate = (*path, part)
        if candidate not in located.lines:
            # pydantic adds union member names to locations; skip them, keep the real keys
            continue
        path = candidate
    return path


def _describe_error(details: ErrorDetails) -> str:
    kind = details["type"]
    if kind == "missing":
        return "required field missing"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "enum":
        allowed = ", ".join(category.value for category in Category)
        hint = did_you_mean(str(details["input"]), [c.value for c in Category])
        return f"unknown category {details['input']!r}{hint} (one of: {allowed})"
    message = str(details["msg"])
    return message.removeprefix("Value error, ")


def _validation_problems(
    validation: ValidationError, base: Path_, located: LocatedYaml, source: str
) -> list[Problem]:
    """One problem per field of the case; where a union (`context`) reports one error per
    member, the one reaching deepest into the document is about the member the user meant."""
    deepest: dict[str, tuple[int, ErrorDetails, Path_]] = {}
    for details in validation.errors():
        path = _located_path(located, base, details["loc"])
        key = str(details["loc"][0]) if details["loc"] else ""
        depth = len(path)
        if key not in deepest or depth > deepest[key][0]:
            deepest[key] = (depth, details, path)
    problems = []
    for _, details, path in deepest.values():
        field_path = path if details["type"] != "missing" else (*path, *details["loc"][-1:])
        problems.append(
            error(
                source,
                _describe_error(details),
                line=located.line_of(path),
                field=format_path(field_path),
            )
        )
    return problems


def _case_from_mapping(
    raw: Any, base: Path_, located: LocatedYaml, source: str
) -> tuple[Case | None, list[Problem]]:
    if not isinstance(raw, dict):
        problem = error(
            source,
            f"a case must be a mapping, not {type(raw).__name__}",
            line=located.line_of(base),
            field=format_path(base),
        )
        return None, [problem]
    cleaned, problems = strip_unknown_keys(raw, base, located, source, CASE_KEYS)
    problems += string_problems(cleaned, base, located, source)
    try:
        case = Case.model_validate(cleaned)
    except ValidationError as validation:
        return None, problems + _validation_problems(validation, base, located, source)
    if any(problem.is_error for problem in problems):
        return None, problems
    return case, problems + case_warnings(case, base, located, source)


def _skill_name_problems(
    case: Case,
    skills: SkillSet,
    base: Path_,
    located: LocatedYaml,
    source: str,
    left_out: frozenset[str],
) -> list[Problem]:
    """Every skill a case names must exist (a skill left out as invalid: a warning)."""
    problems = []
    for field_path, name in case.named_skills():
        # `builtin:<name>`: one of Claude Code's own skills, which no skills folder holds
        if skills.resolve(name) is None and not is_builtin_route(name):
            parts: Path_ = (*base, *_split_field(field_path))
            if name in left_out:
                problems.append(
                    warning(
                        source,
                        f"names {name!r}, an invalid skill left out of the run",
                        line=located.line_of(parts),
                        field=format_path(parts),
                    )
                )
                continue
            hint = did_you_mean(name, [a for s in skills.skills for a in sorted(s.aliases)])
            problems.append(
                error(
                    source,
                    f"unknown skill {name!r}{hint} (known: {', '.join(skills.names)})",
                    line=located.line_of(parts),
                    field=format_path(parts),
                )
            )
    return problems


def _split_field(field_path: str) -> Path_:
    parts: list[str | int] = []
    for piece in field_path.replace("]", "").replace("[", ".").split("."):
        parts.append(int(piece) if piece.isdigit() else piece)
    return tuple(parts)


def _canonical_case(case: Case, skills: SkillSet) -> Case:
    def canon(name: str) -> str:
        return skills.canonical(name) or name

    return case.model_copy(
        update={
            "expected_skill": skills.canonical(case.expected_skill),
            "alternate_skills": tuple(canon(s) for s in case.alternate_skills),
            "not_skill": skills.canonical(case.not_skill),
            "disambiguation_options": tuple(canon(s) for s in case.disambiguation_options),
            "workflow": tuple(
                step.model_copy(update={"skill": canon(step.skill)}) for step in case.workflow
            ),
        }
    )


@dataclass(frozen=True)
class _GoldenHeader:
    tests: list[Any]
    version: str | None
    name: str | None
    problems: list[Problem]


def _golden_header(located: LocatedYaml, source: str) -> _GoldenHeader:
    data = located.data
    if isinstance(data, list):
        return _GoldenHeader(data, None, None, [])
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise InputError(
            source,
            f"expected a mapping with 'tests:' or a list of cases, not {kind}",
            line=located.line_of(()),
        )
    problems: list[Problem] = []
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            problems.append(
                warning(
                    source,
                    f"unknown top-level key {key!r}{did_you_mean(str(key), TOP_LEVEL_KEYS)}; "
                    f"ignored (known: {', '.join(sorted(TOP_LEVEL_KEYS))})",
                    line=located.line_of((key,)),
                    field=format_path((str(key),)),
                )
            )
    tests = data.get("tests")
    if not isinstance(tests, list):
        raise InputError(
            source, "must be a list of cases", line=located.line_of(("tests",)), field="tests"
        )
    version = data.get("version")
    if version is not None and not isinstance(version, str | int | float):
        problems.append(
            error(
                source,
                "must be a string or number",
                line=located.line_of(("version",)),
                field="version",
            )
        )
        version = None
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        problems.append(
            error(source, "must be a string", line=located.line_of(("name",)), field="name")
        )
        name = None
    return _GoldenHeader(tests, None if version is None else str(version), name, problems)


def _locate(text: str, path: Path) -> LocatedYaml:
    source = str(path)
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as failure:
            raise InputError(source, f"invalid JSON: {failure.msg}", line=failure.lineno) from None
        except RecursionError:
            raise InputError(source, "invalid JSON: nested too deeply") from None
        except ValueError as failure:  # e.g. an integer longer than Python will convert
            raise InputError(source, f"invalid JSON: {failure}") from None
        # YAML only supplies the lines: the data is JSON's, since YAML 1.1 reads some JSON
        # differently (a "\ud83d\ude00" escape pair becomes two lone surrogates)
        try:
            return LocatedYaml(data=data, lines=load_located_yaml(text, source).lines)
        except InputError:
            return LocatedYaml(data=data, lines={})
    return load_located_yaml(text, source)


def check_case_file(
    path: Path,
    skills: SkillSet | None = None,
    *,
    trigger_skill: str | None = None,
    left_out: frozenset[str] = frozenset(),
) -> CaseFileCheck:
    """Check a case file in full; with `skills`, every named skill must exist, except the
    names in `left_out` (skills that are there but invalid: their own problems say why).

    Only a file that cannot be read as a whole (missing, not UTF-8, not YAML, no case list)
    raises an `InputError`; everything else is a problem of the result.
    """
    source = str(path)
    located = _locate(_read_text(path), path)
    version: str | None = None
    name: str | None = None
    problems: list[Problem] = []
    checked: list[tuple[Case | None, Path_]] = []
    if is_trigger_eval(located.data):
        if trigger_skill is None:
            raise InputError(
                source,
                "a trigger eval set needs the skill it tests (--trigger-skill NAME)",
                line=1,
                field="trigger_skill",
            )
        if (
            skills is not None
            and skills.resolve(trigger_skill) is None
            and trigger_skill not in left_out
        ):
            raise InputError(
                source,
                f"unknown skill {trigger_skill!r}{did_you_mean(trigger_skill, skills.names)} "
                f"(known: {', '.join(skills.names)})",
                field="trigger_skill",
            )
        trigger = trigger_evals_to_cases(located.data, trigger_skill, located, source)
        problems += trigger.problems
        checked = [(case, (index,)) for index, case in trigger.cases]
        name = f"{trigger_skill}-triggers"
    else:
        if trigger_skill is not None:
            problems.append(
                error(
                    source,
                    f"--trigger-skill {trigger_skill} is only for a trigger eval set (a JSON "
                    "list of {query, should_trigger}); this is a golden set",
                    field="trigger_skill",
                )
            )
        header = _golden_header(located, source)
        problems += header.problems
        version, name = header.version, header.name
        prefix: Path_ = ("tests",) if ("tests",) in located.lines else ()
        for index, raw in enumerate(header.tests):
            base: Path_ = (*prefix, index)
            case, found = _case_from_mapping(raw, base, located, source)
            problems += found
            checked.append((case, base))
    if not checked:
        raise InputError(source, "the file holds no cases", line=located.line_of(()), field="tests")
    problems += _duplicate_id_problems(checked, located, source)
    cases: list[Case] = []
    bases: list[Path_] = []
    for case, base in checked:
        if case is None:
            continue
        if skills is not None:
            found = _skill_name_problems(case, skills, base, located, source, left_out)
            problems += found
            case = _canonical_case(case, skills)
        cases.append(case)
        bases.append(base)
    problems.sort(key=lambda problem: problem.line or 0)
    if any(problem.is_error for problem in problems):
        return CaseFileCheck(None, problems)
    definitions = []
    for case, base in zip(cases, bases, strict=True):
        definition, stored = _definition(case, base, located, source)
        if stored is not None:
            return CaseFileCheck(None, [*problems, stored])
        definitions.append(definition)
    suite = CaseSuite(
        path=path,
        name=name or path.stem,
        version=version,
        cases=tuple(cases),
        suite_hash=canonical_json_hash({"version": version, "cases": definitions}),
        trigger_skill=trigger_skill if is_trigger_eval(located.data) else None,
        case_lines={
            case.id: line
            for case, base in zip(cases, bases, strict=True)
            if (line := located.line_of(base)) is not None
        },
    )
    return CaseFileCheck(suite, problems)


def load_case_suite(
    path: Path,
    skills: SkillSet | None = None,
    *,
    trigger_skill: str | None = None,
    strict: bool = False,
) -> CaseSuite:
    """Load and validate a case file; with `skills`, every named skill must exist.

    Errors (and warnings too, when `strict`) raise a `ProblemsError` holding every problem
    of the file; the warnings of a file that loads are kept in `CaseSuite.problems`.
    """
    checked = check_case_file(path, skills, trigger_skill=trigger_skill)
    raise_for_problems(checked.problems, strict=strict)
    assert checked.suite is not None
    return replace(checked.suite, problems=tuple(checked.problems))


def _definition(
    case: Case, base: Path_, located: LocatedYaml, source: str
) -> tuple[dict[str, Any], Problem | None]:
    """The case as JSON data for the suite hash, or the problem that keeps it from storage."""
    try:
        definition = case.model_dump(mode="json", exclude_defaults=True)
        canonical_json_hash(definition)
    except ValueError as failure:
        # YAML `!!binary` that is not UTF-8, a self-referencing anchor, or an escape that
        # leaves a lone surrogate ("\ud800"): none of them can be sent to a model or stored
        reason = (
            "contains a lone surrogate escape, which is not text"
            if isinstance(failure, UnicodeEncodeError)
            else f"cannot be stored as JSON: {failure}"
        )
        return {}, error(source, reason, line=located.line_of(base), field=format_path(base))
    return definition, None


def _duplicate_id_problems(
    checked: Sequence[tuple[Case | None, Path_]], located: LocatedYaml, source: str
) -> list[Problem]:
    seen: dict[str, int | None] = {}
    problems = []
    for case, base in checked:
        if case is None:
            continue
        line = located.line_of((*base, "id"))
        if case.id in seen:
            problems.append(
                error(
                    source,
                    f"duplicate case id {case.id!r} (first at line {seen[case.id]})",
                    line=line,
                    field=format_path((*base, "id")),
                )
            )
            continue
        seen[case.id] = line
    return problems
