"""Defaults from `routelens.toml` or `[tool.routelens]` in `pyproject.toml`; flags override."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from routelens.errors import InputError

CONFIG_FILE_NAME = "routelens.toml"
PYPROJECT_FILE_NAME = "pyproject.toml"
PYPROJECT_TABLE = ("tool", "routelens")
_TOML_KEY = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_TOML_HEADER = re.compile(r"^\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
_TOML_ASSIGNMENT = re.compile(rf"^\s*({_TOML_KEY}(?:\s*\.\s*{_TOML_KEY})*)\s*=")


_PROMETHEUS_DURATION = re.compile(r"([0-9]+(ms|s|m|h|d|w|y))+")


def _prometheus_duration(text: str) -> str:
    if not _PROMETHEUS_DURATION.fullmatch(text):
        raise ValueError(f"{text!r} is not a duration such as 30s, 10m or 1h30m")
    return text


PrometheusDuration = Annotated[str, AfterValidator(_prometheus_duration)]
"""A Prometheus/Alertmanager duration such as `10m` or `1h30m`."""


class AlertSettings(BaseModel):
    """`[alerts]`: thresholds and `for` durations of the generated alerting rules.

    The accuracy SLO, daily budget and error-rate limit stay top-level (`slo`,
    `daily_budget_usd`, `max_error_rate`) because runs and reports use them too.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    retry_rate: float = Field(default=0.1, ge=0, strict=True)  # retries per API request, 1 day
    rate_limited_rate: float = Field(default=0.05, ge=0, strict=True)  # 429s per request, 1 day
    cost_spike_factor: float = Field(default=2.0, gt=0, strict=True)  # 1d vs 7d attempt cost
    min_worker_utilization: float = Field(default=0.5, ge=0, le=1, strict=True)
    runbook_url: str = Field(default="docs/alerting.md", min_length=1)
    accuracy_for: PrometheusDuration = "10m"
    daily_cost_for: PrometheusDuration = "5m"
    retry_rate_for: PrometheusDuration = "5m"
    error_rate_for: PrometheusDuration = "10m"
    rate_limited_for: PrometheusDuration = "5m"
    cost_spike_for: PrometheusDuration = "15m"
    worker_utilization_for: PrometheusDuration = "30m"
    collector_for: PrometheusDuration = "5m"
    store_unreadable_for: PrometheusDuration = "5m"


class AlertmanagerSettings(BaseModel):
    """`[alertmanager]`: where `routelens publish alertmanager` sends alerts.

    Secrets are only ever paths to files Alertmanager reads (`*_file`), never values.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    slack_channel: str = Field(default="#routing-alerts", min_length=1)
    slack_api_url_file: str = Field(default="/etc/alertmanager/secrets/slack-api-url", min_length=1)
    pagerduty_routing_key_file: str | None = Field(default=None, min_length=1)
    email_to: str | None = Field(default=None, min_length=1)
    email_from: str | None = Field(default=None, min_length=1)
    email_smarthost: str | None = Field(default=None, pattern=r"^[^\s:]+:[0-9]+$")
    email_auth_username: str | None = Field(default=None, min_length=1)
    email_auth_password_file: str | None = Field(default=None, min_length=1)
    group_wait: PrometheusDuration = "30s"
    group_interval: PrometheusDuration = "5m"
    repeat_interval: PrometheusDuration = "4h"
    critical_repeat_interval: PrometheusDuration = "1h"
    info_repeat_interval: PrometheusDuration = "24h"


class CaseSettings(BaseModel):
    """`[cases]`: how case files and skills are checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # warnings (unknown keys, rules Claude Code lets through) become errors, as --strict
    strict: bool = Field(default=False, strict=True)


class VerdictSettings(BaseModel):
    """`[verdicts]`: choices between verdict rules (docs/golden-set.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # any-step: a workflow case passes on any step's skill (or a question), as the team
    # harnesses do ("Claude may reasonably start with any step"); first-step: only the first
    workflow: Literal["any-step", "first-step"] = "any-step"


class PublishSettings(BaseModel):
    """`[publish]`: how the generated monitoring files point back at routelens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # where `routelens serve` answers, as Grafana users reach it: dashboard tables and stat
    # panels link to its pages (a flaky case to /cases/<id>); unset, no links are made
    serve_url: str | None = Field(default=None, pattern=r"^https?://\S+$")


