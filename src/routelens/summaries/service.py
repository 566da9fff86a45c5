"""Summaries on demand: from the cache, from a model (checked), or offline; never blocking a page.

`SummaryService.write` asks the model and waits (the CLI). `SummaryService.summary_for`
answers at once: the cached text when there is one, else the offline text marked
`pending` while a background thread asks the model; the next call finds the answer in the
cache. A model answer is used only when every number in it is a fact
(`summaries.numbers.check_numbers`); otherwise, and whenever there is no key, the API fails
or `offline` is set, the offline text stands, with the reason.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from routelens.errors import InputError
from routelens.routers.base import RouterError
from routelens.summaries.cache import CachedSummary, SummaryCache
from routelens.summaries.facts import SummaryFacts, display_facts, facts_dict, facts_hash
from routelens.summaries.numbers import check_numbers
from routelens.summaries.offline import offline_summary
from routelens.summaries.writer import (
    SUMMARY_INSTRUCTIONS,
    SUMMARY_MAX_TOKENS,
    RouterChoice,
    TextWriter,
    make_writer,
    summary_prompt,
)

SummarySource = Literal["llm", "offline", "pending"]
FAILURE_COOLDOWN_S = 300.0
"""After an API failure, the page does not ask again for the same facts for this long."""

WriterFactory = Callable[[RouterChoice, "str | None", Mapping[str, Any]], TextWriter]


@dataclass(frozen=True)
class SummarySettings:
    """Which router and model write summaries, and where they are cached."""

    router: RouterChoice = RouterChoice.ANTHROPIC
    model: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    offline: bool = False
    cache_dir: Path | None = None

    @property
    def writer_key(self) -> str:
        """`router:model`, the second half of the cache key."""
        return f"{self.router}:{self.model or 'default'}"


@dataclass(frozen=True)
class Summary:
    """A summary's text, where it came from, and why the offline text was used if it was."""

    text: str
    source: SummarySource
    writer: str | None
    facts_hash: str
    reason: str | None = None


def summary_dict(summary: Summary, facts: SummaryFacts) -> dict[str, Any]:
    """The object `routelens summarize --json` prints (docs/summaries.md has the shape)."""
    return {
        "text": summary.text,
        "source": summary.source,
        "writer": summary.writer,
        "reason": summary.reason,
        "facts_hash": summary.facts_hash,
        "facts": facts_dict(facts),
    }


def _from_cache(cached: CachedSummary, facts: SummaryFacts, key: str) -> Summary:
    if cached.accepted:
        return Summary(cached.text, "llm", cached.writer, key)
    numbers = ", ".join(cached.unsupported) or "none"
    reason = f"the model's summary stated numbers that are not facts ({numbers})"
    return Summary(offline_summary(facts), "offline", cached.writer, key, reason)


class SummaryService:
    """Writes, checks and caches summaries; one per web server or command.

    >>> service = SummaryService(SummarySettings(router=RouterChoice.ANTHROPIC))  # doctest: +SKIP
    >>> service.summary_for(facts)  # doctest: +SKIP
    """

    def __init__(
        self,
        settings: SummarySettings | None = None,
        *,
        cache: SummaryCache | None = None,
        writer_factory: WriterFactory = make_writer,
        failure_cooldown_s: float = FAILURE_COOLDOWN_S,
    ) -> None:
        self.settings = settings or SummarySettings()
        self.cache = cache or SummaryCache(self.settings.cache_dir)
        self._writer_factory = writer_factory
        self._cooldown_s = failure_cooldown_s
        self._lock = threading.Lock()
        self._running: dict[str, threading.Thread] = {}
        self._failures: dict[str, tuple[float, str]] = {}

    def _settled(self, facts: SummaryFacts, key: str) -> Summary | None:
        """The summary when no model call is needed: offline by choice, or cached."""
        writer = self.settings.writer_key
        if self.settings.offline:
            return Summary(offline_summary(facts), "offline", None, key, "offline requested")
        cached = self.cache.get(key, writer)
        return None if cached is None else _from_cache(cached, facts, key)

    def _writer(self, facts: SummaryFacts, key: str) -> TextWriter | Summary:
        try:
            settings = self.settings
            return self._writer_factory(settings.router, settings.model, settings.options)
        except InputError as error:
            reason = f"no model to ask: {error.message}"
            return Summary(offline_summary(facts), "offline", None, key, reason)

    def write(self, facts: SummaryFacts) -> Summary:
        """The summary, asking the model and waiting for it when it is not cached."""
        key = facts_hash(facts)
        settled = self._settled(facts, key)
        if settled is not None:
            return settled
        writer = self._writer(facts, key)
        if isinstance(writer, Summary):
            return writer
        return self._generate(writer, facts, key)

    def summary_for(self, facts: SummaryFacts) -> Summary:
        """The summary now, without waiting: cached, offline, or offline marked `pending`
        while the model is asked in the background."""
        key = facts_hash(facts)
        settled = self._settled(facts, key)
        if settled is not None:
            return settled
        with self._lock:
            failed = self._failures.get(key)
            if failed is not None and time.monotonic() - failed[0] < self._cooldown_s:
                return Summary(offline_summary(facts), "offline", None, key, failed[1])
            if key in self._running:
                return Summary(offline_summary(facts), "pending", None, key, "being written")
            writer = self._writer(facts, key)
            if isinstance(writer, Summary):
                return writer
            thread = threading.Thread(
                target=self._generate,
                args=(writer, facts, key),
                name=f"routelens-summary-{key[:8]}",
                daemon=True,
            )
            self._running[key] = thread
        thread.start()
        return Summary(offline_summary(facts), "pending", None, key, "being written")

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait for the background summaries; False if some still run after `timeout_s`."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._lock:
            threads = list(self._running.values())
        for thread in threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in threads)

    def _generate(self, writer: TextWriter, facts: SummaryFacts, key: str) -> Summary:
        writer_key = self.settings.writer_key
        try:
            text = asyncio.run(_ask(writer, facts)).strip()
        except Exception as error:  # every failure falls back; the page must keep working
            reason = _failure_reason(error, self.settings.router)
            with self._lock:
                self._failures[key] = (time.monotonic(), reason)
                self._running.pop(key, None)
            return Summary(offline_summary(facts), "offline", writer_key, key, reason)
        check = check_numbers(text, facts_dict(facts))
        unsupported = tuple(mention.text.strip() for mention in check.unsupported)
        accepted = bool(text) and check.accepted
        if not text:
            unsupported = ("an empty answer",)
        cached = CachedSummary(key, writer_key, text, accepted, unsupported)
        self.cache.put(cached)
        with self._lock:
            self._running.pop(key, None)
        return _from_cache(cached, facts, key)


async def _ask(writer: TextWriter, facts: SummaryFacts) -> str:
    try:
        return await writer.write_text(
            SUMMARY_INSTRUCTIONS,
            summary_prompt(display_facts(facts)),
            max_tokens=SUMMARY_MAX_TOKENS,
        )
    finally:
        await writer.aclose()


def _failure_reason(error: Exception, router: RouterChoice) -> str:
    if isinstance(error, RouterError):
        status = f" (HTTP {error.http_status})" if error.http_status else ""
        return f"the {router} call failed: {error.error_type}{status}"
    # other errors may carry request details: only their type is reported
    return f"the {router} call failed: {type(error).__name__}"
