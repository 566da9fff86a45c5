"""Content hashes: one per SKILL.md, one per skills set, one per case suite."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any


def normalise_skill_text(text: str) -> str:
    """Drop what does not change meaning: BOM, CRLF, trailing spaces, trailing blank lines."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).rstrip("\n") + "\n"


def skill_content_hash(text: str) -> str:
    """sha256 (hex) of the normalised SKILL.md text."""
    return hashlib.sha256(normalise_skill_text(text).encode("utf-8")).hexdigest()


def skills_set_hash(named_hashes: Iterable[tuple[str, str]]) -> str:
    """sha256 over `name<TAB>hash` lines sorted by name: changes when any skill changes."""
    lines = sorted(f"{name}\t{digest}" for name, digest in named_hashes)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def canonical_json_hash(value: Any) -> str:
    """sha256 of the canonical JSON of `value` (sorted keys, no spaces)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def input_hash(text: str) -> str:
    """A short stable hash of a case input, for grouping without storing text in labels."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
