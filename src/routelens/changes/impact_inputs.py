"""Find what `changes impact` measures: the event(s) named, and the nearest run on each side."""

from __future__ import annotations

import shlex
import tempfile
from pathlib import Path, PurePosixPath

from routelens.changes.git_history import repository_root, resolve_commit
from routelens.changes.impact import (
    ChangeImpact,
    ImpactSide,
    MissingSide,
    analyse_impact,
    nearest_run,
)
from routelens.changes.lineage import build_lineages
from routelens.changes.model import StoredChangeEvent
from routelens.errors import InputError
from routelens.store.changes import get_change_event, list_change_events, runs_with_skill_hash
from routelens.store.records import RunRecord
from routelens.store.sqlstore import Store

MIN_COMMIT_PREFIX = 4


def find_events(store: Store, reference: str, repo: Path | None = None) -> list[StoredChangeEvent]:
    """The events `reference` names: an event id, a commit sha (or a prefix of one), or any
    git revision (`HEAD~1`, a tag, a branch) resolved in `repo`."""
    text = reference.strip()
    if text.isdigit():
        found = get_change_event(store, int(text))
        if found is not None:
            return [found]
    if repo is not None and not _is_hex(text):
        resolved = resolve_commit(repository_root(repo), text)
        if resolved is not None:
            text = resolved
    if len(text) < MIN_COMMIT_PREFIX or not _is_hex(text):
        raise InputError(
            "COMMIT|EVENT_ID",
            f"{reference!r} is no recorded event id, nor a commit sha of {MIN_COMMIT_PREFIX}+ "
            "hex digits",
            field="reference",
        )
    events = list_change_events(store, commit_prefix=text)
    if not events:
        raise InputError(
            "COMMIT|EVENT_ID",
            f"no change event for commit {text!r} in {store.display_url}; "
            "run `routelens changes scan` first",
            field="reference",
        )
    if len({e.event.commit_sha for e in events}) > 1:
        raise InputError(
            "COMMIT|EVENT_ID",
            f"{text!r} names several commits; give more digits",
            field="reference",
        )
    return events


def _is_hex(text: str) -> bool:
    return bool(text) and all(c in "0123456789abcdefABCDEF" for c in text)


def _runs_for(store: Store, content_hash: str | None, commit: str | None) -> list[RunRecord]:
    if content_hash is not None:
        return runs_with_skill_hash(store, content_hash)
    # the skill did not exist on this side: runs of that very commit still measure its cases
    return [run for run in store.list_runs() if commit is not None and run.git_commit == commit]


def load_side(store: Store, run: RunRecord | None) -> ImpactSide | None:
    """A run with its skills, cases and attempts (None for no run)."""
    if run is None:
        return None
    return ImpactSide(
        run, store.run_skills(run.run_id), store.run_cases(run.run_id), store.attempts(run.run_id)
    )


def skills_folder_in_repository(event: StoredChangeEvent, template: RunRecord | None) -> str:
    """The skills folder to run, relative to the repository: the other side's, else the one
    holding the changed skill's folder."""
    repository = Path(event.event.repository)
    if template is not None and template.skills_dir:
        try:
            return Path(template.skills_dir).relative_to(repository).as_posix() or "."
        except ValueError:
            pass
    return PurePosixPath(event.event.path).parent.parent.as_posix() or "."


def reproduce_command(
    event: StoredChangeEvent, commit: str, template: RunRecord | None, store_url: str
) -> str:
    """Shell commands that run the suite on the skills of `commit` (through a git worktree)."""
    repository = event.event.repository
    worktree = str(Path(tempfile.gettempdir()) / f"routelens-{commit[:12]}")
    skills = str(PurePosixPath(worktree) / skills_folder_in_repository(event, template))
    run = ["routelens", "run", "--skills", skills]
    run += ["--cases", template.cases_path if template and template.cases_path else "CASES.yaml"]
    run += ["--router", template.router if template else "local"]
    if template is not None and template.model:
        run += ["--model", template.model]
    repeat = template.settings.get("repeat") if template is not None else None
    if isinstance(repeat, int) and repeat > 1:
        run += ["--repeat", str(repeat)]  # the same number of attempts as the other side
    run += ["--store", store_url]
    add = ["git", "-C", repository, "worktree", "add", "--detach", worktree, commit]
    remove = ["git", "-C", repository, "worktree", "remove", worktree]
    return " && ".join(shlex.join(part) for part in (add, run, remove))


def measure_impact(store: Store, stored: StoredChangeEvent, alpha: float = 0.05) -> ChangeImpact:
    """The impact of one event, from the nearest run on each side of it."""
    event = stored.event
    if event.old_hash is not None and event.old_hash == event.new_hash:
        return analyse_impact(stored, None, None, alpha=alpha)  # a rename: same text both sides
    before_run = nearest_run(_runs_for(store, event.old_hash, event.parent_sha), event.committed_at)
    after_run = nearest_run(
        _runs_for(store, event.new_hash, event.commit_sha), event.committed_at, like=before_run
    )
    if before_run is None and after_run is not None:
        before_run = nearest_run(
            _runs_for(store, event.old_hash, event.parent_sha), event.committed_at, like=after_run
        )
    missing: list[MissingSide] = []
    sides = (
        ("before", before_run, event.old_hash, event.parent_sha, after_run),
        ("after", after_run, event.new_hash, event.commit_sha, before_run),
    )
    for name, run, content_hash, commit, other in sides:
        if run is not None:
            continue
        if commit is None:
            missing.append(MissingSide(name, "the skill's first commit has no parent", ""))
            continue
        what = f"hash {content_hash[:12]}" if content_hash else f"commit {commit[:12]}"
        missing.append(
            MissingSide(
                name,
                f"no run tested the skill {name} this change ({what})",
                reproduce_command(stored, commit, other, store.display_url),
            )
        )
    return analyse_impact(
        stored,
        load_side(store, before_run),
        load_side(store, after_run),
        missing=missing,
        alpha=alpha,
        lineage_names=lineage_names(store, stored),
    )


def lineage_names(store: Store, stored: StoredChangeEvent) -> frozenset[str]:
    """Every name the changed skill had across its history (old names, folders)."""
    event = stored.event
    history = [s.event for s in list_change_events(store, repository=event.repository)]
    for lineage in build_lineages(history):
        if any(e.commit_sha == event.commit_sha and e.path == event.path for e in lineage.events):
            return lineage.aliases
    return frozenset()
