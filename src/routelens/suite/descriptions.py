"""A SKILL.md's text with its description replaced: what `--description SKILL=TEXT` tests.

The replaced text is what the file would hold had the description been edited by hand:
only the `description:` entry of the front matter changes (written as one YAML entry, plain
when it can be), every other line stays byte for byte. Its content hash is the skill's hash
for that run, so the hash is deterministic and equals the hash of the edited file whenever
the edit is written the same way.
"""

from __future__ import annotations

import yaml

_FRONT_MATTER_FENCE = "---"


def description_entry(description: str) -> str:
    """`description: ...` as one YAML entry (quoted only when YAML needs it), no final newline."""
    dumped = yaml.safe_dump(
        {"description": description},
        allow_unicode=True,
        default_flow_style=False,
        sort_keys=False,
        width=float("inf"),
    )
    return dumped.rstrip("\n")


def replace_description(text: str, description: str, *, fallback_name: str) -> str:
    """`text` with its front-matter description set to `description`.

    A file without front matter gets one, naming the skill `fallback_name` (its folder, as
    Claude Code names it); a front matter without a description gets the line appended.
    """
    entry = description_entry(description)
    had_bom = text.startswith("\ufeff")
    plain = text.removeprefix("\ufeff")
    lines = plain.splitlines(keepends=True)
    closing = _closing_fence(lines)
    if closing is None:
        name_line = yaml.safe_dump({"name": fallback_name}, allow_unicode=True).rstrip("\n")
        front = f"{_FRONT_MATTER_FENCE}\n{name_line}\n{entry}\n{_FRONT_MATTER_FENCE}\n"
        return ("\ufeff" if had_bom else "") + front + plain
    front_text = "".join(lines[1:closing])
    start_offset = len(lines[0])
    replaced_front = _replace_in_front_matter(front_text, entry)
    rest = "".join(lines[closing:])
    return ("\ufeff" if had_bom else "") + plain[:start_offset] + replaced_front + rest


def _closing_fence(lines: list[str]) -> int | None:
    if not lines or lines[0].strip() != _FRONT_MATTER_FENCE:
        return None
    for index in range(1, len(lines)):
        if lines[index].strip() == _FRONT_MATTER_FENCE:
            return index
    return None


def _replace_in_front_matter(front_text: str, entry: str) -> str:
    """Swap the span from the `description` key to the end of its value for `entry`."""
    node = yaml.compose(front_text, Loader=yaml.SafeLoader) if front_text.strip() else None
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == "description":
                start = key_node.start_mark.index
                end = value_node.end_mark.index
                # a block scalar's value runs to the start of the next line; keep the newline
                tail = front_text[end:]
                span = front_text[start:end]
                newline = "\n" if span.endswith("\n") else ""
                return front_text[:start] + entry + newline + tail
    separator = "" if not front_text or front_text.endswith("\n") else "\n"
    return front_text + separator + entry + "\n"
