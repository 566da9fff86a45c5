"""User text inside Prometheus and Alertmanager templates, kept literal.

Alert annotations and several Alertmanager fields (`channel`, `to`, `from`) are Go
templates: a `{{` in a runbook URL or channel name would be evaluated, or break the file.
"""

from __future__ import annotations

OPEN_ACTION = "{{"
_LITERAL_OPEN = '{{ "{{" }}'


def go_template_literal(text: str) -> str:
    """`text` as a Go template that renders to exactly `text`.

    >>> go_template_literal("#alerts-{{env}}")
    '#alerts-{{ "{{" }}env}}'
    """
    return text.replace(OPEN_ACTION, _LITERAL_OPEN)
