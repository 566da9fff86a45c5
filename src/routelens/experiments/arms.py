"""An arm's skills on disk: a folder as it is, or a commit's skills folder unpacked from git.

A git arm is unpacked with `git archive <commit> -- <skills path>` into a temporary folder
(no worktree, no checkout, nothing in the repository changes) and removed afterwards.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from routelens.errors import InputError
from routelens.experiments.model import ArmKind, ArmSpec
from routelens.suite.models import SkillSet
from routelens.suite.skills import load_skill_set

DEFAULT_SKILLS_PATH = "skills"
_GIT_TIMEOUT_S = 60


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise InputError(repo, f"cannot run git: {error}", field="repo") from None


def repository_root(folder: Path) -> Path | None:
    """The top folder of the git repository holding `folder`, or None."""
    completed = _git(folder, "rev-parse", "--show-toplevel")
    if completed.returncode != 0:
        return None
    return Path(completed.stdout.decode().strip())


def default_skills_path(control: str, repo: Path | None) -> str:
    """Where the skills live in the repository: the control folder's place in it, else `skills`."""
    folder = Path(control)
    if repo is not None and folder.is_dir():
        try:
            relative = folder.resolve().relative_to(repo.resolve())
        except ValueError:
            return DEFAULT_SKILLS_PATH
        return relative.as_posix() or "."
    return DEFAULT_SKILLS_PATH


def resolve_commit(repo: Path, ref: str) -> str | None:
    """The commit `ref` (commit, branch, tag, `HEAD~1`, ...) names in `repo`, or None."""
    if ref.startswith("-"):
        return None  # never let a ref be read as a git option
    completed = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return completed.stdout.decode().strip() if completed.returncode == 0 else None


def describe_arm_input(value: str, *, repo: Path | None, skills_path: str, flag: str) -> ArmSpec:
    """An arm from a flag value: an existing folder wins, else a git ref of `repo`.

    The spec's skills hash is left empty; `validate_arm` fills it by loading the skills.
    """
    folder = Path(value)
    if folder.is_dir():
        return ArmSpec(ArmKind.FOLDER, str(folder.resolve()), skills_hash="")
    if repo is None:
        raise InputError(
            flag,
            f"{value!r} is not a folder, and there is no git repository to read it as a ref "
            "from (pass --repo)",
            field=flag.removeprefix("--"),
        )
    commit = resolve_commit(repo, value)
    if commit is None:
        raise InputError(
            flag,
            f"{value!r} is neither a folder nor a commit, branch or tag of {repo}",
            field=flag.removeprefix("--"),
        )
    path = PurePosixPath(skills_path)
    if path.is_absolute() or ".." in path.parts:
        raise InputError("--skills-path", f"{skills_path!r} must be a path inside the repository")
    return ArmSpec(
        ArmKind.GIT,
        value,
        skills_hash="",
        repo=str(repo.resolve()),
        skills_path=path.as_posix(),
        commit=commit,
    )


@contextmanager
def materialised(arm: ArmSpec) -> Iterator[Path]:
    """The arm's skills folder on disk for the duration of the block."""
    if arm.kind is ArmKind.FOLDER:
        yield Path(arm.source)
        return
    assert arm.repo is not None
    assert arm.commit is not None
    assert arm.skills_path is not None
    repo = Path(arm.repo)
    archive = _git(repo, "archive", "--format=tar", arm.commit, "--", arm.skills_path)
    if archive.returncode != 0:
        reason = archive.stderr.decode(errors="replace").strip() or "git archive failed"
        raise InputError(
            f"{arm.source}:{arm.skills_path}",
            f"cannot read the skills at {arm.commit[:12]}: {reason}",
            field="skills_path",
        )
    with tempfile.TemporaryDirectory(prefix="routelens-arm-") as temporary:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            # The "data" filter refuses absolute paths, links out of the folder and devices.
            tar.extractall(temporary, filter="data")
        yield Path(temporary) / arm.skills_path


def load_arm_skills(arm: ArmSpec, root: Path) -> SkillSet:
    """Load an arm's materialised skills; InputError when they changed since creation."""
    skills = load_skill_set(root).with_descriptions(arm.descriptions)
    if arm.skills_hash and skills.skills_hash != arm.skills_hash:
        raise InputError(
            arm.describe(),
            f"skills changed since the experiment was created (skills hash "
            f"{arm.skills_hash[:12]} → {skills.skills_hash[:12]}); create a new experiment",
            field="skills_hash",
        )
    return skills
