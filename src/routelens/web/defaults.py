"""The server's defaults, importable without the web extra (the CLI shows them in --help)."""

from __future__ import annotations

from typing import Final

DEFAULT_HOST: Final = "127.0.0.1"
"""Loopback only unless asked: pages show inputs, responses and skill texts."""
DEFAULT_PORT: Final = 8765
DEFAULT_CACHE_SECONDS: Final = 30.0
"""A computed page is reused this long while the store is unchanged."""
TOKEN_VARIABLE: Final = "ROUTELENS_SERVE_TOKEN"
"""The environment variable that holds the token when `--auth-token` is not given."""
