"""Tests for routelens.suite.skills: finding, parsing, validating and hashing SKILL.md files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from routelens.errors import InputError
from routelens.suite.hashing import skill_content_hash, skills_set_hash
from routelens.suite.problems import ProblemsError, Severity
from routelens.suite.skills import (
    find_skill_files,
    load_skill_set,
    parse_skill_file,
    parse_skill_text,
    read_skill_text,
    scan_skills_folder,
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


def problems_of(text: str) -> list[tuple[int | None, str, str]]:
    entry = read_skill_text(text, DEMO_PATH)
    return [(p.line, str(p.severity), f"{p.field}: {p.message}") for p in entry.problems]


@pytest.mark.parametrize("text", ["# Demo\n\nDoes things.\n", "", "\n---\nname: x\n---\n"])
def test_a_file_without_front_matter_loads_as_claude_code_lists_it(text: str) -> None:
    entry = read_skill_text(text, DEMO_PATH)
    assert entry.skill is not None
    assert (entry.skill.name, entry.skill.description) == ("demo", "demo")
    assert entry.skill.has_front_matter is False
    assert entry.skill.body == text
    assert problems_of(text) == [
        (
            1,
            "warning",
            "front matter: no YAML front matter, so no description: Claude Code loads it as "
            "'demo' with its folder name as the description",
        )
    ]


def test_unclosed_front_matter_is_rejected_at_line_1() -> None:
    assert error_of("---\nname: demo\ndescription: x\n") == (
        f"{DEMO_PATH}:1: front matter: front matter is not closed by a '---' line"
    )


@pytest.mark.parametrize(("front", "kind"), [("- a\n- b\n", "a list"), ("just text\n", "a str")])
def test_front_matter_must_be_a_mapping(front: str, kind: str) -> None:
    assert error_of(f"---\n{front}---\n") == (
        f"{DEMO_PATH}:2: front matter: front matter must be a mapping of keys, not {kind}"
    )


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("name: 12\ndescription: x\n", "2: name: must be a string, not int"),
        ("name: [a]\ndescription: x\n", "2: name: must be a string, not list"),
        ("name: demo\ndescription: [x]\n", "3: description: must be a string, not list"),
        ('name: demo\ndescription: "\\ud800"\n', "3: description: contains a lone surrogate"),
        ('name: demo\ndescription: "a\\0b"\n', "3: description: contains a NUL character"),
        ('name: "de\\0mo"\ndescription: x\n', "2: name: contains a NUL character"),
        ("name: demo\ndescription: x\nname: other\n", "4: name: duplicate key 'name'"),
        ("name: demo\n  description: x\n", "3: invalid YAML: mapping values are not allowed"),
        ("name: demo\ndescription: [x\n", "4: invalid YAML:"),
    ],
)
def test_what_cannot_be_loaded_is_an_error_naming_the_line_and_field(
    front: str, expected: str
) -> None:
    assert error_of(f"---\n{front}---\nbody\n").startswith(f"{DEMO_PATH}:{expected}")


@pytest.mark.parametrize(
    ("front", "line", "expected"),
    [
        ("name: Demo\ndescription: x\n", 2, "name: 'Demo': the rule is lowercase letters"),
        ("description: x\nname: my--skill\n", 3, "name: 'my--skill': the rule is lowercase"),
        ("name: my skill\ndescription: x\n", 2, "name: 'my skill': the rule is lowercase"),
        (f"name: {'a' * 65}\ndescription: x\n", 2, "name: is 65 characters; the rule is at"),
        (
            "name: my-claude-helper\ndescription: x\n",
            2,
            "name: 'my-claude-helper' contains the reserved word 'claude': the API's skill "
            "upload rejects it (Claude Code loads it anyway)",
        ),
        ("name: anthropic\ndescription: x\n", 2, "name: 'anthropic' contains the reserved"),
        (f"name: demo\ndescription: {'d' * 1025}\n", 3, "description: is 1025 characters;"),
        ("name: demo\ndescription: Use <b>bold</b>\n", 3, "description: contains an XML tag"),
        ("name: demo\ndescription: see </example>\n", 3, "description: contains an XML tag"),
        ("name: demo\ndescription: a <br/> b\n", 3, "description: contains an XML tag"),
    ],
)
def test_what_claude_code_loads_anyway_is_a_warning_with_the_rule(
    front: str, line: int, expected: str
) -> None:
    text = f"---\n{front}---\nbody\n"
    entry = read_skill_text(text, DEMO_PATH)
    assert entry.valid
    [(found_line, severity, message)] = problems_of(text)
    assert (found_line, severity) == (line, "warning")
    assert message.startswith(expected)


@pytest.mark.parametrize(
    ("front", "name", "description", "line", "field", "said"),
    [
        ("description: x\n", "demo", "x", 2, "name", "missing"),
        ("name: ''\ndescription: x\n", "demo", "x", 2, "name", "empty"),
        ("name: demo\n", "demo", "demo", 2, "description", "missing"),
        ("name: demo\ndescription:\n", "demo", "demo", 3, "description", "missing"),
        ("name: demo\ndescription: '   '\n", "demo", "demo", 3, "description", "empty"),
    ],
)
def test_a_missing_name_or_description_falls_back_to_the_folder_name(
    front: str, name: str, description: str, line: int, field: str, said: str
) -> None:
    text = f"---\n{front}---\n"
    entry = read_skill_text(text, DEMO_PATH)
    assert entry.skill is not None
    assert (entry.skill.name, entry.skill.description) == (name, description)
    assert problems_of(text) == [
        (line, "warning", f"{field}: {said}: Claude Code uses the folder name 'demo' instead")
    ]


def test_an_empty_front_matter_falls_back_for_both() -> None:
    entry = read_skill_text("---\n---\nbody\n", DEMO_PATH)
    assert entry.skill is not None
    assert (entry.skill.name, entry.skill.description) == ("demo", "demo")
    assert [field.split(":")[0] for _, _, field in problems_of("---\n---\nbody\n")] == [
        "name",
        "description",
    ]


@pytest.mark.parametrize(
    ("path", "front", "expected"),
    [
        (
            "skills/template-skill/SKILL.md",
            "name: template-skill\ndescription: Replace with description of the skill.\n",
            "name: 'template-skill' looks like a template placeholder",
        ),
        (
            "skills/new/SKILL.md",
            "name: new\ndescription: TODO write this\n",
            "description: the description looks like a placeholder",
        ),
    ],
)
def test_a_template_placeholder_skill_is_flagged(path: str, front: str, expected: str) -> None:
    entry = read_skill_text(f"---\n{front}---\n", Path(path))
    assert entry.valid
    [problem] = entry.problems
    assert problem.severity is Severity.WARNING
    assert f"{problem.field}: {problem.message}".startswith(expected)


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
    bad = write(tmp_path, "skills/zeta/SKILL.md", skill_text("[zeta]"))
    with pytest.raises(InputError) as caught:
        load_skill_set(tmp_path)
    assert str(caught.value) == f"{bad}:2: name: must be a string, not list"


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


# ------------------------------------------------------------------ every skill listed


def test_every_skill_is_listed_each_invalid_one_with_all_its_problems(tmp_path: Path) -> None:
    make_set(tmp_path)
    write(tmp_path, "skills/broken/SKILL.md", "---\nname: [x]\ndescription: [y]\n---\n")
    write(tmp_path, "skills/claude-helper/SKILL.md", skill_text("claude-helper", "d" * 1100))
    write(tmp_path, "skills/plain/SKILL.md", "# Plain\n")
    report = scan_skills_folder(tmp_path)
    listing = {entry.path.parent.name: entry for entry in report.entries}
    assert sorted(listing) == ["broken", "claude-helper", "issue", "jira-agile", "plain", "search"]
    broken = listing["broken"]
    assert not broken.valid
    assert [(p.line, p.field, p.severity) for p in broken.problems] == [
        (2, "name", Severity.ERROR),
        (3, "description", Severity.ERROR),
    ]
    helper = listing["claude-helper"]
    assert helper.valid
    assert [p.field for p in helper.problems] == ["name", "description"]
    assert listing["plain"].valid
    with pytest.raises(ProblemsError) as caught:
        load_skill_set(tmp_path)
    assert [(p.source, p.severity) for p in caught.value.problems if p.is_error] == [
        (str(broken.path), Severity.ERROR),
        (str(broken.path), Severity.ERROR),
    ]
    assert len(caught.value.problems) == 5  # the warnings are listed with the errors


def test_skip_invalid_leaves_the_invalid_skills_out_with_a_warning(tmp_path: Path) -> None:
    make_set(tmp_path)
    bad = write(tmp_path, "skills/broken/SKILL.md", "---\nname: [x]\ndescription: y\n---\n")
    skills = load_skill_set(tmp_path, skip_invalid=True)
    assert skills.names == ("jira-agile", "jira-issue-management", "jira-search")
    assert [(p.source, p.severity, p.message) for p in skills.problems] == [
        (str(bad), Severity.WARNING, "skipped (--skip-invalid-skills): must be a string, not list")
    ]


def test_strict_refuses_a_set_that_only_warns(tmp_path: Path) -> None:
    write(tmp_path, "skills/plain/SKILL.md", "# Plain\n")
    assert load_skill_set(tmp_path).names == ("plain",)
    with pytest.raises(ProblemsError, match="no YAML front matter"):
        load_skill_set(tmp_path, strict=True)


def test_a_duplicate_name_is_listed_as_a_problem_of_the_later_skill(tmp_path: Path) -> None:
    write(tmp_path, "a/SKILL.md", skill_text("same"))
    write(tmp_path, "b/SKILL.md", skill_text("same"))
    first, second = scan_skills_folder(tmp_path).entries
    assert first.valid
    assert not second.valid
    assert second.problems[-1].message.startswith("'same' already names the skill in ")


# ------------------------------------------------------------------ symlinks


def test_a_symlinked_skill_folder_is_followed(tmp_path: Path) -> None:
    real = write(tmp_path, "elsewhere/deploy/SKILL.md", skill_text("deploy"))
    (tmp_path / "skills").mkdir()
    (tmp_path / "skills" / "deploy").symlink_to(real.parent, target_is_directory=True)
    skills = load_skill_set(tmp_path / "skills")
    assert skills.names == ("deploy",)


def test_a_symlink_loop_ends(tmp_path: Path) -> None:
    write(tmp_path, "skills/deploy/SKILL.md", skill_text("deploy"))
    (tmp_path / "skills" / "deploy" / "again").symlink_to(tmp_path / "skills")
    assert load_skill_set(tmp_path / "skills").names == ("deploy",)


def test_a_dangling_skill_md_is_an_invalid_skill_not_a_silent_gap(tmp_path: Path) -> None:
    write(tmp_path, "skills/ok/SKILL.md", skill_text("ok"))
    (tmp_path / "skills" / "gone").mkdir()
    link = tmp_path / "skills" / "gone" / "SKILL.md"
    link.symlink_to(tmp_path / "missing.md")
    report = scan_skills_folder(tmp_path / "skills")
    gone = next(entry for entry in report.entries if entry.path == link)
    assert not gone.valid
    assert gone.problems[0].message == (
        f"dangling symlink to {tmp_path / 'missing.md'}: the skill's SKILL.md is missing"
    )
    with pytest.raises(InputError, match="dangling symlink"):
        load_skill_set(tmp_path / "skills")


def test_a_dangling_skill_folder_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "skills/ok/SKILL.md", skill_text("ok"))
    link = tmp_path / "skills" / "moved"
    link.symlink_to(tmp_path / "not-there", target_is_directory=True)
    report = scan_skills_folder(tmp_path / "skills")
    assert [(p.source, p.severity) for p in report.problems] == [(str(link), Severity.ERROR)]
    assert "a skill folder it pointed to is missing" in report.problems[0].message
    assert load_skill_set(tmp_path / "skills", skip_invalid=True).names == ("ok",)


def test_a_dangling_file_inside_a_skill_is_only_a_warning(tmp_path: Path) -> None:
    write(tmp_path, "skills/ok/SKILL.md", skill_text("ok"))
    (tmp_path / "skills" / "ok" / "reference.md").symlink_to(tmp_path / "gone.md")
    skills = load_skill_set(tmp_path / "skills")
    assert [p.severity for p in skills.problems] == [Severity.WARNING]


def test_a_folder_that_cannot_be_read_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "skills/ok/SKILL.md", skill_text("ok"))
    locked = tmp_path / "skills" / "locked"
    locked.mkdir()
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        # root reads every folder, so a permission failure is staged where the walk lists one
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    report = scan_skills_folder(tmp_path / "skills")
    assert [(p.source, p.message) for p in report.problems] == [
        (str(locked), "cannot read this folder: Permission denied")
    ]


# ------------------------------------------------------------------ description overrides


def test_with_descriptions_replaces_the_description_and_rehashes(tmp_path: Path) -> None:
    skills = load_skill_set(make_set(tmp_path))
    trial = skills.with_descriptions({"search": "Find issues with JQL."})
    search = trial.resolve("jira-search")
    assert search is not None
    assert search.description == "Find issues with JQL."
    edited = search.path.read_text(encoding="utf-8").replace("Search.", "Find issues with JQL.")
    assert search.content_hash == skill_content_hash(edited)  # as if the file were edited
    assert trial.skills_hash != skills.skills_hash
    assert trial.resolve("jira-agile") == skills.resolve("jira-agile")
    assert skills.with_descriptions({}) is skills


def test_with_descriptions_refuses_an_unknown_skill(tmp_path: Path) -> None:
    skills = load_skill_set(make_set(tmp_path))
    with pytest.raises(InputError, match="unknown skill 'nope'"):
        skills.with_descriptions({"nope": "x"})
