"""Summaries kept on disk per (facts hash, writer), never in the store (it may be read-only).

One JSON file per key under the cache folder: `ROUTELENS_SUMMARY_CACHE` when set, else
`.routelens/summaries/` under the working directory (beside the default store). A file
records what the model answered and whether the number check accepted it, so the same
facts never cost a second request. Files are written whole (temporary file, then rename).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

CACHE_VARIABLE = "ROUTELENS_SUMMARY_CACHE"
DEFAULT_CACHE_DIR = Path(".routelens") / "summaries"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def default_cache_dir() -> Path:
    """`ROUTELENS_SUMMARY_CACHE`, else `.routelens/summaries` under the working directory."""
    configured = os.environ.get(CACHE_VARIABLE)
    return Path(configured) if configured else DEFAULT_CACHE_DIR


@dataclass(frozen=True)
class CachedSummary:
    """What a writer answered for some facts: the text and the check's verdict.

    `accepted` False keeps the answer that failed the number check (`unsupported` lists
    the numbers no fact supports), so the offline text is used without asking again.
    """

    facts_hash: str
    writer: str
    text: str
    accepted: bool
    unsupported: tuple[str, ...] = ()


class SummaryCache:
    """A folder of cached summaries.

    >>> cache = SummaryCache(Path(".routelens/summaries"))  # doctest: +SKIP
    >>> cache.get(facts_hash, "anthropic:claude-sonnet-4-6")  # doctest: +SKIP
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_cache_dir()

    def path_for(self, facts_hash: str, writer: str) -> Path:
        """The file of one (facts, writer) pair."""
        return self.directory / f"{facts_hash[:32]}-{_UNSAFE.sub('_', writer)}.json"

    def get(self, facts_hash: str, writer: str) -> CachedSummary | None:
        """The cached summary, or None (also for a file that cannot be read)."""
        try:
            data = json.loads(self.path_for(facts_hash, writer).read_text(encoding="utf-8"))
            cached = CachedSummary(
                facts_hash=str(data["facts_hash"]),
                writer=str(data["writer"]),
                text=str(data["text"]),
                accepted=bool(data["accepted"]),
                unsupported=tuple(str(item) for item in data.get("unsupported", ())),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return cached if (cached.facts_hash, cached.writer) == (facts_hash, writer) else None

    def put(self, summary: CachedSummary) -> None:
        """Write one summary (replacing any older one for the same key)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.path_for(summary.facts_hash, summary.writer)
        payload = json.dumps(asdict(summary), indent=2, sort_keys=True) + "\n"
        descriptor, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(payload)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
