"""`build_lineages`: one skill across name changes, renames and folder moves (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from routelens.changes.lineage import build_lineages, folder_of, resolve_lineages
from routelens.changes.model import ChangeEvent, ChangeKind

_COUNTER = iter(range(1, 10_000))


def event(
    kind: ChangeKind,
    path: str,
    skill: str,
    day: int,
    *,
    old_path: str | None = None,
    repository: str = "/repo",
) -> ChangeEvent:
    number = next(_COUNTER)
    return ChangeEvent(
        repository=repository,
        skill=skill,
        kind=kind,
        path=path,
        old_path=old_path,
        commit_sha=f"c{number:04d}",
        parent_sha=None,
        author="a",
        committed_at=datetime(2025, 1, day, tzinfo=UTC),
        message="m",
        old_hash=None if kind is ChangeKind.ADDED else f"h{number - 1}",
        new_hash=None if kind is ChangeKind.DELETED else f"h{number}",
        old_description=None,
        new_description=None,
        description_changed=False,
        lines_added=1,
        lines_removed=0,
    )


OLD = "skills/jira-issue/SKILL.md"
NEW = "plugins/jira/skills/jira-issue/SKILL.md"


def test_a_name_change_and_a_move_git_did_not_follow_stay_one_skill() -> None:
    history = [
        event(ChangeKind.ADDED, OLD, "JIRA Issue Management", 1),
        event(ChangeKind.MODIFIED, OLD, "jira-issue-management", 2),
        # rewritten while moved: git sees a deletion and an addition, not a rename
        event(ChangeKind.DELETED, OLD, "jira-issue-management", 3),
        event(ChangeKind.ADDED, NEW, "jira-issue-management", 3),
        event(ChangeKind.MODIFIED, NEW, "jira-issue-management", 4),
    ]
    [lineage] = build_lineages(history)
    assert lineage.lineage_id == OLD
    assert lineage.name == "jira-issue-management"
    assert lineage.names == ("JIRA Issue Management", "jira-issue-management")
    assert lineage.folders == ("jira-issue",)
    assert lineage.paths == (OLD, NEW)
    assert len(lineage.events) == 5
    for name in ("jira-issue-management", "JIRA Issue Management", "jira-issue", OLD):
        assert resolve_lineages([lineage], name) == [lineage]
    assert resolve_lineages([lineage], "jira-search") == []


def test_renames_git_follows_join_paths_of_different_folders() -> None:
    history = [
        event(ChangeKind.ADDED, "skills/review/SKILL.md", "review", 1),
        event(
            ChangeKind.RENAMED,
            "skills/code-review/SKILL.md",
            "code-review",
            2,
            old_path="skills/review/SKILL.md",
        ),
    ]
    [lineage] = build_lineages(history)
    assert lineage.folders == ("review", "code-review")
    assert lineage.other_names == ("review",)


def test_two_skills_with_one_folder_name_at_the_same_time_stay_apart() -> None:
    first = "plugins/a/skills/search/SKILL.md"
    second = "plugins/b/skills/search/SKILL.md"
    history = [
        event(ChangeKind.ADDED, first, "search-a", 1),
        event(ChangeKind.ADDED, second, "search-b", 2),
        event(ChangeKind.MODIFIED, first, "search-a", 3),
    ]
    lineages = build_lineages(history)
    assert sorted(lineage.name for lineage in lineages) == ["search-a", "search-b"]
    assert len(resolve_lineages(lineages, "search")) == 2


def test_repositories_never_share_a_lineage() -> None:
    history = [
        event(ChangeKind.ADDED, OLD, "jira-issue", 1, repository="/one"),
        event(ChangeKind.ADDED, OLD, "jira-issue", 1, repository="/two"),
    ]
    assert len(build_lineages(history)) == 2


def test_folder_of() -> None:
    assert folder_of("a/b/deploy/SKILL.md") == "deploy"
