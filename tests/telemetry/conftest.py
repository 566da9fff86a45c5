"""Telemetry tests run without the developer's own OTEL_* settings."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def no_otel_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK also reads os.environ: a developer's OTEL_* settings must not leak in."""
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
