"""Claude Code's own request as a template: captured once, filled in for each API attempt.

`routelens claude-prompt capture` runs the user's Claude Code once and keeps the request it
sent (system blocks, tools, the skills listing, parameters, beta headers). The anthropic
router with `--router-option prompt=claude-code` sends that request with three parts filled
in per attempt, each a placeholder in the template:

* the user's prompt (the text block that held the capture's marker prompt);
* the project skills' lines of the listing: the captured line of a skill whose SKILL.md is
  unchanged, else the line as Claude Code writes it (`- <folder>: <description>`, or
  `- <folder> (<name>): ...`, whitespace collapsed, cut at 1536 characters);
* today's date.

Left out: `metadata` (device and session ids) and Claude Code's billing attribution block,
which names Claude Code as the caller; routelens is not Claude Code.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from routelens.errors import InputError
from routelens.routers.base import RouteRequest, RouteResult
from routelens.routers.claude_stream import SKILL_TOOL_NAME, describe_tool_call, skill_name_in
from routelens.routers.claude_workspace import installed_folders
from routelens.routers.prompt import text_answer
from routelens.suite.builtin import route_label
from routelens.suite.models import Skill, SkillSet

TEMPLATE_FORMAT = 1
INPUT_PLACEHOLDER = "{{routelens:input}}"
SKILLS_PLACEHOLDER = "{{routelens:project-skills}}"
DATE_PLACEHOLDER = "{{routelens:date}}"
BILLING_BLOCK_PREFIX = "x-anthropic-billing-header:"
DROPPED_BODY_KEYS = frozenset({"metadata", "stream"})
SDK_ARGUMENT_KEYS = ("model", "max_tokens", "messages")
MAX_DESCRIPTION_CHARS = 1536
# a listing entry: `- name: description`, `- folder (name): ...` or, past the budget, `- name`
_LISTED_NAME = re.compile(r"- ([a-z0-9][\w:.-]*)(?: \([^)]*\))?(?:: |$)")


@dataclass(frozen=True)
class ProjectEntry:
    """The listing line Claude Code wrote for one project skill at capture."""

    folder: str
    skill: str
    content_hash: str
    line: str


@dataclass(frozen=True)
class CapturedRequest:
    """What a capture saw: the request body and headers, and what the session said."""

    body: Mapping[str, Any]
    headers: Mapping[str, str]
    prompt_marker: str
    claude_code_version: str
    session_skills: frozenset[str]
    captured_on: date


@dataclass(frozen=True)
class ClaudeCodePrompt:
    """A captured Claude Code request with placeholders; see the module docstring.

    >>> prompt = ClaudeCodePrompt.from_json(stored.template)  # doctest: +SKIP
    >>> body = render_body(prompt, request, today=date.today())  # doctest: +SKIP
    """

    claude_code_version: str
    model: str
    betas: tuple[str, ...]
    anthropic_version: str | None
    body: Mapping[str, Any]
    project_entries: tuple[ProjectEntry, ...]
    bundled_skills: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The template as stored (JSON types only)."""
        data = asdict(self)
        data["format"] = TEMPLATE_FORMAT
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClaudeCodePrompt:
        """A template from its stored JSON; one of another format is an InputError."""
        if data.get("format") != TEMPLATE_FORMAT:
            raise InputError(
                "claude_prompts",
                f"template format {data.get('format')!r} is not {TEMPLATE_FORMAT}; "
                f"capture the prompt again with `routelens claude-prompt capture`",
                field="format",
            )
        return cls(
            claude_code_version=str(data["claude_code_version"]),
            model=str(data["model"]),
            betas=tuple(data["betas"]),
            anthropic_version=data.get("anthropic_version"),
            body=data["body"],
            project_entries=tuple(ProjectEntry(**entry) for entry in data["project_entries"]),
            bundled_skills=tuple(data["bundled_skills"]),
        )

    @property
    def template_hash(self) -> str:
        """sha256 of the template's canonical JSON: the same capture, the same hash."""
        canonical = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def listing_line(folder: str, skill: Skill) -> str:
    """The line Claude Code lists a project skill with (before any budget shortens it)."""
    label = folder if folder == skill.name else f"{folder} ({skill.name})"
    description = skill.description
    when_to_use = skill.metadata.get("when_to_use")
    if isinstance(when_to_use, str) and when_to_use.strip():
        description = f"{description} - {when_to_use}"
    description = " ".join(description.split())
    if len(description) > MAX_DESCRIPTION_CHARS:
        description = description[: MAX_DESCRIPTION_CHARS - 1] + "…"
    return f"- {label}: {description}"