class ServeSettings(BaseModel):
    """`[serve]`: the web dashboard (`routelens serve`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # the Grafana that shows the generated dashboards: each page links to its dashboard
    grafana_url: str | None = Field(default=None, pattern=r"^https?://\S+$")


class ExporterSettings(BaseModel):
    """`[exporter]`: the Prometheus exporter (`routelens exporter`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # scrapes this close together are served from one computation (0: every scrape computes):
    # two Prometheus servers scraping every 60 s then cost one computation, not two
    scrape_cache_seconds: float = Field(default=15.0, ge=0, strict=True)


class RoutelensConfig(BaseModel):
    """Every setting a run can take from a file. Defaults are the plan's answers (Q1 to Q3)."""

    # numbers are strict: TOML has real types, so `repeat = true` is a mistake, not 1
    model_config = ConfigDict(extra="forbid", frozen=True)

    skills: Path | None = None
    cases: Path | None = None
    store: str | None = None
    router: str = "local"
    model: str | None = None
    repeat: int = Field(default=1, ge=1, le=1000, strict=True)
    concurrency: int = Field(default=4, ge=1, le=256, strict=True)
    timeout_s: float = Field(default=120.0, gt=0, strict=True)
    slo: float = Field(default=0.85, ge=0, le=1, strict=True)
    min_accuracy: float | None = Field(default=None, ge=0, le=1, strict=True)
    max_error_rate: float = Field(default=0.1, ge=0, le=1, strict=True)
    daily_budget_usd: float = Field(default=25.0, ge=0, strict=True)
    max_cost_usd: float | None = Field(default=None, ge=0, strict=True)
    alert_channel: Literal["slack", "pagerduty", "email"] = "slack"
    environment: str | None = None
    # the run label whose values name releases (executive release comparison, `trend`)
    release_label: str = "release"
    # the exporter adds a case_id label only while a suite has at most this many cases
    max_case_labels: int = Field(default=500, ge=0, strict=True)
    labels: dict[str, str] = Field(default_factory=dict)
    router_options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    pricing: dict[str, dict[str, float]] = Field(default_factory=dict)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    alertmanager: AlertmanagerSettings = Field(default_factory=AlertmanagerSettings)
    # `[cases]` as a table (`path`, `strict`) instead of `cases = "FILE"`; see _cases_table
    case_settings: CaseSettings = Field(default_factory=CaseSettings)
    verdicts: VerdictSettings = Field(default_factory=VerdictSettings)

    publish: PublishSettings = Field(default_factory=PublishSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    exporter: ExporterSettings = Field(default_factory=ExporterSettings)

    @model_validator(mode="before")
    @classmethod
    def _cases_table(cls, data: Any) -> Any:
        """`[cases]` with `path = "..."` and `strict = true` is `cases` plus `case_settings`
        (TOML cannot hold both `cases = "FILE"` and a `[cases]` table)."""
        if isinstance(data, dict) and isinstance(data.get("cases"), dict):
            table = dict(data["cases"])
            data = {**data, "cases": table.pop("path", None), "case_settings": table}
        return data

    def options_for(self, router: str) -> dict[str, Any]:
        """The `[router_options.<router>]` table, or nothing."""
        return dict(self.router_options.get(router, {}))


def _toml_key_parts(dotted: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in dotted.split("."))


def _line_of_key(text: str, table: tuple[str, ...], key: tuple[str, ...]) -> int | None:
    """The line setting `key` inside `table`, else the nearest enclosing table or key.

    Only lines inside `table` count: in a pyproject.toml, `[project]` has a `version` too.
    """
    target = (*table, *key)
    best_line: int | None = None
    best_depth = max(len(table) - 1, 0)
    header: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        if match := _TOML_HEADER.match(line):
            header = _toml_key_parts(match.group(1))
            path = header
        elif match := _TOML_ASSIGNMENT.match(line):
            path = (*header, *_toml_key_parts(match.group(1)))
        else:
            continue
        if len(path) > best_depth and target[: len(path)] == path:
            best_line, best_depth = number, len(path)
    return best_line


def _parse_table(
    text: str, table: dict[str, Any], source: Path, table_path: tuple[str, ...] = ()
) -> RoutelensConfig:
    try:
        config = RoutelensConfig.model_validate(table)
    except ValidationError as validation:
        error = validation.errors()[0]
        key = tuple(str(part) for part in error["loc"])
        if key[:1] == ("case_settings",):  # written as the `[cases]` table
            key = ("cases", *key[1:])
        field = ".".join(key) or "config"
        message = "unknown setting" if error["type"] == "extra_forbidden" else error["msg"]
        line = _line_of_key(text, table_path, key)
        raise InputError(source, message, line=line, field=field) from None
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
        if not explicit.is_file():
            raise InputError(explicit, "not a file", field="config")
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
            return _parse_table(text, table, path, PYPROJECT_TABLE)
        return _parse_table(text, document, path)
    return RoutelensConfig()
