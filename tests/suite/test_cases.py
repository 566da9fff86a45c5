"""Tests for routelens.suite.cases: golden-set YAML, bare lists and trigger eval sets."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from routelens.errors import InputError
from routelens.suite.cases import CASE_KEYS, check_case_file, load_case_suite
from routelens.suite.models import Category, CommandPattern, ContextMessage, SkillSet, WorkflowStep
from routelens.suite.problems import ProblemsError, Severity
from routelens.suite.skills import load_skill_set

# folder -> front-matter name: `issue` and `search` differ, `jira-lifecycle` does not
SKILLS = {
    "issue": "jira-issue-management",
    "search": "jira-search-jql",
    "jira-lifecycle": "jira-lifecycle",
}

GOLDEN = """\
# a comment
name: small
version: "1.0"
tests:
  - id: C1
    category: direct
    input: create a bug for the login crash
    expected_skill: issue
    alternate_skills: [jira-lifecycle, search]
    expected_commands:
      - pattern: jira issue create
      - pattern_regex: "--type\\\\s+Bug"
    certainty: high
    tags: [smoke]
  - id: C2
    category: negative
    input: move TES-1 to Done
    expected_skill: jira-lifecycle
    not_skill: issue
  - id: C3
    category: disambiguation
    input: show me the sprint
    expected_skill: null
    disambiguation_options: [search, jira-search-jql]
  - id: C4
    category: workflow
    input: create a bug and move it to In Progress
    workflow:
      - skill: issue
        action: create
      - skill: jira-lifecycle
  - id: C5
    category: context
    input: and close it
    context:
      project: TES
      issue: TES-9
  - id: C6
    category: context
    input: do that again
    context:
      - role: user
        content: move TES-1 to Done
      - role: assistant
        content: Done.
    x-owner: qa-team
  - id: C7
    category: edge
    input: ""
    notes: empty input
    certainty: 0.5
