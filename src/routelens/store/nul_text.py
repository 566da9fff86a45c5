"""NUL characters out of stored text: PostgreSQL's text type cannot hold them.

Files are checked before a run (a NUL in a case or a description is a validation error);
what arrives during a run (a response, an error message) is stored with each NUL replaced
by U+FFFD and the attempt flagged (`nul_replaced`), on SQLite and PostgreSQL alike, so a
store's content never depends on its backend and every export imports again.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any, TypeVar

from routelens.store.records import AttemptRecord, RetryEvent

NUL = "\x00"
REPLACEMENT = "\ufffd"
_Record = TypeVar("_Record")


def replace_nul(text: str) -> str:
    """`text` with every NUL replaced by U+FFFD."""
    return text.replace(NUL, REPLACEMENT) if NUL in text else text


def _clean_value(value: Any) -> Any:
    if isinstance(value, str):
        return replace_nul(value)
    if isinstance(value, dict):
        return {_clean_value(key): _clean_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_clean_value(item) for item in value)
    if isinstance(value, RetryEvent):
        return replace(value, error_type=replace_nul(value.error_type))
    return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    if isinstance(value, RetryEvent):
        return NUL in value.error_type
    return False


def record_without_nul(record: _Record) -> tuple[_Record, bool]:
    """A record (any dataclass of the store) with NUL replaced in its text, and whether
    anything was replaced."""
    changes = {
        f.name: _clean_value(value)
        for f in fields(record)  # type: ignore[arg-type]
        if _has_nul(value := getattr(record, f.name))
    }
    if not changes:
        return record, False
    return replace(record, **changes), True  # type: ignore[type-var]


def attempt_without_nul(attempt: AttemptRecord) -> AttemptRecord:
    """The attempt with NUL replaced in its text and `nul_replaced` set when any was."""
    cleaned, replaced = record_without_nul(attempt)
    return replace(cleaned, nul_replaced=True) if replaced else cleaned
