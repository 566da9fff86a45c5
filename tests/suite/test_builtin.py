"""Claude Code's bundled skills: route labels and project names that hide one."""

from __future__ import annotations

from pathlib import Path

from routelens.routers.base import RouteResult
from routelens.runner.verdicts import judge
from routelens.store.records import Verdict
from routelens.suite.builtin import (
    builtin_route,
    bundled_name_collisions,
    is_builtin_route,
    route_label,
)
from routelens.suite.models import CaseSuite, SkillSet
from routelens.suite.skills import load_skill_set
from tests.conftest import write_skill

BUNDLED = frozenset({"dataviz", "code-review", "init"})


def test_route_labels(small_skills: SkillSet) -> None:
    assert route_label("issue", small_skills, BUNDLED) == "jira-issue"  # folder → name
    assert route_label("dataviz", small_skills, BUNDLED) == "builtin:dataviz"
    assert route_label("notes", small_skills, BUNDLED, frozenset({"notes"})) == "notes"
    assert route_label("made-up", small_skills, BUNDLED) == "made-up"
    assert route_label(None, small_skills, BUNDLED) is None
    assert builtin_route("builtin:init") == "builtin:init"
    assert is_builtin_route("builtin:init")
    assert not is_builtin_route("jira-issue")
    assert not is_builtin_route(None)


def test_a_project_skill_named_like_a_bundled_one_collides(tmp_path: Path) -> None:
    write_skill(tmp_path, "code-review", "code-review", "Our review rules.")
    write_skill(tmp_path, "charts", "dataviz", "Our charts.")  # the name collides
    write_skill(tmp_path, "deploy", "deploy", "Deploy.")
    skills = load_skill_set(tmp_path)

    collisions = bundled_name_collisions(skills, BUNDLED, "2.1.332")

    assert [(c.skill.name, c.bundled_name) for c in collisions] == [
        ("dataviz", "dataviz"),
        ("code-review", "code-review"),
    ]
    assert "code-review/SKILL.md: name: skill 'code-review'" in collisions[1].message
    assert "Claude Code 2.1.332's bundled skill 'code-review'" in collisions[1].message
    assert bundled_name_collisions(skills, ()) == ()


def test_a_route_to_a_bundled_skill_is_a_wrong_route(
    small_suite: CaseSuite, small_skills: SkillSet
) -> None:
    by_id = {case.id: case for case in small_suite.cases}
    routed = RouteResult(skill="builtin:dataviz")
    skills = small_skills
    assert judge(by_id["C1"], routed, skills).verdict is Verdict.FAIL  # direct: jira-issue
    assert judge(by_id["C4"], routed, skills).verdict is Verdict.FAIL  # expects a question
