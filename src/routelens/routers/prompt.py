"""The routing prompt API routers send: how Claude Code offers skills to the model.

A system prompt with an `<available_skills>` block (each skill's name and description), a
tool named `Skill` whose input is `{"skill": <one of the names>}`, and the conversation: any
context turns, then the user's input (with context facts before it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from routelens.routers.base import RouteRequest, RouteResult
from routelens.suite.models import SkillSet

SKILL_TOOL_NAME = "Skill"
SKILL_TOOL_DESCRIPTION = (
    "Invoke a skill by name. Use it when the user's request matches one of the "
    "available skills; the skill's full instructions are then loaded."
)
ROUTING_INSTRUCTIONS = (
    "You are Claude Code. Skills extend what you can do; the available skills are listed "
    "below. When the user's request matches a skill, call the Skill tool with that skill's "
    "name before anything else. When the request could mean more than one skill, or lacks "
    "what you need to act, ask the user one short clarifying question instead (name the "
    "candidate skills when there are several). Do not carry out the task in this reply."
)


def available_skills_block(skills: SkillSet) -> str:
    """`<available_skills>` with one `<skill>` (name, description) per skill, XML-escaped."""
    entries = "\n".join(
        f"<skill>\n<name>{escape(skill.name)}</name>\n"
        f"<description>{escape(skill.description)}</description>\n</skill>"
        for skill in skills.skills
    )
    return f"<available_skills>\n{entries}\n</available_skills>"


def skill_input_schema(skills: SkillSet) -> dict[str, Any]:
    """JSON schema of the Skill tool's input: one required `skill`, an enum of the names."""
    return {
        "type": "object",
        "properties": {
            "skill": {
                "type": "string",
                "enum": list(skills.names),
                "description": "The name of the skill to use.",
            }
        },
        "required": ["skill"],
    }


@dataclass(frozen=True)
class Turn:
    """One conversation message."""

    role: str
    content: str


def conversation(request: RouteRequest) -> list[Turn]:
    """Context turns then the input, roles alternating and starting with the user."""
    final = request.input
    if request.context_facts:
        facts = "\n".join(f"- {key}: {value}" for key, value in request.context_facts.items())
        final = f"Context:\n{facts}\n\n{request.input}"
    pending = [Turn(m.role, m.content) for m in request.context_messages]
    pending.append(Turn("user", final))
    turns: list[Turn] = []
    for message in pending:
        role, content = message.role, message.content
        if not turns and role == "assistant":
            turns.append(Turn("user", "(earlier in this conversation)"))
        if turns and turns[-1].role == role:
            turns[-1] = Turn(role, f"{turns[-1].content}\n\n{content}")
        else:
            turns.append(Turn(role, content))
    return turns


def text_answer(text: str, **usage: Any) -> RouteResult:
    """A reply with no Skill call: a clarifying question when it asks something."""
    return RouteResult(
        skill=None, asked_clarification="?" in text, response_text=text.strip(), **usage
    )
