"""Store URLs without the database layer: the default location and password redaction."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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


SECRET_NAME_PATTERN = re.compile(
    r"(?:^|[_\-.])(?:\w*?(?:key|token|secret|password|passwd)|auth\w*|credentials?)(?:$|[_\-.])",
    re.IGNORECASE,
)
"""Option and query-string names that suggest a secret, word by word: `api_key`,
`auth_token`, `client_secret`, `db_password`, `authorization`, but not `max_tokens`.
Never stored, never printed."""


def strip_url_credentials(url: str) -> str:
    """`url` without user and password, and without query values named like secrets.

    >>> strip_url_credentials("https://ci:s3cret@llm.internal/v1?api_key=k&region=eu")
    'https://llm.internal/v1?region=eu'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.scheme or not parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    query = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not SECRET_NAME_PATTERN.search(name)
    ]
    return urlunsplit((parts.scheme, host, parts.path, urlencode(query), parts.fragment))


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite store URL (`sqlite:///x.sqlite` or a plain path), else None;
    read without SQLAlchemy, for commands that only need to know whether a store exists.

    >>> sqlite_file("sqlite:///.routelens/routelens.sqlite")
    PosixPath('.routelens/routelens.sqlite')
    >>> sqlite_file("postgresql://db/routelens") is None
    True
    """
    if "://" not in url:
        return Path(url)
    if not url.startswith("sqlite:///"):
        return None
    database = url.removeprefix("sqlite:///").split("?", 1)[0]
    return Path(database) if database and database != ":memory:" else None
