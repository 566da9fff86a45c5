"""Defaults from `routelens.toml` or `[tool.routelens]` in `pyproject.toml`; flags override."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from routelens.errors import InputError

CONFIG_FILE_NAME = "routelens.toml"
PYPROJECT_FILE_NAME = "pyproject.toml"
PYPROJECT_TABLE = ("tool", "routelens")


class RoutelensConfig(BaseModel):
    """Every setting a run can take from a file. Defaults are the plan's answers (Q1 to Q3)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    skills: Path | None = None
    cases: Path | None = None
    store: str | None = None
    router: str = "local"
    model: str | None = None
    repeat: int = Field(default=1, ge=1, le=1000)
    concurrency: int = Field(default=4, ge=1, le=256)
    timeout_s: float = Field(default=120.0, gt=0)
    slo: float = Field(default=0.85, ge=0, le=1)
    min_accuracy: float | None = Field(default=None, ge=0, le=1)
    max_error_rate: float = Field(default=0.05, ge=0, le=1)
    daily_budget_usd: float = Field(default=25.0, ge=0)
    alert_channel: Literal["slack", "pagerduty", "email"] = "slack"
    environment: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    router_options: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def options_for(self, router: str) -> dict[str, Any]:
        """The `[router_options.<router>]` table, or nothing."""
        return dict(self.router_options.get(router, {}))


def _line_of_key(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=", re.MULTILINE)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _parse_table(text: str, table: dict[str, Any], source: Path) -> RoutelensConfig:
    try:
        config = RoutelensConfig.model_validate(table)
    except ValidationError as validation:
        error = validation.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "config"
        key = str(error["loc"][0]) if error["loc"] else ""
        message = "unknown setting" if error["type"] == "extra_forbidden" else error["msg"]
        raise InputError(source, message, line=_line_of_key(text, key), field=field) from None
    base = source.parent
    return config.model_copy(
        update={
            "skills": base / config.skills if config.skills else None,
            "cases": base / config.cases if config.cases else None,
        }
    )


def _read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"line (\d+)", str(error))
        line = int(match.group(1)) if match else None
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error))
        raise InputError(path, f"invalid TOML: {message}", line=line) from None
    except UnicodeDecodeError as error:
        raise InputError(path, f"not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise InputError(path, f"cannot read: {error.strerror}", field="config") from None


def load_config(explicit: Path | None = None, search_dir: Path | None = None) -> RoutelensConfig:
    """The config from `explicit`, else `routelens.toml`, else `pyproject.toml`, else defaults."""
    folder = search_dir or Path.cwd()
    if explicit is not None:
        if not explicit.exists():
            raise InputError(explicit, "no such config file", field="config")
        candidates = [explicit]
    else:
        candidates = [folder / CONFIG_FILE_NAME, folder / PYPROJECT_FILE_NAME]
    for path in candidates:
        if not path.is_file():
            continue
        text, document = _read_toml(path)
        if path.name == PYPROJECT_FILE_NAME:
            table: Any = document
            for key in PYPROJECT_TABLE:
                table = table.get(key, {}) if isinstance(table, dict) else {}
            if not table and explicit is None:
                continue
            return _parse_table(text, table, path)
        return _parse_table(text, document, path)
    return RoutelensConfig()