def _map_texts(body: dict[str, Any], change: Callable[[str], str]) -> None:
    """Apply `change` to every text of the system blocks and messages, in place."""
    for block in body.get("system") or []:
        if isinstance(block, dict) and isinstance(block.get("text"), str):
            block["text"] = change(block["text"])
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            message["content"] = change(content)
            continue
        for block in content or []:
            if isinstance(block, dict) and isinstance(block.get("text"), str):
                block["text"] = change(block["text"])


def _is_entry_of(line: str, folder: str) -> bool:
    return re.match(rf"- {re.escape(folder)}(?=[: (]|$)", line) is not None


def template_from_capture(captured: CapturedRequest, skills: SkillSet) -> ClaudeCodePrompt:
    """Turn a captured request into a template; InputError when its shape is not understood."""
    body = {k: copy.deepcopy(v) for k, v in captured.body.items() if k not in DROPPED_BODY_KEYS}
    system = body.get("system")
    if isinstance(system, list):
        body["system"] = [
            block
            for block in system
            if not str(block.get("text", "")).startswith(BILLING_BLOCK_PREFIX)
        ]
    folders = installed_folders(skills)
    found: dict[str, str] = {}
    bundled: list[str] = []
    prompts = 0

    def templated(text: str) -> str:
        nonlocal prompts
        if text == captured.prompt_marker:
            prompts += 1
            return INPUT_PLACEHOLDER
        lines = text.split("\n")
        entries = [
            index
            for index, line in enumerate(lines)
            if any(_is_entry_of(line, folder) for folder in folders)
        ]
        if entries:
            first, last = entries[0], entries[-1]
            if entries != list(range(first, last + 1)) or found:
                raise _capture_error("the project skills are not one block of the listing")
            for line in lines[first : last + 1]:
                found[next(f for f in folders if _is_entry_of(line, f))] = line
            bundled.extend(_bundled_names(lines[last + 1 :], folders))
            lines[first : last + 1] = [SKILLS_PLACEHOLDER]
        return "\n".join(lines).replace(captured.captured_on.isoformat(), DATE_PLACEHOLDER)

    _map_texts(body, templated)
    if prompts != 1:
        raise _capture_error(f"the prompt was found {prompts} times in the request, not once")
    missing = sorted(set(folders) - set(found))
    if missing:
        raise _capture_error(f"Claude Code did not list these skills: {', '.join(missing)}")
    return ClaudeCodePrompt(
        claude_code_version=captured.claude_code_version,
        model=str(captured.body.get("model")),
        betas=tuple(
            beta.strip()
            for beta in captured.headers.get("anthropic-beta", "").split(",")
            if beta.strip()
        ),
        anthropic_version=captured.headers.get("anthropic-version"),
        body=body,
        project_entries=tuple(
            ProjectEntry(folder, folders[folder].name, folders[folder].content_hash, line)
            for folder, line in sorted(found.items())
        ),
        bundled_skills=tuple(dict.fromkeys(bundled)),
    )


def _bundled_names(lines: Iterable[str], folders: Mapping[str, Skill]) -> list[str]:
    """The entries after the project's: Claude Code's own skills, in listing order."""
    names = []
    for line in lines:
        match = _LISTED_NAME.match(line)
        if match and match.group(1) not in folders:
            names.append(match.group(1))
    return names


def _capture_error(message: str) -> InputError:
    return InputError("claude-prompt capture", message, field="request")


def skill_lines(prompt: ClaudeCodePrompt, skills: SkillSet) -> list[str]:
    """The listing lines for `skills`: captured where the SKILL.md is unchanged."""
    captured = {(e.folder, e.content_hash): e.line for e in prompt.project_entries}
    return [
        captured.get((folder, skill.content_hash)) or listing_line(folder, skill)
        for folder, skill in sorted(installed_folders(skills).items())
    ]


