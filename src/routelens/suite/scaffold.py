"""What `routelens init` writes: a starter `routelens.toml` and a case file from the skills found.

The case file holds one `direct` case per skill whose input comes from the skill's own
description, marked so in `notes`: it runs and validates as written, and is meant to be
replaced by what users really say.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from routelens.suite.models import SkillSet

FIRST_SENTENCE = re.compile(r"^(.+?[.!?])(\s|$)", re.DOTALL)
MAX_INPUT_CHARS = 120


def _starter_input(description: str) -> str:
    match = FIRST_SENTENCE.match(description.strip())
    sentence = (match.group(1) if match else description).strip().rstrip(".!?")
    words = " ".join(sentence.split())
    if len(words) > MAX_INPUT_CHARS:
        words = words[:MAX_INPUT_CHARS].rsplit(" ", 1)[0].rstrip(",;:-\N{EN DASH} ")
    return words[:1].lower() + words[1:]


def _quoted(text: str) -> str:
    # JSON strings are valid YAML double-quoted scalars
    return json.dumps(text, ensure_ascii=False)


def starter_cases(skills: SkillSet, suite_name: str) -> str:
    """A golden-set YAML with one `direct` case per skill (ids `start-001`, ...)."""
    lines = [
        "# Written by `routelens init`: one case per skill, its input taken from the skill's own",
        "# description. Replace each input with something a user really says, then add",
        "# disambiguation, negative, workflow, edge and context cases (see the README's Cases).",
        'version: "1.0"',
        f"name: {_quoted(suite_name)}",
        "tests:",
    ]
    for index, skill in enumerate(skills.skills, start=1):
        lines += [
            f"  - id: start-{index:03d}",
            "    category: direct",
            f"    input: {_quoted(_starter_input(skill.description) or skill.name)}",
            f"    expected_skill: {skill.name}",
            '    notes: "generated from the description by routelens init: replace with a real '
            'request"',
        ]
    return "\n".join(lines) + "\n"


def starter_config(skills_dir: Path, cases_file: Path) -> str:
    """A `routelens.toml` naming the skills and cases, with the plan's defaults spelled out."""
    return f"""\
# routelens settings; flags override them. Paths are relative to this file.
skills = {_quoted(skills_dir.as_posix())}
cases = {_quoted(cases_file.as_posix())}
store = "sqlite:///.routelens/routelens.sqlite"
router = "local"               # offline; anthropic, openai or claude-code for a real model
repeat = 3                     # attempts per case: repeats expose flaky routing
concurrency = 4
slo = 0.85                     # the accuracy objective reports compare against
# min_accuracy = 0.85          # uncomment to make `routelens run` a CI gate (exit 1 below it)
max_error_rate = 0.1           # more errors than this fails the gate
daily_budget_usd = 25
# max_cost_usd = 5             # per run: stops scheduling before the run would pass it

[labels]
# team = "assistants"
"""