"""


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@pytest.fixture
def skills(tmp_path: Path) -> SkillSet:
    root = tmp_path / "skills"
    for folder, name in SKILLS.items():
        path = root / folder / "SKILL.md"
        path.parent.mkdir(parents=True)
        path.write_text(f"---\nname: {name}\ndescription: {name} things\n---\n", encoding="utf-8")
    return load_skill_set(root)


def write(tmp_path: Path, text: str, name: str = "cases.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path, skills: SkillSet | None = None, **kwargs: str) -> str:
    with pytest.raises(InputError) as caught:
        load_case_suite(path, skills, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------ golden sets


def test_a_golden_set_loads_with_its_name_version_and_cases_in_order(
    tmp_path: Path, skills: SkillSet
) -> None:
    path = write(tmp_path, GOLDEN)
    suite = load_case_suite(path, skills)
    assert suite.path == path
    assert (suite.name, suite.version) == ("small", "1.0")
    assert [case.id for case in suite.cases] == ["C1", "C2", "C3", "C4", "C5", "C6", "C7"]
    assert [case.category for case in suite.cases] == [
        Category.DIRECT,
        Category.NEGATIVE,
        Category.DISAMBIGUATION,
        Category.WORKFLOW,
        Category.CONTEXT,
        Category.CONTEXT,
        Category.EDGE,
    ]
    assert len(suite.suite_hash) == 64


def test_every_skill_name_is_rewritten_to_the_front_matter_name(
    tmp_path: Path, skills: SkillSet
) -> None:
    c1, c2, c3, c4, *_ = load_case_suite(write(tmp_path, GOLDEN), skills).cases
    assert c1.expected_skill == "jira-issue-management"
    assert c1.alternate_skills == ("jira-lifecycle", "jira-search-jql")
    assert c2.not_skill == "jira-issue-management"
    assert c3.expected_skill is None
    assert c3.disambiguation_options == ("jira-search-jql", "jira-search-jql")
    assert c4.workflow == (
        WorkflowStep(skill="jira-issue-management", action="create"),
        WorkflowStep(skill="jira-lifecycle"),
    )


def test_without_skills_names_are_kept_as_written(tmp_path: Path) -> None:
    c1, c2, *_ = load_case_suite(write(tmp_path, GOLDEN)).cases
    assert c1.expected_skill == "issue"
    assert c2.not_skill == "issue"


def test_case_fields_are_parsed_into_their_models(tmp_path: Path) -> None:
    c1, _, _, _, c5, c6, c7 = load_case_suite(write(tmp_path, GOLDEN)).cases
    assert c1.expected_commands == (
        CommandPattern(pattern="jira issue create"),
        CommandPattern(pattern_regex="--type\\s+Bug"),
    )
    assert c1.expected_commands[1].matches("jira issue create --type  Bug")
    assert (c1.certainty, c1.tags) == ("high", ("smoke",))
    assert c5.context_facts == {"project": "TES", "issue": "TES-9"}
    assert c5.context_messages == ()
    assert c6.context_messages == (
        ContextMessage(role="user", content="move TES-1 to Done"),
        ContextMessage(role="assistant", content="Done."),
    )
    assert c6.context_facts == {}
    assert (c7.input, c7.notes, c7.certainty) == ("", "empty input", 0.5)


def test_custom_x_keys_are_accepted_and_left_out_of_the_case(tmp_path: Path) -> None:
    plain = load_case_suite(write(tmp_path, GOLDEN.replace("    x-owner: qa-team\n", "")))
    custom = load_case_suite(write(tmp_path, GOLDEN, "custom.yaml"))
    assert custom.cases == plain.cases
    assert custom.suite_hash == plain.suite_hash


def test_a_bare_list_of_cases_is_a_suite_named_after_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "- id: A\n  category: edge\n  input: hi\n", "smoke.yml")
    suite = load_case_suite(path)
    assert (suite.name, suite.version) == ("smoke", None)
    assert [case.id for case in suite.cases] == ["A"]


def test_a_numeric_version_is_kept_as_text(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 2\ntests:\n  - {id: A, category: edge, input: hi}\n")
    assert load_case_suite(path).version == "2"


def test_merge_keys_share_defaults_between_cases(tmp_path: Path) -> None:
    text = dedent(
        """
        tests:
          - &base {id: A, category: direct, input: hi, expected_skill: search}
          - <<: *base
            id: B
            input: hello
        """
    )
    suite = load_case_suite(write(tmp_path, text))
    assert [(case.id, case.input, case.expected_skill) for case in suite.cases] == [
        ("A", "hi", "search"),
        ("B", "hello", "search"),
    ]


# ------------------------------------------------------------------ golden set errors

ONE_CASE = "tests:\n  - id: A\n    category: direct\n    input: hi\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            ONE_CASE + "  - id: B\n    category: direct\n    input: x\n"
            "  - id: C\n    category: bogus\n    input: y\n",
            "9: tests[2].category: unknown category 'bogus' "
            "(one of: direct, disambiguation, negative, workflow, edge, context)",
        ),
        (
            ONE_CASE + "  - id: B\n    category: direct\n",
            "5: tests[1].input: required field missing",
        ),
        ("tests:\n  - id: A\n    input: hi\n", "2: tests[0].category: required field missing"),
        ("tests:\n  - category: edge\n    input: hi\n", "2: tests[0].id: required field missing"),
        ('tests:\n  - {id: "", category: edge, input: hi}\n', "2: tests[0].id: String should"),
        ("tests:\n  - {id: 7, category: edge, input: hi}\n", "2: tests[0].id: Input should be"),
        ("tests:\n  - {id: A, category: edge, input: [hi]}\n", "2: tests[0].input: Input should"),
        (
            ONE_CASE + "    alternate_skills: search\n",
            "5: tests[0].alternate_skills: Input should be a valid tuple",
        ),
        (ONE_CASE + "    tags: [1]\n", "5: tests[0].tags[0]: Input should be a valid string"),
        (ONE_CASE + "  - just text\n", "5: tests[1]: a case must be a mapping, not str"),
        (ONE_CASE + "  -\n", "5: tests[1]: a case must be a mapping, not NoneType"),
        (ONE_CASE + "    input: again\n", "5: tests[0].input: duplicate key 'input'"),
        (
            ONE_CASE + "    expected_commands:\n      - {pattern: a, pattern_regex: b}\n",
            "6: tests[0].expected_commands[0]: give exactly one of 'pattern' or 'pattern_regex'",
        ),
        (
            ONE_CASE + "    expected_commands:\n      - {}\n",
            "6: tests[0].expected_commands[0]: give exactly one of",
        ),
        (
            ONE_CASE + "    expected_commands:\n      - pattern: ok\n      - pattern_regex: '('\n",
            "7: tests[0].expected_commands[1]: invalid regular expression: missing ),",
        ),
        (
            ONE_CASE + "    workflow:\n      - skill: search\n      - action: close\n",
            "7: tests[0].workflow[1].skill: required field missing",
        ),
        (
            ONE_CASE + "    context:\n      - role: system\n        content: x\n",
            "6: tests[0].context[0].role: Input should be 'user' or 'assistant'",
        ),
        (
            ONE_CASE + "    context:\n      - {role: user, content: a}\n      - {role: user}\n",
            "7: tests[0].context[1].content: required field missing",
        ),
        (
            ONE_CASE + "    context:\n      - role: user\n        content: 3\n",
            "7: tests[0].context[0].content: Input should be a valid string",
        ),
        (ONE_CASE + "    context: 12\n", "5: tests[0].context: Input should be a valid"),
        (ONE_CASE + "    certainty: [1]\n", "5: tests[0].certainty: Input should be a valid"),
    ],
)
def test_invalid_cases_name_the_line_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    assert load_error(path).startswith(f"{path}:{expected}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- {id: A, category: edge, input: hi}\n- {id: B, input: x}\n", "2: [1].category: "),
        ("- {id: A, category: edge, input: hi}\n- {id: B, category: edge}\n", "2: [1].input: "),
        ("- {id: A, category: edge, input: hi}\n- 3\n", "2: [1]: a case must be a mapping"),
    ],
)
def test_errors_in_a_bare_list_name_the_index(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    assert load_error(path).startswith(f"{path}:{expected}")


def test_a_duplicate_case_id_names_both_lines(tmp_path: Path) -> None:
    text = ONE_CASE + "  - id: B\n    category: edge\n    input: x\n" + ONE_CASE[7:]
    path = write(tmp_path, text)
    assert load_error(path) == f"{path}:8: tests[2].id: duplicate case id 'A' (first at line 2)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tests: {id: A}\n", "1: tests: must be a list of cases"),
        ("name: x\n", "1: tests: must be a list of cases"),
        ("tests: []\n", "1: tests: the file holds no cases"),
        ("[]\n", "1: tests: the file holds no cases"),
        ("just text\n", "1: expected a mapping with 'tests:' or a list of cases, not a str"),
        ("name: [x]\n" + ONE_CASE, "1: name: must be a string"),
        ("version: [1]\n" + ONE_CASE, "1: version: must be a string or number"),
        ("tests:\n  - id: A\n    input: 'hi\n", "4: invalid YAML: "),
    ],
)
def test_invalid_files_name_the_line_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    assert load_error(path).startswith(f"{path}:{expected}")


def test_an_empty_file_is_an_input_error(tmp_path: Path) -> None:
    path = write(tmp_path, "# nothing yet\n")
    assert load_error(path) == (
        f"{path}: expected a mapping with 'tests:' or a list of cases, not empty"
    )


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    assert load_error(path) == f"{path}: cases: no such case file"


def test_a_file_that_is_not_utf8_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_bytes(b"tests: \xff\n")
    assert load_error(path) == f"{path}: not UTF-8 text (byte 7)"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('    notes: "\\ud800"\n', "contains a lone surrogate escape, which is not text"),
        ('    context: {log: !!binary "/w=="}\n', "cannot be stored as JSON: 'utf-8' codec"),
        ("    context: &loop {self: *loop}\n", "cannot be stored as JSON: Circular reference"),
    ],
)
def test_values_that_cannot_be_stored_are_input_errors(
    tmp_path: Path, extra: str, expected: str
) -> None:
    path = write(tmp_path, "tests:\n  - id: A\n    category: edge\n    input: hi\n" + extra)
    assert load_error(path).startswith(f"{path}:2: tests[0]: {expected}")


# ------------------------------------------------------------------ skill names


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("    expected_skill: jira-issue\n", "5: tests[0].expected_skill: unknown skill 'jira-"),
        (
            "    alternate_skills:\n      - search\n      - jira-nope\n",
            "7: tests[0].alternate_skills[1]: unknown skill 'jira-nope'",
        ),
        ("    not_skill: nope\n", "5: tests[0].not_skill: unknown skill 'nope'"),
        (
            "    disambiguation_options: [nope, search]\n",
            "5: tests[0].disambiguation_options[0]: unknown skill 'nope'",
        ),
        (
            "    workflow:\n      - skill: issue\n      - skill: deploy\n",
            "7: tests[0].workflow[1].skill: unknown skill 'deploy'",
        ),
    ],
)
def test_an_unknown_skill_anywhere_names_its_line_and_field(
    tmp_path: Path, skills: SkillSet, extra: str, expected: str
) -> None:
    path = write(tmp_path, ONE_CASE + extra)
    assert load_error(path, skills).startswith(f"{path}:{expected}")


def test_the_unknown_skill_message_lists_the_known_names(tmp_path: Path, skills: SkillSet) -> None:
    path = write(tmp_path, ONE_CASE + "    expected_skill: deploy\n")
    assert load_error(path, skills) == (
        f"{path}:5: tests[0].expected_skill: unknown skill 'deploy' "
        "(known: jira-issue-management, jira-lifecycle, jira-search-jql)"
    )


# ------------------------------------------------------------------ trigger evals

TRIGGERS = [
    {"query": "log 2h on TES-8", "should_trigger": True},
    {"query": "move TES-8 to Done", "should_trigger": False},
    {"query": "fill in my timesheet", "should_trigger": True, "notes": "ignored"},
]


def write_triggers(tmp_path: Path, items: object, name: str = "triggers.json") -> Path:
    return write(tmp_path, json.dumps(items, indent=2), name)


def test_a_trigger_eval_set_becomes_direct_and_negative_cases(tmp_path: Path) -> None:
    suite = load_case_suite(write_triggers(tmp_path, TRIGGERS), trigger_skill="jira-worklog")
    assert (suite.name, suite.version) == ("jira-worklog-triggers", None)
    assert [
        (case.id, case.category, case.input, case.expected_skill, case.not_skill)
        for case in suite.cases
    ] == [
        ("jira-worklog-trigger-001", Category.DIRECT, "log 2h on TES-8", "jira-worklog", None),
        ("jira-worklog-trigger-002", Category.NEGATIVE, "move TES-8 to Done", None, "jira-worklog"),
        ("jira-worklog-trigger-003", Category.DIRECT, "fill in my timesheet", "jira-worklog", None),
    ]


def test_the_trigger_skill_may_be_a_folder_name(tmp_path: Path, skills: SkillSet) -> None:
    suite = load_case_suite(write_triggers(tmp_path, TRIGGERS), skills, trigger_skill="issue")
    assert [case.expected_skill for case in suite.cases] == [
        "jira-issue-management",
        None,
        "jira-issue-management",
    ]
    assert suite.cases[1].not_skill == "jira-issue-management"


def test_a_trigger_eval_set_may_be_written_in_yaml(tmp_path: Path) -> None:
    text = "- query: log 2h\n  should_trigger: yes\n- query: hi\n  should_trigger: false\n"
    suite = load_case_suite(write(tmp_path, text), trigger_skill="jira-worklog")
    assert [case.category for case in suite.cases] == [Category.DIRECT, Category.NEGATIVE]


def test_a_trigger_eval_set_needs_a_trigger_skill(tmp_path: Path) -> None:
    path = write_triggers(tmp_path, TRIGGERS)
    assert load_error(path) == (
        f"{path}:1: trigger_skill: a trigger eval set needs the skill it tests "
        "(--trigger-skill NAME)"
    )


def test_an_unknown_trigger_skill_is_named_as_such(tmp_path: Path, skills: SkillSet) -> None:
    path = write_triggers(tmp_path, TRIGGERS)
    assert load_error(path, skills, trigger_skill="jira-worklog") == (
        f"{path}: trigger_skill: unknown skill 'jira-worklog' "
        "(known: jira-issue-management, jira-lifecycle, jira-search-jql)"
    )


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (
            [TRIGGERS[0], {"query": 3, "should_trigger": True}],
            "7: [1].query: must be a string",
        ),
        (
            [TRIGGERS[0], {"should_trigger": True}],
            "6: [1].query: must be a string",
        ),
        (
            [TRIGGERS[0], {"query": "a", "should_trigger": "yes"}],
            "8: [1].should_trigger: must be true or false",
        ),
        (
            [TRIGGERS[0], {"query": "a"}],
            "6: [1].should_trigger: must be true or false",
        ),
        ([TRIGGERS[0], "log time"], "6: [1]: each item must be an object"),
    ],
)
def test_invalid_trigger_items_name_the_line_and_field(
    tmp_path: Path, items: list[object], expected: str
) -> None:
    path = write_triggers(tmp_path, items)
    assert load_error(path, trigger_skill="jira-worklog") == f"{path}:{expected}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[{"query": "a",\n  "should_trigger": true\n',
            ":3: invalid JSON: Expecting ',' delimiter",
        ),
        ("[" * 100_000, ": invalid JSON: nested too deeply"),
        ("[" + "1" * 5000 + "]", ": invalid JSON: Exceeds the limit (4300 digits)"),
        ('[{"query": "\\ud800", "should_trigger": true}]', ":1: [0]: contains a lone surrogate"),
    ],
)
def test_unreadable_json_is_an_input_error(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text, "triggers.json")
    assert load_error(path, trigger_skill="jira-worklog").startswith(f"{path}{expected}")


def test_json_escapes_are_read_as_json_not_as_yaml(tmp_path: Path) -> None:
    text = '[{"query": "ship it \\ud83d\\ude80 \\/now", "should_trigger": true}]'
    suite = load_case_suite(write(tmp_path, text, "triggers.json"), trigger_skill="x")
    assert suite.cases[0].input == "ship it \U0001f680 /now"


def test_a_golden_set_may_be_written_in_json(tmp_path: Path) -> None:
    text = json.dumps({"version": "3", "tests": [{"id": "A", "category": "edge", "input": "x"}]})
    suite = load_case_suite(write(tmp_path, text, "cases.json"))
    assert (suite.version, [case.id for case in suite.cases]) == ("3", ["A"])


# ------------------------------------------------------------------ suite hash


def suite_hash(tmp_path: Path, text: str, skills: SkillSet | None = None) -> str:
    path = write(tmp_path, text, "hashed.yaml")
    return load_case_suite(path, skills).suite_hash


def test_the_suite_hash_is_stable(tmp_path: Path) -> None:
    assert suite_hash(tmp_path, GOLDEN) == suite_hash(tmp_path, GOLDEN)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("create a bug for the login crash", "create a bug for the logout crash"),
        ("category: negative", "category: edge"),
        ("expected_skill: jira-lifecycle", "expected_skill: search"),
        ("alternate_skills: [jira-lifecycle, search]", "alternate_skills: [search]"),
        ("not_skill: issue", "not_skill: search"),
        ("disambiguation_options: [search, jira-search-jql]", "disambiguation_options: [search]"),
        ("        action: create", "        action: open"),
        ("      - pattern: jira issue create", "      - pattern: jira issue new"),
        ("certainty: high", "certainty: low"),
        ("notes: empty input", "notes: blank input"),
        ("tags: [smoke]", "tags: [smoke, nightly]"),
        ("      issue: TES-9", "      issue: TES-10"),
        ("        content: Done.", "        content: Done!"),
        ("id: C7", "id: C8"),
        ('version: "1.0"', 'version: "1.1"'),
        ("    notes: empty input\n", "    notes: empty input\n    action: none\n"),
    ],
)
def test_the_suite_hash_changes_when_any_case_changes(
    tmp_path: Path, skills: SkillSet, old: str, new: str
) -> None:
    assert GOLDEN.count(old) == 1
    changed = GOLDEN.replace(old, new)
    assert suite_hash(tmp_path, changed, skills) != suite_hash(tmp_path, GOLDEN, skills)


def test_the_suite_hash_changes_when_cases_are_added_removed_or_reordered(tmp_path: Path) -> None:
    one = "tests:\n  - {id: A, category: edge, input: a}\n"
    two = one + "  - {id: B, category: edge, input: b}\n"
    swapped = (
        "tests:\n  - {id: B, category: edge, input: b}\n  - {id: A, category: edge, input: a}\n"
    )
    assert len({suite_hash(tmp_path, text) for text in (one, two, swapped)}) == 3


def test_the_suite_hash_ignores_comments_layout_key_order_and_aliases(
    tmp_path: Path, skills: SkillSet
) -> None:
    block = dedent(
        """
        tests:
          - id: A
            category: direct
            input: create a bug
            expected_skill: jira-issue-management
            tags: []
        """
    )
    flow = (
        "# same case\n"
        "tests: [{expected_skill: issue, input: 'create a bug', id: A, category: direct}]\n"
    )
    assert suite_hash(tmp_path, block, skills) == suite_hash(tmp_path, flow, skills)


# ------------------------------------------------------------------ every problem, one pass

MANY_PROBLEMS = """\
owner: qa
tests:
  - id: A
    category: direct
    input: hi
    expected_skil: search
  - id: B
    category: bogus
  - id: A
    category: edge
    input: again
    workflow:
      - {skill: search, step: 1}
