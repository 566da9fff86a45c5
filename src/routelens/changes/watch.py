"""`changes watch`: poll a repository for new commits and record their SKILL.md changes.

Polling is the plan's default when no git webhook exists (Q4). Each poll reads HEAD; when it
moved, the commits since the last HEAD seen are scanned (all history on the first poll, or
after a rewrite that dropped the old HEAD) and recorded. Recording is idempotent.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from routelens.changes.git_history import head_commit, is_ancestor, repository_root
from routelens.changes.model import ChangeEvent
from routelens.changes.scan import scan_commits
from routelens.errors import InputError
from routelens.store.changes import record_change_events
from routelens.store.sqlstore import Store

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$")
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0}


def parse_interval(text: str) -> timedelta:
    """`60s`, `5m`, `1h` or plain seconds → a timedelta; InputError naming `--interval`."""
    match = _INTERVAL.match(text)
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"] if match else 0.0
    if seconds <= 0:
        raise InputError(
            "--interval", f"{text!r} is not an interval like 60s, 5m or 1h", field="interval"
        )
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class PollResult:
    """One poll: the HEAD seen, the events found since the previous HEAD, how many were new."""

    head: str | None
    events: list[ChangeEvent]
    added: int


class RepositoryWatcher:
    """Polls one repository into one store; `poll()` once, or `watch()` until told to stop.

    >>> watcher = RepositoryWatcher(Path("."), store)  # doctest: +SKIP
    >>> watcher.watch(timedelta(seconds=60), should_stop=lambda n: n >= 10)  # doctest: +SKIP
    """

    def __init__(self, folder: Path, store: Store) -> None:
        """Watch the repository holding `folder` (InputError: no repository, or shallow)."""
        self.root = repository_root(folder)
        self.store = store
        self.last_head: str | None = None

    def poll(self) -> PollResult:
        """Scan what is new since the last poll and record it."""
        head = head_commit(self.root)
        if head is None or head == self.last_head:
            return PollResult(head, [], 0)
        since = self.last_head
        if since is not None and not is_ancestor(self.root, since, head):
            since = None  # history was rewritten: rescan it all (recording skips the known)
        events = scan_commits(self.root, since_commit=since)
        added = len(record_change_events(self.store, events))
        self.last_head = head
        return PollResult(head, events, added)

    def watch(
        self,
        interval: timedelta,
        should_stop: Callable[[int], bool],
        *,
        on_poll: Callable[[PollResult], None] = lambda result: None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> int:
        """Poll every `interval` until `should_stop(polls done)` is true; returns events added."""
        polls = added = 0
        while not should_stop(polls):
            if polls:
                sleep(interval.total_seconds())
            result = self.poll()
            polls += 1
            added += result.added
            on_poll(result)
        return added
