"""Tests for routelens.suite.skills: finding, parsing, validating and hashing SKILL.md files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from routelens.errors import InputError
from routelens.suite.hashing import skill_content_hash, skills_set_hash
from routelens.suite.skills import (
    find_skill_files,
    load_skill_set,
    parse_skill_file,
    parse_skill_text,
)

DEMO_PATH = Path("skills/demo/SKILL.md")


def skill_text(name: str, description: str = "Does a thing.", body: str = "# Body\n") -> str:
    return f"---\nname: {name}\ndescription: {description}\n---\n{body}"


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_of(text: str) -> str:
    with pytest.raises(InputError) as caught:
        parse_skill_text(text, DEMO_PATH)
    return str(caught.value)


# ------------------------------------------------------------------ finding


def test_skill_files_are_found_at_any_depth_and_sorted(tmp_path: Path) -> None:
    layouts = [
        "skills/alpha/SKILL.md",
        "plugins/x/skills/beta/SKILL.md",
        ".claude/skills/gamma/SKILL.md",
        "a/b/c/d/delta/SKILL.md",
    ]
    for relative in layouts:
        write(tmp_path, relative, skill_text("x"))
    found = [path.relative_to(tmp_path).as_posix() for path in find_skill_files(tmp_path)]
    assert found == sorted(layouts)


@pytest.mark.parametrize(
    "skipped",
    [".git", "node_modules", ".venv", "venv", "__pycache__", ".tox"],
)
def test_tool_folders_are_skipped_at_any_depth(tmp_path: Path, skipped: str) -> None:
    kept = write(tmp_path, "skills/kept/SKILL.md", skill_text("kept"))
    write(tmp_path, f"{skipped}/copy/SKILL.md", skill_text("kept"))
    write(tmp_path, f"plugins/p/{skipped}/copy/SKILL.md", skill_text("kept"))
    assert find_skill_files(tmp_path) == [kept]


def test_only_files_named_exactly_skill_md_count(tmp_path: Path) -> None:
    kept = write(tmp_path, "a/SKILL.md", skill_text("a"))
    write(tmp_path, "b/skill.md", skill_text("b"))
    write(tmp_path, "c/SKILL.md.bak", skill_text("c"))
    (tmp_path / "d" / "SKILL.md").mkdir(parents=True)  # a folder, not a file
    assert find_skill_files(tmp_path) == [kept]


def test_a_root_that_is_a_skill_file_is_itself_the_only_skill(tmp_path: Path) -> None:
    path = write(tmp_path, "one/SKILL.md", skill_text("one"))
    other = write(tmp_path, "one/README.md", "hello")
    assert find_skill_files(path) == [path]
    assert find_skill_files(other) == []


# ------------------------------------------------------------------ parsing


def test_a_skill_file_is_parsed_into_name_folder_description_body_and_metadata(
    tmp_path: Path,
) -> None:
    text = (
        "---\n"
        "name: jira-issue-management\n"
        "description: >\n"
        "  Create and edit\n"
        "  single issues.\n"
        "version: 1.0.0\n"
        "allowed-tools: [Bash, Read]\n"
        "---\n"
        "\n# Issues\n\nUse `jira issue create`.\n"
    )
    path = write(tmp_path, "skills/jira-issue/SKILL.md", text)
    skill = parse_skill_file(path)
    assert skill.name == "jira-issue-management"
    assert skill.folder_name == "jira-issue"
    assert skill.aliases == frozenset({"jira-issue-management", "jira-issue"})
    assert skill.description == "Create and edit single issues."
    assert skill.body == "\n# Issues\n\nUse `jira issue create`.\n"
    assert skill.path == path
    assert skill.content_hash == skill_content_hash(text)
    assert skill.metadata["version"] == "1.0.0"
    assert skill.metadata["allowed-tools"] == ["Bash", "Read"]


def test_bom_and_crlf_files_parse_and_hash_like_the_clean_file(tmp_path: Path) -> None:
    clean = skill_text("demo")
    messy = "\ufeff" + clean.replace("\n", "  \r\n")
    path = tmp_path / "demo" / "SKILL.md"
    path.parent.mkdir()
    path.write_bytes(messy.encode("utf-8"))
    skill = parse_skill_file(path)
    assert (skill.name, skill.description) == ("demo", "Does a thing.")
    assert skill.content_hash == skill_content_hash(clean)


def test_a_file_that_is_not_utf8_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "demo" / "SKILL.md"
    path.parent.mkdir()
    path.write_bytes(b"---\nname: d\xe9mo\n---\n")
    with pytest.raises(InputError) as caught:
        parse_skill_file(path)
    assert str(caught.value) == f"{path}: not UTF-8 text (byte 11)"


@pytest.mark.parametrize(
    "name",
    ["a", "demo", "jira-issue-management", "v2", "2fa-reset", "a" * 64, "x-1-y"],
)
def test_valid_names_are_accepted(name: str) -> None:
    assert parse_skill_text(skill_text(name), DEMO_PATH).name == name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: demo\n---\n", "no YAML front matter: the file must start with a '---' line"),
        ("", "no YAML front matter"),
        ("\n---\nname: demo\n---\n", "no YAML front matter"),
    ],
)
def test_a_file_without_front_matter_is_rejected_at_line_1(text: str, expected: str) -> None:
    assert error_of(text).startswith(f"{DEMO_PATH}:1: front matter: {expected}")


def test_unclosed_front_matter_is_rejected_at_line_1() -> None:
    assert error_of("---\nname: demo\ndescription: x\n") == (
        f"{DEMO_PATH}:1: front matter: front matter is not closed by a '---' line"
    )


@pytest.mark.parametrize(
    ("front", "kind"),
    [("", "empty"), ("- a\n- b\n", "a list"), ("just text\n", "a str")],
)
def test_front_matter_must_be_a_mapping(front: str, kind: str) -> None:
    assert error_of(f"---\n{front}---\n") == (
        f"{DEMO_PATH}:2: front matter: front matter must be a mapping of keys, not {kind}"
    )


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("description: x\n", "2: name: required field missing"),
        ("name: 12\ndescription: x\n", "2: name: must be a string, not int"),
        ("name: [a]\ndescription: x\n", "2: name: must be a string, not list"),
        ("name: Demo\ndescription: x\n", "2: name: 'Demo' must be lowercase letters, digits"),
        ("description: x\nname: my--skill\n", "3: name: 'my--skill' must be lowercase"),
        ("name: -demo\ndescription: x\n", "2: name: '-demo' must be lowercase"),
        ("name: demo-\ndescription: x\n", "2: name: 'demo-' must be lowercase"),
        ("name: my_skill\ndescription: x\n", "2: name: 'my_skill' must be lowercase"),
        ("name: my skill\ndescription: x\n", "2: name: 'my skill' must be lowercase"),
        ("name: ''\ndescription: x\n", "2: name: '' must be lowercase"),
        (f"name: {'a' * 65}\ndescription: x\n", "2: name: is 65 characters; at most 64"),
        ("name: my-claude-helper\ndescription: x\n", "2: name: 'my-claude-helper' contains"),
        ("name: anthropic\ndescription: x\n", "2: name: 'anthropic' contains the reserved word"),
        ("name: demo\n", "2: description: required field missing"),
        ("name: demo\ndescription:\n", "3: description: must be a string, not NoneType"),
        ("name: demo\ndescription: '   '\n", "3: description: must not be empty"),
        ("name: demo\ndescription: [x]\n", "3: description: must be a string, not list"),
        (f"name: demo\ndescription: {'d' * 1025}\n", "3: description: is 1025 characters"),
        ("name: demo\ndescription: Use <b>bold</b>\n", "3: description: must not contain XML"),
        ("name: demo\ndescription: see </example>\n", "3: description: must not contain XML"),
        ("name: demo\ndescription: a <br/> b\n", "3: description: must not contain XML"),
        ("name: demo\ndescription: <tag attr='1'>\n", "3: description: must not contain XML"),
        ('name: demo\ndescription: "\\ud800"\n', "3: description: contains a lone surrogate"),
        ("name: demo\ndescription: x\nname: other\n", "4: name: duplicate key 'name'"),
        ("name: demo\n  description: x\n", "3: invalid YAML: mapping values are not allowed"),
        ("name: demo\ndescription: [x\n", "4: invalid YAML:"),
    ],
)
def test_invalid_front_matter_names_the_line_and_field(front: str, expected: str) -> None:
    assert error_of(f"---\n{front}---\nbody\n").startswith(f"{DEMO_PATH}:{expected}")


def test_the_reserved_word_message_names_the_word() -> None:
    assert error_of(skill_text("ask-claude")) == (
        f"{DEMO_PATH}:2: name: 'ask-claude' contains the reserved word 'claude'"
    )


@pytest.mark.parametrize(
    "description",
    [
        "d" * 1024,
        "Use when a < b and c > d.",
        "Turns x -> y and y <- x.",
        "Lists <5 items or >10 items.",
        "'Compare: 3<4'",
    ],
)
def test_descriptions_that_are_not_xml_are_accepted(description: str) -> None:
    skill = parse_skill_text(skill_text("demo", description), DEMO_PATH)
    assert skill.description == description.strip("'")


def test_front_matter_keys_other_than_name_and_description_are_kept() -> None:
    text = "---\nname: demo\ndescription: x\nlicense: MIT\n1: one\ntriggers: [a, b]\n---\n"
    skill = parse_skill_text(text, DEMO_PATH)
    assert skill.metadata == {
        "name": "demo",
        "description": "x",
        "license": "MIT",
        "1": "one",
        "triggers": ["a", "b"],
    }


# ------------------------------------------------------------------ skill sets


def make_set(root: Path) -> Path:
    write(root, "skills/issue/SKILL.md", skill_text("jira-issue-management", "Issues."))
    write(root, "skills/search/SKILL.md", skill_text("jira-search", "Search."))
    write(root, "plugins/p/skills/jira-agile/SKILL.md", skill_text("jira-agile", "Sprints."))
    return root


def test_a_skill_set_holds_every_skill_in_path_order(tmp_path: Path) -> None:
    skills = load_skill_set(make_set(tmp_path))
    assert skills.root == tmp_path
    assert skills.names == ("jira-agile", "jira-issue-management", "jira-search")
    expected = skills_set_hash((skill.name, skill.content_hash) for skill in skills.skills)
    assert skills.skills_hash == expected


def test_a_skill_answers_to_its_folder_and_its_front_matter_name(tmp_path: Path) -> None:
    skills = load_skill_set(make_set(tmp_path))
    by_folder = skills.resolve("issue")
    assert by_folder is not None
    assert by_folder is skills.resolve("jira-issue-management")
    assert skills.canonical("issue") == "jira-issue-management"
    assert skills.canonical("jira-search") == "jira-search"
    assert skills.resolve("jira-issue") is None
    assert skills.canonical("unknown") == "unknown"
    assert skills.resolve(None) is None
    assert skills.canonical(None) is None


def test_a_missing_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_skill_set(tmp_path / "nope")
    assert str(caught.value) == f"{tmp_path / 'nope'}: skills: no such skills folder"


def test_a_folder_without_skills_is_an_input_error(tmp_path: Path) -> None:
    write(tmp_path, "node_modules/x/SKILL.md", skill_text("x"))
    with pytest.raises(InputError) as caught:
        load_skill_set(tmp_path)
    assert str(caught.value) == f"{tmp_path}: skills: no SKILL.md found in this folder or below"


def test_one_bad_skill_fails_the_set_naming_its_file(tmp_path: Path) -> None:
    make_set(tmp_path)
    bad = write(tmp_path, "skills/zeta/SKILL.md", skill_text("Zeta"))
    with pytest.raises(InputError) as caught:
        load_skill_set(tmp_path)
    assert str(caught.value).startswith(f"{bad}:2: name: 'Zeta'")


def test_two_skills_may_not_share_a_name(tmp_path: Path) -> None:
    write(tmp_path, "a/SKILL.md", skill_text("same"))
    second = write(tmp_path, "b/SKILL.md", skill_text("same"))
    with pytest.raises(InputError) as caught:
        load_skill_set(tmp_path)
    assert str(caught.value) == (
        f"{second}:1: name: 'same' already names the skill in {tmp_path / 'a' / 'SKILL.md'}"
    )


def test_a_folder_name_may_not_be_another_skills_name(tmp_path: Path) -> None:
    write(tmp_path, "jira-search/SKILL.md", skill_text("jira-search-jql"))
    second = write(tmp_path, "search/SKILL.md", skill_text("jira-search"))
    with pytest.raises(InputError) as caught:
        load_skill_set(tmp_path)
    assert str(caught.value).startswith(f"{second}:1: name: 'jira-search' already names")


def test_two_plugins_may_not_use_the_same_skill_folder_name(tmp_path: Path) -> None:
    write(tmp_path, "plugins/a/skills/deploy/SKILL.md", skill_text("deploy-a"))
    write(tmp_path, "plugins/b/skills/deploy/SKILL.md", skill_text("deploy-b"))
    with pytest.raises(InputError, match="'deploy' already names the skill"):
        load_skill_set(tmp_path)


def test_the_set_hash_ignores_formatting_noise(tmp_path: Path) -> None:
    make_set(tmp_path)
    before = load_skill_set(tmp_path).skills_hash
    path = tmp_path / "skills/search/SKILL.md"
    path.write_bytes(
        ("\ufeff" + path.read_text(encoding="utf-8").replace("\n", " \r\n") + "\r\n").encode()
    )
    assert load_skill_set(tmp_path).skills_hash == before


@pytest.mark.parametrize(
    ("relative", "old", "new"),
    [
        ("skills/search/SKILL.md", "Search.", "Search issues."),
        ("skills/search/SKILL.md", "# Body", "# Body text"),
        ("plugins/p/skills/jira-agile/SKILL.md", "jira-agile", "jira-agile-boards"),
    ],
    ids=["description", "body", "name"],
)
def test_the_set_hash_changes_when_any_skill_changes(
    tmp_path: Path, relative: str, old: str, new: str
) -> None:
    make_set(tmp_path)
    before = load_skill_set(tmp_path).skills_hash
    path = tmp_path / relative
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    assert load_skill_set(tmp_path).skills_hash != before


def test_the_set_hash_changes_when_a_skill_is_added_or_removed(tmp_path: Path) -> None:
    make_set(tmp_path)
    before = load_skill_set(tmp_path).skills_hash
    write(tmp_path, "skills/links/SKILL.md", skill_text("jira-links"))
    added = load_skill_set(tmp_path).skills_hash
    shutil.rmtree(tmp_path / "skills/links")
    shutil.rmtree(tmp_path / "skills/search")
    removed = load_skill_set(tmp_path).skills_hash
    assert len({before, added, removed}) == 3


def test_the_set_hash_does_not_depend_on_file_order(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    write(first, "a/SKILL.md", skill_text("zulu"))
    write(first, "b/SKILL.md", skill_text("yankee"))
    write(second, "b/SKILL.md", skill_text("zulu"))
    write(second, "a/SKILL.md", skill_text("yankee"))
    one, two = load_skill_set(first), load_skill_set(second)
    assert one.names == ("zulu", "yankee")
    assert two.names == ("yankee", "zulu")
    assert one.skills_hash == two.skills_hash
