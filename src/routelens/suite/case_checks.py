"""Checks of one golden-set case beyond its types: unknown keys, NUL characters, and cases
that are valid but probably not what their author meant (warnings)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from routelens.suite.models import (
    VERDICT_ACTIONS,
    Case,
    Category,
    CommandPattern,
    ContextMessage,
    WorkflowStep,
)
from routelens.suite.problems import Problem, did_you_mean, error, warning
from routelens.suite.yaml_lines import LocatedYaml, Path_, format_path

CUSTOM_KEY_PREFIX = "x-"
# the keys of the models nested in a case, by the case key that holds a list of them
NESTED_KEYS = {
    "workflow": tuple(WorkflowStep.model_fields),
    "expected_commands": tuple(CommandPattern.model_fields),
    "context": tuple(ContextMessage.model_fields),
}


def _unknown_key_warning(
    key: Any, known: Sequence[str], path: Path_, located: LocatedYaml, source: str
) -> Problem:
    shown = str(key)
    return warning(
        source,
        f"unknown key {shown!r}{did_you_mean(shown, known)}; ignored (known: "
        f"{', '.join(known)}; prefix your own keys with '{CUSTOM_KEY_PREFIX}')",
        line=located.line_of(path),
        field=format_path(path),
    )


def strip_unknown_keys(
    raw: dict[Any, Any], base: Path_, located: LocatedYaml, source: str, known: Sequence[str]
) -> tuple[dict[Any, Any], list[Problem]]:
    """The case without unknown keys (each a warning) and without `x-` keys (silently).

    Lists of steps, command patterns and context messages are cleaned the same way.
    """
    problems: list[Problem] = []
    cleaned: dict[Any, Any] = {}
    for key, value in raw.items():
        if isinstance(key, str) and key.startswith(CUSTOM_KEY_PREFIX):
            continue
        if key not in known:
            problems.append(_unknown_key_warning(key, known, (*base, str(key)), located, source))
            continue
        nested = NESTED_KEYS.get(key)
        if nested is not None and isinstance(value, list):
            value = [
                _strip_item(item, nested, (*base, key, index), located, source, problems)
                for index, item in enumerate(value)
            ]
        cleaned[key] = value
    return cleaned, problems


def _strip_item(
    item: Any,
    known: Sequence[str],
    path: Path_,
    located: LocatedYaml,
    source: str,
    problems: list[Problem],
) -> Any:
    if not isinstance(item, dict):
        return item
    kept = {}
    for key, value in item.items():
        if isinstance(key, str) and key.startswith(CUSTOM_KEY_PREFIX):
            continue
        if key not in known:
            problems.append(_unknown_key_warning(key, known, (*path, str(key)), located, source))
            continue
        kept[key] = value
    return kept


def _strings(value: Any, path: Path_, inside: frozenset[int]) -> Iterator[tuple[Path_, str]]:
    if isinstance(value, str):
        yield path, value
        return
    if id(value) in inside:
        return  # a YAML alias that contains itself: storing it fails later, with its own error
    inside = inside | {id(value)}
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, (*path, str(key)), inside)
            yield from _strings(item, (*path, str(key)), inside)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index), inside)


def string_problems(
    case: dict[Any, Any], base: Path_, located: LocatedYaml, source: str
) -> list[Problem]:
    """An error for each text of the case holding a NUL character (from a `\\0` or `\\x00`
    escape): no model is sent it faithfully, and PostgreSQL cannot store it."""
    return [
        error(
            source,
            "contains a NUL character (a \\0 escape); remove it",
            line=located.line_of(path),
            field=format_path(path),
        )
        for path, text in _strings(case, base, frozenset())
        if "\x00" in text
    ]


def case_warnings(case: Case, base: Path_, located: LocatedYaml, source: str) -> list[Problem]:
    """Valid cases that probably do not say what their author meant."""
    problems: list[Problem] = []

    def add(message: str, key: str) -> None:
        path = (*base, key)
        problems.append(
            warning(source, message, line=located.line_of(path), field=format_path(path))
        )

    if case.action is not None and case.action not in VERDICT_ACTIONS:
        add(
            f"action {case.action!r}{did_you_mean(case.action, VERDICT_ACTIONS)} has no "
            f"verdict rule (known: {', '.join(VERDICT_ACTIONS)}); kept as a note",
            "action",
        )
    if case.skip_reason is not None and not case.skip:
        add("skip_reason without skip: true; the case runs", "skip_reason")
    if case.skip and not case.skip_reason:
        add("skipped without a skip_reason; reports will not say why", "skip")
    if case.category is Category.WORKFLOW and not case.workflow and case.expected_skill is None:
        add("a workflow case without steps passes only when the router asks", "category")
    if (
        case.category is Category.NEGATIVE
        and case.not_skill is None
        and case.expected_skill is None
        and case.action is None
    ):
        add("a negative case with neither not_skill nor expected_skill passes always", "category")
    return problems
