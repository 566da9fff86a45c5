"""Whatever a user writes, the parsers return a result or an InputError, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from routelens.errors import InputError
from routelens.suite.cases import CASE_KEYS, load_case_suite
from routelens.suite.models import Case, CaseSuite, Category, Skill, SkillSet
from routelens.suite.skills import load_skill_set, parse_skill_text

EXAMPLES = settings(max_examples=200, deadline=None)
SKILL_PATH = Path("skills/demo/SKILL.md")
SKILL_NAMES = ("jira-issue-management", "issue", "jira-search")

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from([*SKILL_NAMES, *(category.value for category in Category), "user", ""]),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
        st.fixed_dictionaries(
            {},
            optional={
                "role": st.sampled_from(["user", "assistant", "system"]),
                "content": children,
                "skill": children,
                "pattern": children,
                "pattern_regex": st.sampled_from(["a+", "(", "[x", "\\d{2}"]),
            },
        ),
    ),
    max_leaves=12,
)
case_keys = st.one_of(
    st.sampled_from([*CASE_KEYS, "x-owner", "unknown"]),
    st.text(max_size=8),
    st.integers(),
)
cases = st.one_of(
    st.dictionaries(case_keys, values, max_size=8),
    st.fixed_dictionaries(
        {"id": st.sampled_from(["A", "B", ""]), "input": scalars},
        optional={key: values for key in CASE_KEYS if key not in ("id", "input")},
    ),
    scalars,
)
case_documents = st.one_of(
    st.lists(cases, max_size=4),
    st.fixed_dictionaries(
        {"tests": st.one_of(st.lists(cases, max_size=4), values)},
        optional={
            "version": values,
            "name": values,
            "description": values,
            "owner": values,
        },
    ),
    values,
)
trigger_items = st.one_of(
    st.fixed_dictionaries(
        {"should_trigger": st.one_of(st.booleans(), scalars)},
        optional={"query": scalars, "extra": values},
    ),
    values,
)
# pieces of YAML syntax, shuffled together, reach corners that random text rarely does
yaml_pieces = st.lists(
    st.sampled_from(
        [
            "tests:",
            "\n",
            "\n  ",
            "\n    ",
            "- ",
            ": ",
            "id",
            "input",
            "category",
            "direct",
            "context",
            "role",
            "content",
            "workflow",
            "skill",
            "issue",
            "expected_skill",
            "expected_commands",
            "pattern_regex",
            "&a ",
            "*a",
            "<<",
            "!!binary ",
            "!!set ",
            '"\\ud800"',
            '"\\x07"',
            "[",
            "]",
            "{",
            "}",
            ", ",
            "'",
            '"',
            "#",
            "---",
            "? ",
            "|",
            ">",
            "null",
            "yes",
            "2020-13-40",
            "1e999",
            ".nan",
            "x-",
            "\t",
        ]
    ),
    max_size=40,
).map("".join)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("never-crash")


@pytest.fixture(scope="module")
def skills(workdir: Path) -> SkillSet:
    root = workdir / "skills"
    for folder, name in (("issue", "jira-issue-management"), ("search", "jira-search")):
        path = root / folder / "SKILL.md"
        path.parent.mkdir(parents=True)
        path.write_text(f"---\nname: {name}\ndescription: {name}\n---\n", encoding="utf-8")
    return load_skill_set(root)


def outcome(call: Callable[[], Any], source: str) -> Any:
    """The call's result, or its InputError after checking it is one line naming the file."""
    try:
        return call()
    except InputError as error:
        caught = error
    assert str(caught).startswith(source)
    assert "\n" not in str(caught)
    return caught


def check_skill(text: str) -> None:
    result = outcome(lambda: parse_skill_text(text, SKILL_PATH), str(SKILL_PATH))
    assert isinstance(result, Skill | InputError)
    if isinstance(result, Skill):
        assert result.folder_name == "demo"
        assert result.description


def check_cases(
    path: Path, text: str, skills: SkillSet | None, trigger_skill: str | None = None
) -> None:
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    result = outcome(lambda: load_case_suite(path, skills, trigger_skill=trigger_skill), str(path))
    assert isinstance(result, CaseSuite | InputError)
    if isinstance(result, CaseSuite):
        assert result.cases
        assert all(isinstance(case, Case) for case in result.cases)
        assert len(result.suite_hash) == 64
        if skills is not None:
            named = {name for case in result.cases for _, name in case.named_skills()}
            assert named <= set(skills.names)


@EXAMPLES
@given(st.text())
def test_any_text_as_a_skill_file(text: str) -> None:
    check_skill(text)


@EXAMPLES
@given(st.text(), st.text())
def test_any_text_as_front_matter(front: str, body: str) -> None:
    check_skill(f"---\n{front}\n---\n{body}")


@EXAMPLES
@given(
    st.dictionaries(
        st.one_of(st.sampled_from(["name", "description", "version"]), st.text(max_size=8)),
        values,
        max_size=5,
    )
)
def test_any_mapping_as_front_matter(front: dict[str, Any]) -> None:
    check_skill(f"---\n{yaml.safe_dump(front, allow_unicode=True)}---\nbody\n")


@EXAMPLES
@given(yaml_pieces)
def test_yaml_fragments_as_front_matter(front: str) -> None:
    check_skill(f"---\nname: demo\n{front}\n---\n")


@EXAMPLES
@given(text=st.text(), with_skills=st.booleans())
def test_any_text_as_a_case_file(
    workdir: Path, skills: SkillSet, text: str, with_skills: bool
) -> None:
    check_cases(workdir / "cases.yaml", text, skills if with_skills else None)


@EXAMPLES
@given(text=yaml_pieces, with_skills=st.booleans())
def test_yaml_fragments_as_a_case_file(
    workdir: Path, skills: SkillSet, text: str, with_skills: bool
) -> None:
    check_cases(workdir / "cases.yaml", text, skills if with_skills else None)


@EXAMPLES
@given(document=case_documents, with_skills=st.booleans())
def test_structured_but_wrong_case_documents(
    workdir: Path, skills: SkillSet, document: Any, with_skills: bool
) -> None:
    text = yaml.safe_dump(document, allow_unicode=True)
    check_cases(workdir / "cases.yaml", text, skills if with_skills else None)


@EXAMPLES
@given(text=st.text(), trigger_skill=st.sampled_from([None, "issue", "unknown"]))
def test_any_text_as_a_trigger_eval_file(
    workdir: Path, skills: SkillSet, text: str, trigger_skill: str | None
) -> None:
    check_cases(workdir / "triggers.json", text, skills, trigger_skill)


@EXAMPLES
@given(
    items=st.lists(trigger_items, max_size=5),
    trigger_skill=st.sampled_from([None, "issue", "jira-search", "unknown"]),
    with_skills=st.booleans(),
)
def test_structured_but_wrong_trigger_evals(
    workdir: Path,
    skills: SkillSet,
    items: list[Any],
    trigger_skill: str | None,
    with_skills: bool,
) -> None:
    text = json.dumps(items, ensure_ascii=False)
    check_cases(workdir / "triggers.json", text, skills if with_skills else None, trigger_skill)
