"""Skills and cases checked together in one pass: what `validate` lists and `run` refuses.

Every problem of the skills folder and of the case file is found before anything stops:
the cases are checked even when a skill is invalid (naming that skill is then no extra
error; the skill's own problems say what is wrong with it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from routelens.errors import InputError
from routelens.suite.cases import check_case_file
from routelens.suite.hashing import skills_set_hash
from routelens.suite.models import CaseSuite, SkillSet
from routelens.suite.problems import Problem, error, raise_for_problems, skipped
from routelens.suite.skills import SKILL_FILE_NAME, SkillFolderReport, scan_skills_folder


@dataclass(frozen=True)
class SuiteCheck:
    """The skills folder and case file as checked: the usable skill set (valid skills, with
    any description overrides), the cases (None when absent or in error), every problem."""

    report: SkillFolderReport
    skills: SkillSet | None
    cases: CaseSuite | None
    problems: list[Problem] = field(default_factory=list)


def check_suite(
    skills_dir: Path,
    cases_path: Path | None = None,
    *,
    trigger_skill: str | None = None,
    skip_invalid: bool = False,
    descriptions: Mapping[str, str] | None = None,
) -> SuiteCheck:
    """Check the skills under `skills_dir` and, when given, the case file against them.

    With `skip_invalid`, invalid skills are left out and their errors become warnings.
    `descriptions` replaces descriptions by skill name (`--description SKILL=TEXT`).
    A missing skills folder, or one without any SKILL.md, is an `InputError`.
    """
    report = scan_skills_folder(skills_dir)
    if not report.entries and not report.problems:
        raise InputError(
            skills_dir, f"no {SKILL_FILE_NAME} found in this folder or below", field="skills"
        )
    problems = report.all_problems
    if skip_invalid:
        problems = [skipped(problem) for problem in problems]
    valid = [entry.skill for entry in report.entries if entry.valid and entry.skill]
    left_out = frozenset(
        name
        for entry in report.entries
        if not entry.valid
        for name in (entry.name, entry.path.parent.name)
    )
    skill_set: SkillSet | None = None
    if valid:
        digest = skills_set_hash((skill.name, skill.content_hash) for skill in valid)
        skill_set = SkillSet(skills_dir, tuple(valid), digest)
        try:
            skill_set = skill_set.with_descriptions(descriptions or {})
        except InputError as failure:
            problems.append(Problem.from_input_error(failure))
    else:
        problems.append(error(skills_dir, "no valid skill in this folder", field="skills"))
    suite: CaseSuite | None = None
    if cases_path is not None:
        checked = check_case_file(
            cases_path, skill_set, trigger_skill=trigger_skill, left_out=left_out
        )
        problems += checked.problems
        if checked.suite is not None:
            suite = replace(checked.suite, problems=tuple(checked.problems))
    return SuiteCheck(report, skill_set, suite, problems)


def load_suite(
    skills_dir: Path,
    cases_path: Path | None = None,
    *,
    trigger_skill: str | None = None,
    skip_invalid: bool = False,
    strict: bool = False,
    descriptions: Mapping[str, str] | None = None,
) -> tuple[SkillSet, CaseSuite | None]:
    """`check_suite`, refusing (a `ProblemsError` with every problem) on any error, or on
    any warning when `strict`. The warnings of what loads stay on the skill set and suite."""
    checked = check_suite(
        skills_dir,
        cases_path,
        trigger_skill=trigger_skill,
        skip_invalid=skip_invalid,
        descriptions=descriptions,
    )
    raise_for_problems(checked.problems, strict=strict)
    assert checked.skills is not None
    skill_problems = tuple(checked.report.all_problems)
    if skip_invalid:
        skill_problems = tuple(skipped(problem) for problem in skill_problems)
    skills = replace(checked.skills, problems=skill_problems)
    return skills, checked.cases
