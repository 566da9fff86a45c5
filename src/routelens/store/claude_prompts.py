"""Captured Claude Code request templates in the store: the idempotent write and the reads.

A template is stored as JSON with what finding it needs (version, model, bundled skills);
what it means is `routelens.routers.claude_code_prompt`'s business.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, select
from sqlalchemy.dialects import postgresql, sqlite

from routelens.store import schema
from routelens.store.sqlstore import Store

_table = schema.claude_prompts


@dataclass(frozen=True)
class StoredClaudePrompt:
    """One captured template as the store keeps it."""

    template_hash: str
    claude_code_version: str
    model: str
    skills_hash: str
    bundled_skills: tuple[str, ...]
    template: Mapping[str, Any]
    captured_at: datetime


def _from_row(row: RowMapping) -> StoredClaudePrompt:
    return StoredClaudePrompt(
        template_hash=row["template_hash"],
        claude_code_version=row["claude_code_version"],
        model=row["model"],
        skills_hash=row["skills_hash"],
        bundled_skills=tuple(row["bundled_skills"]),
        template=dict(row["template"]),
        captured_at=row["captured_at"],
    )


def save_claude_prompt(store: Store, prompt: StoredClaudePrompt) -> bool:
    """Store a template unless one with its hash is there; True when it was added."""
    row = {
        "template_hash": prompt.template_hash,
        "claude_code_version": prompt.claude_code_version,
        "model": prompt.model,
        "skills_hash": prompt.skills_hash,
        "bundled_skills": list(prompt.bundled_skills),
        "template": dict(prompt.template),
        "captured_at": prompt.captured_at,
    }
    dialect = store.engine.dialect.name
    insert = postgresql.insert(_table) if dialect == "postgresql" else sqlite.insert(_table)
    statement = insert.on_conflict_do_nothing(index_elements=[_table.c.template_hash]).returning(
        _table.c.template_hash
    )
    with store._write() as connection:  # the Store's one write path
        return connection.execute(statement, row).first() is not None


def list_claude_prompts(store: Store) -> list[StoredClaudePrompt]:
    """Every stored template, newest capture first."""
    statement = select(_table).order_by(_table.c.captured_at.desc(), _table.c.template_hash)
    with store.engine.connect() as connection:
        return [_from_row(row) for row in connection.execute(statement).mappings()]


def find_claude_prompt(
    store: Store, *, hash_prefix: str | None = None, model: str | None = None
) -> StoredClaudePrompt | None:
    """The newest template whose hash starts with `hash_prefix` and (if given) is for `model`."""
    statement = select(_table).order_by(_table.c.captured_at.desc(), _table.c.template_hash)
    if hash_prefix is not None:
        statement = statement.where(
            _table.c.template_hash.startswith(hash_prefix.lower(), autoescape=True)
        )
    if model is not None:
        statement = statement.where(_table.c.model == model)
    with store.engine.connect() as connection:
        row = connection.execute(statement.limit(1)).mappings().first()
    return None if row is None else _from_row(row)


def latest_bundled_skills(store: Store) -> tuple[str | None, Sequence[str]]:
    """The Claude Code version of the newest capture and the bundled skills it listed."""
    newest = find_claude_prompt(store)
    if newest is None:
        return None, ()
    return newest.claude_code_version, newest.bundled_skills