"""


def test_every_problem_of_a_file_is_found_in_one_pass_in_line_order(tmp_path: Path) -> None:
    path = write(tmp_path, MANY_PROBLEMS)
    checked = check_case_file(path)
    assert checked.suite is None
    assert [(p.line, p.severity, p.field) for p in checked.problems] == [
        (1, Severity.WARNING, "owner"),
        (6, Severity.WARNING, "tests[0].expected_skil"),
        (7, Severity.ERROR, "tests[1].input"),
        (8, Severity.ERROR, "tests[1].category"),
        (9, Severity.ERROR, "tests[2].id"),
        (13, Severity.WARNING, "tests[2].workflow[0].step"),
    ]
    assert "did you mean 'expected_skill'?" in checked.problems[1].message
    with pytest.raises(ProblemsError) as caught:
        load_case_suite(path)
    assert caught.value.problems == tuple(checked.problems)
    assert caught.value.one_line() == f"{path}: 6 problems (3 errors, 3 warnings), listed above"
    assert caught.value.detail_lines()[2] == (
        f"{path}:7: error: tests[1].input: required field missing"
    )


def test_unknown_keys_are_warnings_and_the_file_still_loads(tmp_path: Path) -> None:
    text = MANY_PROBLEMS.replace("  - id: B\n    category: bogus\n", "").replace(
        "  - id: A\n    category: edge", "  - id: C\n    category: edge"
    )
    suite = load_case_suite(write(tmp_path, text))
    assert [case.id for case in suite.cases] == ["A", "C"]
    assert suite.cases[0].expected_skill is None  # the typo'd key is not read as the real one
    assert suite.cases[1].workflow == (WorkflowStep(skill="search"),)
    assert [(p.line, p.field) for p in suite.problems] == [
        (1, "owner"),
        (6, "tests[0].expected_skil"),
        (11, "tests[1].workflow[0].step"),
    ]
    assert all(not p.is_error for p in suite.problems)


def test_strict_turns_warnings_into_errors(tmp_path: Path) -> None:
    path = write(tmp_path, ONE_CASE + "    note: me\n")
    assert load_case_suite(path).cases[0].id == "A"
    with pytest.raises(ProblemsError) as caught:
        load_case_suite(path, strict=True)
    assert [p.severity for p in caught.value.problems] == [Severity.ERROR]
    assert caught.value.one_line() == (
        f"{path}:5: tests[0].note: unknown key 'note' (did you mean 'notes'?); ignored "
        f"(known: {', '.join(CASE_KEYS)}; prefix your own keys with 'x-')"
    )


def test_the_seed_keys_are_read_into_the_case(tmp_path: Path) -> None:
    text = dedent(
        """
        version: "2.1"
        tests:
          - id: TC031
            category: disambiguation
            input: show me the sprint
            expected_skill: null
            ask: "Do you want sprint details or the issues in the sprint?"
            certainty: medium
          - id: TC070
            category: edge
            input: ""
            expected_skill: null
            action: ask_for_input
          - id: TC071
            category: edge
            input: help
            expected_skill: search
            action: show_quick_reference
          - id: TC080
            category: direct
            input: delete TES-1
            expected_skill: issue
            requires_confirmation: true
          - id: TC090
            category: direct
            input: bulk-move the backlog
            expected_skill: search
            skip: true
            skip_reason: "needs a live board"
        """
    )
    suite = load_case_suite(write(tmp_path, text))
    assert suite.problems == ()
    by_id = {case.id: case for case in suite.cases}
    assert by_id["TC031"].ask == "Do you want sprint details or the issues in the sprint?"
    assert (by_id["TC070"].action, by_id["TC071"].action) == (
        "ask_for_input",
        "show_quick_reference",
    )
    assert by_id["TC080"].requires_confirmation is True
    assert (by_id["TC090"].skip, by_id["TC090"].skip_reason) == (True, "needs a live board")
    assert by_id["TC031"].skip is False


def test_a_trigger_skill_with_a_golden_set_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, ONE_CASE)
    assert load_error(path, trigger_skill="search") == (
        f"{path}: trigger_skill: --trigger-skill search is only for a trigger eval set (a JSON "
        "list of {query, should_trigger}); this is a golden set"
    )


def test_a_case_naming_a_skill_left_out_as_invalid_is_a_warning(
    tmp_path: Path, skills: SkillSet
) -> None:
    path = write(tmp_path, ONE_CASE + "    expected_skill: broken\n")
    checked = check_case_file(path, skills, left_out=frozenset({"broken"}))
    assert [(p.severity, p.field) for p in checked.problems] == [
        (Severity.WARNING, "tests[0].expected_skill")
    ]
    assert "an invalid skill left out of the run" in checked.problems[0].message


def test_a_context_written_as_plain_text_is_one_fact(tmp_path: Path) -> None:
    path = write(tmp_path, ONE_CASE + "    context: The user just looked at TES-42.\n")
    [case] = load_case_suite(path).cases
    assert case.context_facts == {"context": "The user just looked at TES-42."}
    assert case.context_messages == ()


def test_steps_and_commands_may_be_plain_strings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        ONE_CASE.replace("direct", "workflow")
        + "    workflow: [search, jira-lifecycle]\n    expected_commands: [jira issue move]\n",
    )
    [case] = load_case_suite(path).cases
    assert case.workflow == (WorkflowStep(skill="search"), WorkflowStep(skill="jira-lifecycle"))
    assert case.expected_commands == (CommandPattern(pattern="jira issue move"),)


def test_a_case_may_expect_or_forbid_one_of_claude_codes_bundled_skills(
    tmp_path: Path, skills: SkillSet
) -> None:
    path = write(
        tmp_path,
        ONE_CASE + "    expected_skill: builtin:dataviz\n    not_skill: builtin:code-review\n",
    )
    [case] = load_case_suite(path, skills).cases
    assert (case.expected_skill, case.not_skill) == ("builtin:dataviz", "builtin:code-review")
    unknown = write(tmp_path, ONE_CASE + "    expected_skill: dataviz\n", "unknown.yaml")
    with pytest.raises(InputError, match="unknown skill 'dataviz'"):
        load_case_suite(unknown, skills)
