"""YAML loading that remembers the line of every value, so errors can name it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from routelens.errors import InputError

Path_ = tuple[str | int, ...]

# libyaml's parser when PyYAML was built with it (several times faster on a big golden set);
# the same safe constructor either way
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class LocatedYaml:
    """A parsed YAML document and the 1-based line of each value, by path from the root."""

    data: Any
    lines: dict[Path_, int]
    base_line: int = 0

    def line_of(self, path: Path_) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe] + self.base_line
            probe = probe[:-1]
        line = self.lines.get(())
        return None if line is None else line + self.base_line


class DuplicateKeyError(Exception):
    """A mapping names the same key twice (PyYAML would silently keep the last)."""

    def __init__(self, path: Path_, line: int) -> None:
        super().__init__(f"duplicate key {path[-1]!r}")
        self.path = path
        self.line = line


def _record_lines(node: yaml.Node, path: Path_, lines: dict[Path_, int], visited: set[int]) -> None:
    lines[path] = node.start_mark.line + 1
    if id(node) in visited:
        return  # an alias: its lines were recorded where the anchor stands
    visited.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[tuple[str, str]] = set()
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                child = (*path, key_node.value)
                # the tag keeps `1:` (an int) and `"1":` (a string) apart, as PyYAML does
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise DuplicateKeyError(child, key_node.start_mark.line + 1)
                seen.add(key)
                _record_lines(value_node, child, lines, visited)
                lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, (*path, index), lines, visited)


def load_located_yaml(text: str, source: str, *, base_line: int = 0) -> LocatedYaml:
    """Parse one YAML document; a syntax error becomes an `InputError` with its line.

    libyaml parses; when it refuses a document, the pure-Python parser parses it again, so
    that errors are worded and located the same whichever PyYAML is installed.
    """
    if _SafeLoader is not yaml.SafeLoader:
        try:
            return _load_located(text, source, base_line, _SafeLoader)
        except InputError:
            pass
    return _load_located(text, source, base_line, yaml.SafeLoader)


def _load_located(
    text: str, source: str, base_line: int, loader_type: type[yaml.SafeLoader]
) -> LocatedYaml:
    lines: dict[Path_, int] = {}
    try:
        loader = loader_type(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                # before construction: resolving `<<` merge keys rewrites the node tree, and
                # an overridden merged key would then look like a duplicate
                _record_lines(node, (), lines, set())
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except DuplicateKeyError as error:
        raise InputError(
            source, str(error), line=error.line + base_line, field=format_path(error.path)
        ) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 + base_line if mark else None
        problem = error.problem or error.context or "invalid YAML"
        raise InputError(source, f"invalid YAML: {problem}", line=line) from None
    except yaml.reader.ReaderError as error:
        # a control character: the reader knows its position but not its line
        line = text.count("\n", 0, error.position) + 1 + base_line
        character = error.character
        shown = f"#x{character:04x}" if isinstance(character, int) else repr(character)
        message = f"invalid YAML: {error.reason} (character {shown})"
        raise InputError(source, message, line=line) from None
    except yaml.YAMLError as error:
        raise InputError(source, f"invalid YAML: {error}") from None
    except RecursionError:
        raise InputError(source, "invalid YAML: nested too deeply") from None
    except (ValueError, TypeError) as error:
        # SafeLoader can raise these on pathological input, e.g. huge timestamps.
        raise InputError(source, f"invalid YAML: {error}") from None
    return LocatedYaml(data=data, lines=lines, base_line=base_line)


_PLAIN_KEY = re.compile(r"[^\s.\[\]'\"]+")


def format_path(path: Path_) -> str:
    """`('tests', 3, 'category')` → `tests[3].category`; odd keys are quoted: `['a b']`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not _PLAIN_KEY.fullmatch(part):
            # a key with a newline, space or dot must not break the one-line error message
            text += f"[{part!r}]"
        else:
            text += f".{part}" if text else part
    return text
