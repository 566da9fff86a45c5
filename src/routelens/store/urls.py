"""Store URLs without the database layer: the default location and password redaction."""

from __future__ import annotations

import re

DEFAULT_STORE_URL = "sqlite:///.routelens/routelens.sqlite"
"""Where runs go when no store is named: a SQLite file under the working directory."""

# Greedy up to the last "@": passwords may contain "@", and hiding too much is harmless.
_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:).*@")


def redact_url(url: str) -> str:
    """`url` with any password replaced by `***`, for messages and logs.

    >>> redact_url("postgresql://ci:s3cret@db:5432/routelens")
    'postgresql://ci:***@db:5432/routelens'
    """
    return _PASSWORD_IN_URL.sub(r"\1***@", url)
