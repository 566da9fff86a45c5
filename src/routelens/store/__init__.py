"""The one write path for runs and attempts: SQLite or PostgreSQL, versioned, idempotent.

Names load on first use, so importing a light module of this package (`store.records`,
`store.urls`) does not pull SQLAlchemy into a command that only prints its `--help`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from routelens.store.urls import DEFAULT_STORE_URL

if TYPE_CHECKING:
    from routelens.store.jsonl import export_run_jsonl, import_jsonl
    from routelens.store.merge import ImportSummary
    from routelens.store.records import (
        AttemptRecord,
        RunCaseRecord,
        RunRecord,
        RunSkillRecord,
        RunStatus,
        Verdict,
    )
    from routelens.store.sqlstore import Store, open_store

_EXPORTS: dict[str, str] = {
    "AttemptRecord": "routelens.store.records",
    "ImportSummary": "routelens.store.merge",
    "RunCaseRecord": "routelens.store.records",
    "RunRecord": "routelens.store.records",
    "RunSkillRecord": "routelens.store.records",
    "RunStatus": "routelens.store.records",
    "Store": "routelens.store.sqlstore",
    "Verdict": "routelens.store.records",
    "export_run_jsonl": "routelens.store.jsonl",
    "import_jsonl": "routelens.store.jsonl",
    "open_store": "routelens.store.sqlstore",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'routelens.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_STORE_URL",
    "AttemptRecord",
    "ImportSummary",
    "RunCaseRecord",
    "RunRecord",
    "RunSkillRecord",
    "RunStatus",
    "Store",
    "Verdict",
    "export_run_jsonl",
    "import_jsonl",
    "open_store",
]
