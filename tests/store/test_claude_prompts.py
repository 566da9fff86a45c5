"""Captured Claude Code prompts in the store, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from routelens.store import Store
from routelens.store.claude_prompts import (
    StoredClaudePrompt,
    find_claude_prompt,
    latest_bundled_skills,
    list_claude_prompts,
    save_claude_prompt,
)
from tests.store.conftest import T0


def _prompt(
    template_hash: str, model: str, hours: int, version: str = "2.1.332"
) -> StoredClaudePrompt:
    return StoredClaudePrompt(
        template_hash=template_hash,
        claude_code_version=version,
        model=model,
        skills_hash="s" * 64,
        bundled_skills=("dataviz", "code-review"),
        template={"format": 1, "body": {"messages": [{"role": "user", "content": "é"}]}},
        captured_at=T0 + timedelta(hours=hours),
    )


def test_a_prompt_is_stored_once_and_read_back_whole(store: Store) -> None:
    prompt = _prompt("a" * 64, "claude-sonnet-4-5", 0)
    assert save_claude_prompt(store, prompt) is True
    assert save_claude_prompt(store, prompt) is False  # idempotent on the hash
    assert list_claude_prompts(store) == [prompt]


def test_find_takes_the_newest_matching_hash_prefix_or_model(store: Store) -> None:
    older = _prompt("ab" + "0" * 62, "claude-sonnet-4-5", 0, version="2.1.300")
    newer = _prompt("cd" + "0" * 62, "claude-opus-5-5", 1)
    for prompt in (older, newer):
        save_claude_prompt(store, prompt)

    assert find_claude_prompt(store) == newer
    assert find_claude_prompt(store, model="claude-sonnet-4-5") == older
    assert find_claude_prompt(store, hash_prefix="AB") == older
    assert find_claude_prompt(store, hash_prefix="ab", model="claude-opus-5-5") is None
    assert find_claude_prompt(store, hash_prefix="%") is None  # a prefix, not a pattern
    assert [p.template_hash for p in list_claude_prompts(store)] == [
        newer.template_hash,
        older.template_hash,
    ]
    assert latest_bundled_skills(store) == ("2.1.332", ("dataviz", "code-review"))


def test_an_empty_store_knows_no_bundled_skills(store: Store) -> None:
    assert latest_bundled_skills(store) == (None, ())
