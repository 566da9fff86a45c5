"""How to get an optional part of routelens: one wording for every extra.

routelens is installed from a clone (it is not on a package index), so the hint is the
editable install of the extra.

>>> install_hint("web")
"pip install -e '.[web]' (in a clone of routelens)"
"""

from __future__ import annotations


def install_hint(extra: str) -> str:
    """The command that installs `extra`, for error messages."""
    return f"pip install -e '.[{extra}]' (in a clone of routelens)"
