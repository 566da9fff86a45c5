"""The one error type for bad input: it names the file, line and field, and maps to exit code 2."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input from a user file or flag; rendered as one line, never as a traceback.

    >>> str(InputError("cases.yaml", "unknown category 'x'", line=12, field="tests[3].category"))
    "cases.yaml:12: tests[3].category: unknown category 'x'"
    """

    def __init__(
        self,
        source: str | Path,
        message: str,
        *,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.source = str(source)
        self.message = message
        self.line = line
        self.field = field
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """`file:line: field: message`, dropping the parts that are unknown; always one line
        (control characters in a file name or field are escaped, the message's whitespace
        collapsed).
        """
        source = _printable(self.source)
        location = source if self.line is None else f"{source}:{self.line}"
        prefix = f"{location}: {_printable(self.field)}: " if self.field else f"{location}: "
        return prefix + " ".join(self.message.split())

    def detail_lines(self) -> list[str]:
        """Lines printed before the one-line message (a list of several problems); none here."""
        return []


def _printable(text: str) -> str:
    """`text` with each unprintable character (a newline, a control character) escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
