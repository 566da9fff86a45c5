"""Read SKILL.md history with the `git` command: commits, their file changes, and blobs.

One `git log` lists every commit touching a SKILL.md (any depth, renames detected with -M)
with its raw changes (blob ids) and line counts; one `git cat-file --batch` reads the blobs.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from routelens.errors import InputError
from routelens.suite.skill_files import SKILL_FILE_NAME, SKIPPED_FOLDERS

SKILL_PATHSPEC = f":(glob)**/{SKILL_FILE_NAME}"
"""Every SKILL.md at any depth, the repository root included."""

_GIT_TIMEOUT_S = 120
_NULL_BLOB = "0" * 40
_RECORD_SEPARATOR = "\x1e"
_HEADER_FIELDS = 6  # sha, parents, author name, author email, committer date, message
_LOG_FORMAT = f"{_RECORD_SEPARATOR}%H%x00%P%x00%an%x00%ae%x00%cI%x00%B%x00"
_NUMSTAT = re.compile(r"^(\d+|-)\t(\d+|-)\t(.*)$", re.DOTALL)


@dataclass(frozen=True)
class FileChange:
    """One SKILL.md in one commit's diff against its first parent, from `git log --raw`."""

    status: str  # A, M, R, D or T (git's letter, without the rename score)
    path: str  # the path after the commit (before it, for a deletion)
    old_path: str | None
    old_blob: str | None
    new_blob: str | None
    lines_added: int = 0
    lines_removed: int = 0


@dataclass(frozen=True)
class CommitChanges:
    """A commit and the SKILL.md files it changed."""

    sha: str
    parents: tuple[str, ...]
    author: str
    committed_at: datetime
    message: str
    changes: tuple[FileChange, ...] = field(default=())


