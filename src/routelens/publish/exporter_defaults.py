"""The exporter's defaults, importable without prometheus-client (the CLI shows them in --help)."""

from __future__ import annotations

from typing import Final

from routelens.config import ExporterSettings

DEFAULT_PORT: Final = 9464
"""The port OpenTelemetry's Prometheus exporter uses by convention."""
DEFAULT_HOST: Final = "127.0.0.1"
"""Loopback only unless asked: the metrics name skills, cases and models."""
DEFAULT_CACHE_SECONDS: Final = ExporterSettings().scrape_cache_seconds
"""Scrapes within this many seconds of a computation are served from it (`[exporter]
scrape_cache_seconds` in the config file, `--cache-seconds` on the command line)."""
