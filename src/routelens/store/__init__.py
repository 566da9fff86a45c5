"""The one write path for runs and attempts: SQLite or PostgreSQL, versioned, idempotent."""

from routelens.store.jsonl import export_run_jsonl, import_jsonl
from routelens.store.records import (
    AttemptRecord,
    RunCaseRecord,
    RunRecord,
    RunSkillRecord,
    RunStatus,
    Verdict,
)
from routelens.store.sqlstore import DEFAULT_STORE_URL, ImportSummary, Store, open_store

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
