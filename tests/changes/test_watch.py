"""`RepositoryWatcher`: polling a real repository records new events as commits appear."""

from __future__ import annotations

from datetime import timedelta

import pytest

from routelens.changes.watch import PollResult, RepositoryWatcher, parse_interval
from routelens.errors import InputError
from routelens.store import Store
from routelens.store.changes import list_change_events
from tests.changes.history import DEPLOY_V1, GitRepo, skill_text


def test_polls_record_history_then_only_new_commits(repo: GitRepo, store: Store) -> None:
    watcher = RepositoryWatcher(repo.root / "skills", store)
    first = watcher.poll()
    assert (first.head, first.added, len(first.events)) == (repo.commits["two-skills"], 9, 9)
    assert watcher.poll().events == []
    repo.write("skills/deploy/SKILL.md", DEPLOY_V1)
    sha = repo.commit("restore-deploy", "Bring deploy back")
    third = watcher.poll()
    assert [(e.commit_sha, e.skill, str(e.kind)) for e in third.events] == [
        (sha, "deploy", "added")
    ]
    assert third.added == 1
    assert len(list_change_events(store)) == 10


def test_a_rewritten_history_is_rescanned(repo: GitRepo, store: Store) -> None:
    watcher = RepositoryWatcher(repo.root, store)
    watcher.poll()
    repo.git("reset", "-q", "--hard", repo.commits["add-lint"])
    repo.write("skills/ship/SKILL.md", skill_text("ship", "Ship a release."))
    sha = repo.commit("ship", "Add ship")
    result = watcher.poll()
    assert result.added == 1
    assert [e.commit_sha for e in result.events if e.skill == "ship"] == [sha]


def test_watch_sleeps_between_polls_until_told_to_stop(repo: GitRepo, store: Store) -> None:
    watcher = RepositoryWatcher(repo.root, store)
    sleeps: list[float] = []
    polls: list[PollResult] = []
    added = watcher.watch(
        timedelta(seconds=30),
        lambda done: done >= 3,
        on_poll=polls.append,
        sleep=sleeps.append,
    )
    assert (added, len(polls), sleeps) == (9, 3, [30.0, 30.0])


@pytest.mark.parametrize(
    ("text", "seconds"), [("60s", 60), ("5m", 300), ("1h", 3600), ("2.5", 2.5)]
)
def test_parse_interval(text: str, seconds: float) -> None:
    assert parse_interval(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "0s", "soon", "-1m", "5d"])
def test_bad_intervals_are_input_errors(text: str) -> None:
    with pytest.raises(InputError, match="--interval"):
        parse_interval(text)
