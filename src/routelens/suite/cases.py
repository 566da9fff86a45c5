"""Load a case file (golden-set YAML or a single-skill trigger eval set) and validate it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from routelens.errors import InputError
from routelens.suite.hashing import canonical_json_hash
from routelens.suite.models import (
    Case,
    CaseSuite,
    Category,
    CommandPattern,
    ContextMessage,
    SkillSet,
    WorkflowStep,
)
from routelens.suite.yaml_lines import LocatedYaml, Path_, format_path, load_located_yaml

TOP_LEVEL_KEYS = frozenset({"version", "name", "description", "tests"})
CASE_KEYS = tuple(Case.model_fields)
# the keys of the models nested in a case, by the case key that holds them
NESTED_KEYS = {
    "workflow": tuple(WorkflowStep.model_fields),
    "expected_commands": tuple(CommandPattern.model_fields),
    "context": tuple(ContextMessage.model_fields),
}


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError(path, "no such case file", field="cases") from None
    except UnicodeDecodeError as error:
        raise InputError(path, f"not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise InputError(path, f"cannot read: {error.strerror}") from None


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


def _describe_error(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required field missing"
    if kind == "extra_forbidden":
        if len(error["loc"]) > 1 and error["loc"][0] in NESTED_KEYS:
            return f"unknown key (known keys: {', '.join(NESTED_KEYS[str(error['loc'][0])])})"
        return f"unknown key (known keys: {', '.join(CASE_KEYS)}; prefix custom keys with 'x-')"
    if kind == "enum":
        allowed = ", ".join(category.value for category in Category)
        return f"unknown category {error['input']!r} (one of: {allowed})"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _case_from_mapping(raw: Any, index: int, located: LocatedYaml, source: str) -> Case:
    base: Path_ = ("tests", index) if ("tests",) in located.lines else (index,)
    if not isinstance(raw, dict):
        raise InputError(
            source,
            f"a case must be a mapping, not {type(raw).__name__}",
            line=located.line_of(base),
            field=format_path(base),
        )
    custom = {key for key in raw if isinstance(key, str) and key.startswith("x-")}
    if "input" not in raw:
        raise InputError(
            source,
            "required field missing",
            line=located.line_of(base),
            field=format_path((*base, "input")),
        )
    try:
        return Case.model_validate({k: v for k, v in raw.items() if k not in custom})
    except ValidationError as validation:
        # A union (`context`) reports one error per member; the one that reaches deepest
        # into the document is about the member the user meant.
        errors = validation.errors()
        depths = [len(_located_path(located, base, error["loc"])) for error in errors]
        first = errors[depths.index(max(depths))]
        path = _located_path(located, base, first["loc"])
        field_path = path if first["type"] != "missing" else (*path, *first["loc"][-1:])
        raise InputError(
            source,
            _describe_error(first),
            line=located.line_of(path),
            field=format_path(field_path),
        ) from None


def _check_skill_names(
    cases: Sequence[Case], skills: SkillSet, located: LocatedYaml, source: str, bases: list[Path_]
) -> tuple[Case, ...]:
    """Every skill a case names must exist; names are rewritten to the front-matter name."""
    resolved: list[Case] = []
    for case, base in zip(cases, bases, strict=True):
        for field_path, name in case.named_skills():
            if skills.resolve(name) is None:
                parts: Path_ = (*base, *_split_field(field_path))
                raise InputError(
                    source,
                    f"unknown skill {name!r} (known: {', '.join(skills.names)})",
                    line=located.line_of(parts),
                    field=format_path(parts),
                )
        resolved.append(_canonical_case(case, skills))
    return tuple(resolved)


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


def _golden_cases(located: LocatedYaml, source: str) -> tuple[list[Any], str | None, str | None]:
    data = located.data
    if isinstance(data, list):
        return data, None, None
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise InputError(
            source,
            f"expected a mapping with 'tests:' or a list of cases, not {kind}",
            line=located.line_of(()),
        )
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise InputError(
                source,
                f"unknown top-level key (known: {', '.join(sorted(TOP_LEVEL_KEYS))})",
                line=located.line_of((key,)),
                field=format_path((str(key),)),
            )
    tests = data.get("tests")
    if not isinstance(tests, list):
        raise InputError(
            source, "must be a list of cases", line=located.line_of(("tests",)), field="tests"
        )
    version = data.get("version")
    if version is not None and not isinstance(version, str | int | float):
        raise InputError(
            source,
            "must be a string or number",
            line=located.line_of(("version",)),
            field="version",
        )
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        raise InputError(source, "must be a string", line=located.line_of(("name",)), field="name")
    return tests, None if version is None else str(version), name


def trigger_evals_to_cases(
    items: list[Any], skill: str, located: LocatedYaml, source: str
) -> list[Case]:
    """`[{"query", "should_trigger"}]` for one skill → direct (true) and negative (false) cases."""
    cases: list[Case] = []
    for index, item in enumerate(items):
        path: Path_ = (index,)
        if not isinstance(item, dict):
            raise InputError(
                source,
                "each item must be an object",
                line=located.line_of(path),
                field=f"[{index}]",
            )
        query, should = item.get("query"), item.get("should_trigger")
        if not isinstance(query, str):
            raise InputError(
                source,
                "must be a string",
                line=located.line_of((*path, "query")),
                field=f"[{index}].query",
            )
        if not isinstance(should, bool):
            raise InputError(
                source,
                "must be true or false",
                line=located.line_of((*path, "should_trigger")),
                field=f"[{index}].should_trigger",
            )
        case_id = f"{skill}-trigger-{index + 1:03d}"
        if should:
            cases.append(
                Case(id=case_id, category=Category.DIRECT, input=query, expected_skill=skill)
            )
        else:
            cases.append(Case(id=case_id, category=Category.NEGATIVE, input=query, not_skill=skill))
    return cases


def _is_trigger_eval(data: Any) -> bool:
    # `any`, so that one item missing `should_trigger` is reported as such, not as a
    # golden-set case without `input`
    return isinstance(data, list) and any(
        isinstance(item, dict) and "should_trigger" in item for item in data
    )


def _locate(text: str, path: Path) -> LocatedYaml:
    source = str(path)
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(source, f"invalid JSON: {error.msg}", line=error.lineno) from None
        except RecursionError:
            raise InputError(source, "invalid JSON: nested too deeply") from None
        except ValueError as error:  # e.g. an integer longer than Python will convert
            raise InputError(source, f"invalid JSON: {error}") from None
        # YAML only supplies the lines: the data is JSON's, since YAML 1.1 reads some JSON
        # differently (a "\ud83d\ude00" escape pair becomes two lone surrogates)
        try:
            return LocatedYaml(data=data, lines=load_located_yaml(text, source).lines)
        except InputError:
            return LocatedYaml(data=data, lines={})
    return load_located_yaml(text, source)


def load_case_suite(
    path: Path, skills: SkillSet | None = None, *, trigger_skill: str | None = None
) -> CaseSuite:
    """Load and validate a case file; with `skills`, every named skill must exist."""
    source = str(path)
    located = _locate(_read_text(path), path)
    version: str | None = None
    name: str | None = None
    if _is_trigger_eval(located.data):
        if trigger_skill is None:
            raise InputError(
                source,
                "a trigger eval set needs the skill it tests (--trigger-skill NAME)",
                line=1,
                field="trigger_skill",
            )
        if skills is not None and skills.resolve(trigger_skill) is None:
            raise InputError(
                source,
                f"unknown skill {trigger_skill!r} (known: {', '.join(skills.names)})",
                field="trigger_skill",
            )
        cases = trigger_evals_to_cases(located.data, trigger_skill, located, source)
        bases: list[Path_] = [(i,) for i in range(len(cases))]
        name = f"{trigger_skill}-triggers"
    else:
        raw_cases, version, name = _golden_cases(located, source)
        cases = [_case_from_mapping(raw, i, located, source) for i, raw in enumerate(raw_cases)]
        prefix: Path_ = ("tests",) if ("tests",) in located.lines else ()
        bases = [(*prefix, i) for i in range(len(cases))]
    if not cases:
        raise InputError(source, "the file holds no cases", line=located.line_of(()), field="tests")
    _check_unique_ids(cases, bases, located, source)
    if skills is not None:
        cases = list(_check_skill_names(cases, skills, located, source, bases))
    definitions = [
        _definition(case, base, located, source) for case, base in zip(cases, bases, strict=True)
    ]
    return CaseSuite(
        path=path,
        name=name or path.stem,
        version=version,
        cases=tuple(cases),
        suite_hash=canonical_json_hash({"version": version, "cases": definitions}),
    )


def _definition(case: Case, base: Path_, located: LocatedYaml, source: str) -> dict[str, Any]:
    """The case as JSON data for the suite hash; what cannot be stored is an `InputError`."""
    try:
        definition = case.model_dump(mode="json", exclude_defaults=True)
        canonical_json_hash(definition)
    except ValueError as error:
        # YAML `!!binary` that is not UTF-8, a self-referencing anchor, or an escape that
        # leaves a lone surrogate ("\ud800"): none of them can be sent to a model or stored
        reason = (
            "contains a lone surrogate escape, which is not text"
            if isinstance(error, UnicodeEncodeError)
            else f"cannot be stored as JSON: {error}"
        )
        raise InputError(
            source, reason, line=located.line_of(base), field=format_path(base)
        ) from None
    return definition


def _check_unique_ids(
    cases: Sequence[Case], bases: list[Path_], located: LocatedYaml, source: str
) -> None:
    seen: dict[str, int | None] = {}
    for case, base in zip(cases, bases, strict=True):
        if case.id in seen:
            first = seen[case.id]
            raise InputError(
                source,
                f"duplicate case id {case.id!r} (first at line {first})",
                line=located.line_of((*base, "id")),
                field=format_path((*base, "id")),
            )
        seen[case.id] = located.line_of((*base, "id"))