def run_git(
    repo: Path, *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run `git -C repo args...`; InputError when git cannot be started."""
    try:
        return subprocess.run(
            ["git", "-C", str(repo), *args],
            input=stdin,
            capture_output=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise InputError(repo, f"cannot run git: {error}", field="repo") from None


def _git_text(repo: Path, *args: str) -> str:
    completed = run_git(repo, *args)
    if completed.returncode != 0:
        reason = completed.stderr.decode(errors="replace").strip().splitlines()
        raise InputError(repo, f"git {args[0]} failed: {reason[-1] if reason else '?'}")
    return completed.stdout.decode("utf-8", errors="replace")


def repository_root(folder: Path) -> Path:
    """The top folder of the repository holding `folder`; InputError if there is none,
    or if it is a shallow clone (its history, and so its events, would be incomplete)."""
    if not folder.exists():
        raise InputError(folder, "no such folder", field="repo")
    completed = run_git(folder, "rev-parse", "--show-toplevel", "--is-shallow-repository")
    if completed.returncode != 0:
        raise InputError(folder, "not a git repository (or git is not installed)", field="repo")
    top, shallow = completed.stdout.decode().strip().splitlines()[:2]
    root = Path(top)
    if shallow.strip() == "true":
        raise InputError(
            root,
            "shallow clone: SKILL.md history is incomplete; run `git fetch --unshallow` "
            "(in CI: fetch-depth: 0) and scan again",
            field="repo",
        )
    return root


def resolve_commit(repo: Path, ref: str) -> str | None:
    """The full sha `ref` names in `repo`, or None (a ref starting with '-' is refused)."""
    if ref.startswith("-"):
        return None
    completed = run_git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return completed.stdout.decode().strip() if completed.returncode == 0 else None


def head_commit(repo: Path) -> str | None:
    """The commit HEAD points at, or None in a repository without commits."""
    return resolve_commit(repo, "HEAD")


def is_ancestor(repo: Path, ancestor: str, descendant: str) -> bool:
    """Whether `ancestor` is reachable from `descendant`."""
    return run_git(repo, "merge-base", "--is-ancestor", ancestor, descendant).returncode == 0


def ancestry_order(repo: Path, commits: Sequence[str]) -> list[str] | None:
    """`commits` in git ancestry order (an ancestor before its descendants), with one
    `git rev-list`; commits the repository does not know are left out. None when `repo`
    is no git repository."""
    completed = run_git(repo, "rev-parse", "--git-dir")
    if completed.returncode != 0 or not commits:
        return None if completed.returncode != 0 else []
    wanted = set(commits)
    listed = run_git(
        repo, "rev-list", "--topo-order", "--reverse", "--ignore-missing", "--stdin",
        stdin="".join(f"{commit}\n" for commit in sorted(wanted)).encode(),
    )  # fmt: skip
    if listed.returncode != 0:
        return []
    return [sha for sha in listed.stdout.decode().split() if sha in wanted]


def is_skill_path(path: str) -> bool:
    """A SKILL.md outside the folders skill discovery skips (.git, node_modules, .venv, ...)."""
    parts = PurePosixPath(path).parts
    return bool(parts) and parts[-1] == SKILL_FILE_NAME and not SKIPPED_FOLDERS & set(parts[:-1])


def log_skill_commits(
    repo: Path, *, since_date: datetime | None = None, since_commit: str | None = None
) -> list[CommitChanges]:
    """Commits reachable from HEAD that touched a SKILL.md, oldest first, with their changes.

    `since_commit` keeps only commits after it (`since_commit..HEAD`); `since_date` only
    commits made at or after it. Merge commits bring no changes of their own.
    """
    if head_commit(repo) is None:
        return []
    revision = f"{since_commit}..HEAD" if since_commit else "HEAD"
    args = ["log", "--topo-order", "--reverse", "-M", "--raw", "--numstat", "--no-abbrev", "-z"]
    args += [f"--format={_LOG_FORMAT}"]
    if since_date is not None:
        args.append(f"--since={since_date.isoformat()}")
    output = _git_text(repo, *args, revision, "--", SKILL_PATHSPEC)
    commits = [parse_log_record(record) for record in output.split(_RECORD_SEPARATOR) if record]
    return [
        CommitChanges(
            c.sha,
            c.parents,
            c.author,
            c.committed_at,
            c.message,
            tuple(change for change in c.changes if is_skill_path(change.path)),
        )
        for c in commits
    ]


def parse_log_record(record: str) -> CommitChanges:
    """One commit of `log_skill_commits`'s `git log -z --raw --numstat` output."""
    header = record.split("\0", _HEADER_FIELDS)
    sha, parents, name, email, date, message = header[:_HEADER_FIELDS]
    rest = header[_HEADER_FIELDS] if len(header) > _HEADER_FIELDS else ""
    author = f"{name} <{email}>" if email else name
    return CommitChanges(
        sha=sha,
        parents=tuple(parents.split()),
        author=author,
        committed_at=datetime.fromisoformat(date),
        message=message.strip(),
        changes=tuple(_parse_changes(rest.split("\0"))),
    )


def _parse_changes(tokens: Sequence[str]) -> list[FileChange]:
    raw: list[FileChange] = []
    counts: dict[str, tuple[int, int]] = {}
    position = 0
    while position < len(tokens):
        token = tokens[position].lstrip("\n")
        position += 1
        if token.startswith(":"):
            _, _, old_blob, new_blob, status = token[1:].split(" ")[:5]
            letter = status[0]
            if letter in "RC":
                old_path, path = tokens[position], tokens[position + 1]
                position += 2
            else:
                old_path, path = None, tokens[position]
                position += 1
            raw.append(
                FileChange(
                    status="R" if letter in "RC" else letter,
                    path=path,
                    old_path=old_path,
                    old_blob=None if old_blob == _NULL_BLOB else old_blob,
                    new_blob=None if new_blob == _NULL_BLOB else new_blob,
                )
            )
        elif match := _NUMSTAT.match(token):
            added, removed, path = match.groups()
            if not path:  # a rename: the old and the new path follow
                path = tokens[position + 1]
                position += 2
            counts[path] = (_count(added), _count(removed))
    return [
        FileChange(
            c.status, c.path, c.old_path, c.old_blob, c.new_blob, *counts.get(c.path, (0, 0))
        )
        for c in raw
    ]


def _count(text: str) -> int:
    return 0 if text == "-" else int(text)  # "-": a binary file


def read_blobs(repo: Path, blob_ids: Iterable[str]) -> dict[str, bytes]:
    """The contents of these blobs, by id, read by one `git cat-file --batch`."""
    wanted = sorted(set(blob_ids))
    if not wanted:
        return {}
    completed = run_git(
        repo, "cat-file", "--batch", stdin="".join(f"{b}\n" for b in wanted).encode()
    )
    if completed.returncode != 0:
        raise InputError(repo, "git cat-file failed: " + completed.stderr.decode(errors="replace"))
    blobs: dict[str, bytes] = {}
    output, offset = completed.stdout, 0
    for blob_id in wanted:
        end = output.index(b"\n", offset)
        header = output[offset:end].decode().split()
        offset = end + 1
        if len(header) < 3:  # "<id> missing"
            continue
        size = int(header[2])
        blobs[blob_id] = output[offset : offset + size]
        offset += size + 1
    return blobs


def skill_files_at(repo: Path, commit: str) -> dict[str, str]:
    """Every SKILL.md path at `commit` with its blob id."""
    output = _git_text(repo, "ls-tree", "-r", "-z", "--full-tree", commit)
    files: dict[str, str] = {}
    for entry in output.split("\0"):
        meta, _, path = entry.partition("\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == "blob" and is_skill_path(path):
            files[path] = parts[2]
    return files