def render_body(
    prompt: ClaudeCodePrompt,
    request: RouteRequest,
    *,
    today: date,
    prompt_text: str,
    prompt_cache: bool = True,
) -> dict[str, Any]:
    """The request body for one attempt (without `stream`, which the SDK call sets)."""
    body = copy.deepcopy(dict(prompt.body))
    listing = "\n".join(skill_lines(prompt, request.skills))

    def filled(text: str) -> str:
        if text == INPUT_PLACEHOLDER:
            return prompt_text
        return text.replace(SKILLS_PLACEHOLDER, listing).replace(
            DATE_PLACEHOLDER, today.isoformat()
        )

    _map_texts(body, filled)
    return body if prompt_cache else _without_cache_control(body)


def _without_cache_control(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_cache_control(v) for k, v in node.items() if k != "cache_control"}
    if isinstance(node, list):
        return [_without_cache_control(item) for item in node]
    return node


def sdk_arguments(body: Mapping[str, Any], prompt: ClaudeCodePrompt) -> dict[str, Any]:
    """Keyword arguments for `client.beta.messages.stream`: the body, the same beta and
    API-version headers, and the `?beta=true` query Claude Code's own SDK adds."""
    arguments = {key: body[key] for key in SDK_ARGUMENT_KEYS}
    arguments["betas"] = list(prompt.betas)
    arguments["extra_query"] = {"beta": "true"}
    if prompt.anthropic_version:
        arguments["extra_headers"] = {"anthropic-version": prompt.anthropic_version}
    arguments["extra_body"] = {k: v for k, v in body.items() if k not in SDK_ARGUMENT_KEYS}
    return arguments


def route_from_content(
    content: Iterable[Any], prompt: ClaudeCodePrompt, skills: SkillSet, **measured: Any
) -> RouteResult:
    """The route in a reply to Claude Code's prompt: its first tool call, as the claude-code
    router reads one (a bundled skill is `builtin:<name>`), else its text."""
    texts: list[str] = []
    for block in content:
        if block.type == "text":
            texts.append(block.text)
        elif block.type == "tool_use":
            tool_input = block.input if isinstance(block.input, dict) else {}
            name = skill_name_in(tool_input) if block.name == SKILL_TOOL_NAME else None
            return RouteResult(
                skill=route_label(name, skills, frozenset(prompt.bundled_skills)),
                response_text="\n".join(texts),
                tool_calls=(describe_tool_call(block.name, tool_input),),
                **measured,
            )
    return text_answer("\n".join(texts), **measured)


PROMPT_OPTION = "prompt"
PROMPT_KINDS = ("routelens", "claude-code")
TEMPLATE_OPTION = "template"
# where the run puts the template it loaded from the store; never recorded on the run
LOADED_TEMPLATE_OPTION = "claude_code_prompt"
ANTHROPIC_PROMPT_OPTIONS = frozenset({PROMPT_OPTION, TEMPLATE_OPTION, LOADED_TEMPLATE_OPTION})


def wants_claude_code_prompt(options: Mapping[str, Any]) -> bool:
    """Whether router options ask for Claude Code's captured prompt (`prompt=claude-code`)."""
    kind = options.get(PROMPT_OPTION, PROMPT_KINDS[0])
    if kind not in PROMPT_KINDS:
        raise InputError(
            "router options",
            f"prompt must be one of {', '.join(PROMPT_KINDS)}, not {kind!r}",
            field=PROMPT_OPTION,
        )
    return bool(kind == "claude-code")


def prompt_from_options(options: Mapping[str, Any]) -> ClaudeCodePrompt | None:
    """The loaded template when the options ask for one; None for routelens's own prompt."""
    if not wants_claude_code_prompt(options):
        return None
    loaded = options.get(LOADED_TEMPLATE_OPTION)
    if not isinstance(loaded, ClaudeCodePrompt):
        raise InputError(
            "router options",
            "prompt=claude-code uses a Claude Code prompt captured into the run's store: run "
            "`routelens claude-prompt capture --skills DIR` first",
            field=PROMPT_OPTION,
        )
    return loaded
