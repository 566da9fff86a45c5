"""The captured-prompt template without the binary: a request shaped like Claude Code's,
written by the test, turned into a template and filled in for attempts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from routelens.errors import InputError
from routelens.routers.base import RouteRequest
from routelens.routers.claude_code_prompt import (
    DATE_PLACEHOLDER,
    INPUT_PLACEHOLDER,
    SKILLS_PLACEHOLDER,
    CapturedRequest,
    ClaudeCodePrompt,
    listing_line,
    prompt_from_options,
    render_body,
    sdk_arguments,
    template_from_capture,
)
from routelens.suite.models import SkillSet
from routelens.suite.skills import load_skill_set
from tests.conftest import write_skill

CAPTURED_ON = date(2026, 12, 1)
MARKER = "Reply with OK. (routelens capture 0a1b2c)"
BUNDLED = ["dataviz", "keybindings-help", "init"]


def _listing(project_lines: list[str]) -> str:
    return "\n".join(
        [
            "# Environment",
            " - Primary working directory: /tmp/routelens-claude-x/project",
            "",
            "The following skills are available for use with the Skill tool:",
            "",
            *project_lines,
            "- dataviz: Use this skill whenever you chart.",
            "Triggers on: chart",
            "- keybindings-help: Use when the user wants to rebind keys.",
            "- init",
            "",
            f"Today's date is {CAPTURED_ON.isoformat()}.",
        ]
    )


def _captured(skills: SkillSet, project_lines: list[str] | None = None) -> CapturedRequest:
    lines = project_lines
    if lines is None:
        lines = [listing_line(skill.folder_name, skill) for skill in skills.skills]
        lines.sort()
    body = {
        "model": "claude-opus-5-5",
        "max_tokens": 128000,
        "stream": True,
        "metadata": {"user_id": '{"device_id":"d","session_id":"s"}'},
        "thinking": {"type": "adaptive"},
        "system": [
            {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.332.6ff;"},
            {
                "type": "text",
                "text": "You are a Claude agent.",
                "cache_control": {"type": "ephemeral"},
            },
        ],
        "tools": [{"name": "Skill", "description": "Invoke a skill.", "input_schema": {}}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "<system-reminder>\nAttribution\n</system-reminder>"},
                    {"type": "text", "text": MARKER, "cache_control": {"type": "ephemeral"}},
                ],
            },
            {"role": "system", "content": [{"type": "text", "text": _listing(lines)}]},
        ],
    }
    return CapturedRequest(
        body=body,
        headers={
            "anthropic-beta": "claude-code-20250219, effort-2025-11-24",
            "anthropic-version": "2023-06-01",
        },
        prompt_marker=MARKER,
        claude_code_version="2.1.332",
        session_skills=frozenset(BUNDLED),
        captured_on=CAPTURED_ON,
    )


def _system_text(body: dict[str, Any]) -> str:
    return str(body["messages"][1]["content"][0]["text"])


def test_a_capture_becomes_a_template_with_three_placeholders(small_skills: SkillSet) -> None:
    prompt = template_from_capture(_captured(small_skills), small_skills)

    assert prompt.model == "claude-opus-5-5"
    assert prompt.betas == ("claude-code-20250219", "effort-2025-11-24")
    assert prompt.bundled_skills == tuple(BUNDLED)
    assert "metadata" not in prompt.body
    assert "stream" not in prompt.body
    assert [block["text"] for block in prompt.body["system"]] == ["You are a Claude agent."]
    assert prompt.body["messages"][0]["content"][1]["text"] == INPUT_PLACEHOLDER
    text = _system_text(dict(prompt.body))
    assert f"tool:\n\n{SKILLS_PLACEHOLDER}\n- dataviz" in text
    assert text.endswith(f"Today's date is {DATE_PLACEHOLDER}.")
    assert [(e.folder, e.skill) for e in prompt.project_entries] == [
        ("issue", "jira-issue"),
        ("lifecycle", "jira-lifecycle"),
        ("search", "jira-search"),
    ]


def test_rendering_fills_in_the_input_the_listing_and_the_date(small_skills: SkillSet) -> None:
    captured = _captured(small_skills)
    prompt = template_from_capture(captured, small_skills)
    request = RouteRequest("C1", "find my bugs", small_skills)

    body = render_body(prompt, request, today=CAPTURED_ON, prompt_text="find my bugs")

    assert body["messages"][0]["content"][1] == {
        "type": "text",
        "text": "find my bugs",
        "cache_control": {"type": "ephemeral"},
    }
    assert _system_text(body) == _system_text(dict(captured.body))
    later = render_body(prompt, request, today=date(2027, 1, 2), prompt_text="x")
    assert _system_text(later).endswith("Today's date is 2027-01-02.")


def test_a_changed_skill_gets_a_fresh_line_and_the_others_keep_claude_codes(
    tmp_path: Path, small_skills: SkillSet
) -> None:
    shortened = ["- issue (jira-issue)", "- lifecycle (jira-lifecycle)", "- search (jira-search)"]
    prompt = template_from_capture(_captured(small_skills, shortened), small_skills)
    write_skill(small_skills.root, "search", "jira-search", "Search issues, now with filters.")
    changed = load_skill_set(small_skills.root)

    body = render_body(prompt, RouteRequest("C1", "x", changed), today=CAPTURED_ON, prompt_text="x")

    text = _system_text(body)
    assert "- issue (jira-issue)\n- lifecycle (jira-lifecycle)\n" in text
    assert "- search (jira-search): Search issues, now with filters.\n- dataviz" in text


def test_listing_lines_follow_claude_codes_rules(tmp_path: Path) -> None:
    write_skill(tmp_path, "zzz-folder", "aaa-first", "Named\n  apart   from its folder.")
    (skill,) = load_skill_set(tmp_path).skills
    # Claude Code lists a longer description than routelens accepts, cut at 1536 characters
    too_long = replace(skill, name="long", description="word " * 400)
    with_when = replace(skill, name="zzz-folder", metadata={"when_to_use": "when asked"})

    assert listing_line("zzz-folder", skill) == (
        "- zzz-folder (aaa-first): Named apart from its folder."
    )
    assert listing_line("zzz-folder", with_when) == (
        "- zzz-folder: Named apart from its folder. - when asked"
    )
    long_line = listing_line("long", too_long)
    assert long_line.endswith("…")
    assert len(long_line.removeprefix("- long: ")) == 1536


def test_no_cache_control_when_prompt_caching_is_off(small_skills: SkillSet) -> None:
    prompt = template_from_capture(_captured(small_skills), small_skills)
    body = render_body(
        prompt,
        RouteRequest("C1", "x", small_skills),
        today=CAPTURED_ON,
        prompt_text="x",
        prompt_cache=False,
    )
    assert "cache_control" not in str(body)


def test_sdk_arguments_carry_the_captured_headers(small_skills: SkillSet) -> None:
    prompt = template_from_capture(_captured(small_skills), small_skills)
    body = render_body(
        prompt, RouteRequest("C1", "x", small_skills), today=CAPTURED_ON, prompt_text="x"
    )

    arguments = sdk_arguments(body, prompt)

    assert arguments["betas"] == ["claude-code-20250219", "effort-2025-11-24"]
    assert arguments["extra_headers"] == {"anthropic-version": "2023-06-01"}
    assert arguments["extra_query"] == {"beta": "true"}
    assert set(arguments["extra_body"]) == {"system", "tools", "thinking"}
    assert (arguments["model"], arguments["max_tokens"]) == ("claude-opus-5-5", 128000)


def test_the_template_round_trips_and_its_hash_is_stable(small_skills: SkillSet) -> None:
    prompt = template_from_capture(_captured(small_skills), small_skills)
    again = ClaudeCodePrompt.from_json(prompt.to_json())
    assert again == prompt
    assert again.template_hash == prompt.template_hash
    other = template_from_capture(_captured(small_skills), load_skill_set(small_skills.root))
    assert other.template_hash == prompt.template_hash
    with pytest.raises(InputError, match="format 0"):
        ClaudeCodePrompt.from_json({**prompt.to_json(), "format": 0})


@pytest.mark.parametrize(
    ("project_lines", "message"),
    [
        (
            ["- issue (jira-issue): x", "- search (jira-search): x"],
            "did not list these skills: lifecycle",
        ),
        (
            [
                "- issue (jira-issue): x",
                "- other: y",
                "- lifecycle (jira-lifecycle): x",
                "- search (jira-search): x",
            ],
            "not one block",
        ),
    ],
)
def test_a_listing_it_does_not_understand_is_an_input_error(
    small_skills: SkillSet, project_lines: list[str], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        template_from_capture(_captured(small_skills, project_lines), small_skills)


def test_a_request_without_the_prompt_is_an_input_error(small_skills: SkillSet) -> None:
    captured = _captured(small_skills)
    other = CapturedRequest(**{**captured.__dict__, "prompt_marker": "something else"})
    with pytest.raises(InputError, match="found 0 times"):
        template_from_capture(other, small_skills)


def test_prompt_options_are_checked(small_skills: SkillSet) -> None:
    assert prompt_from_options({}) is None
    assert prompt_from_options({"prompt": "routelens"}) is None
    with pytest.raises(InputError) as raised:
        prompt_from_options({"prompt": "claud-code"})
    assert raised.value.field == "prompt"
    with pytest.raises(InputError, match="claude-prompt capture"):
        prompt_from_options({"prompt": "claude-code"})
    prompt = template_from_capture(_captured(small_skills), small_skills)
    assert prompt_from_options({"prompt": "claude-code", "claude_code_prompt": prompt}) is prompt
