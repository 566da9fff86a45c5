"""`routelens flaky`: cases that pass and fail under the same conditions, with how sure we are.

`routelens.store.flaky_history.read_flaky_aggregates` counts each group's attempts (the
history-string SQL); `routelens.analytics.flaky.classify_flaky` does the statistics; this
module shows the result as a table or as `--json` (docs/flaky.md).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from routelens.analytics.flaky import (
    DEFAULT_MIN_ATTEMPTS,
    CaseKey,
    FlakyCase,
    FlakyClass,
    FlakyRule,
    classify_flaky,
)
from routelens.analytics.window import AttemptFilter, parse_window
from routelens.commands.common import (
    ConfigOption,
    JsonOption,
    LabelOption,
    StoreOption,
    parse_labels,
    stdout_console,
)
from routelens.commands.common import open_configured_store as _open
from routelens.config import load_config
from routelens.errors import InputError
from routelens.store import Store
from routelens.store.flaky_history import read_flaky_aggregates

CLASS_STYLES = {
    FlakyClass.FLAKY: "bold yellow",
    FlakyClass.BROKEN: "red",
    FlakyClass.STABLE_PASS: "green",
    FlakyClass.INSUFFICIENT_DATA: "dim",
}


def find_flaky_cases(
    store: Store,
    attempt_filter: AttemptFilter,
    *,
    min_attempts: int = DEFAULT_MIN_ATTEMPTS,
    rule: FlakyRule = FlakyRule.INTERVAL,
) -> list[FlakyCase]:
    """Every group the filter admits, classified and in report order (flaky first)."""
    with store.engine.connect() as connection:
        aggregates = read_flaky_aggregates(connection, attempt_filter)
    return classify_flaky(aggregates, min_attempts=min_attempts, rule=rule)


def key_dict(key: CaseKey) -> dict[str, Any]:
    """The JSON fields naming a group (the input as a short hash)."""
    return {
        "case_id": key.case_id,
        "input_hash": key.input_hash,
        "skills_hash": key.skills_hash,
        "router": key.router,
        "model": key.model,
    }


def flaky_case_dict(case: FlakyCase) -> dict[str, Any]:
    """One case of `routelens flaky --json`."""
    return {**key_dict(case.key), **_statistics_dict(_statistics(case))}


_Statistics = tuple[int, int, int, int, float | None, float, float, float, float, FlakyClass]
"""A case's fields after its key: attempts, passes, errors, flips, pass rate, interval,
flip rate, stability, class. Many groups share them, so their JSON is built once."""


def _statistics(case: FlakyCase) -> _Statistics:
    statistics: _Statistics = case[1:]
    return statistics


@lru_cache(maxsize=65_536)
def _statistics_dict(statistics: _Statistics) -> dict[str, Any]:
    # Rounded once per distinct set of counts; callers copy it into their own dict.
    attempts, passes, errors, flips, pass_rate, ci_low, ci_high, flips_per_pair = statistics[:8]
    stability, flaky_class = statistics[8:]
    return {
        "attempts": attempts,
        "passes": passes,
        "errors": errors,
        "flips": flips,
        "pass_rate": None if pass_rate is None else round(pass_rate, 4),
        "ci_low": round(ci_low, 4),
        "ci_high": round(ci_high, 4),
        "flip_rate": round(flips_per_pair, 4),
        "stability": round(stability, 1),
        "class": str(flaky_class),
    }


def flaky_json(header: dict[str, Any], cases: list[FlakyCase]) -> str:
    """`json.dumps({**header, "cases": [flaky_case_dict(case), ...]})`, built from pieces.

    A long history has a hundred thousand groups; encoding each case's dict would cost more
    than reading the store. A case's text is its input's, its setup's and its counts'
    members, each encoded once and shared by every case that has them.
    """
    document = json.dumps({**header, "cases": []})
    pieces = []
    for case_ in cases:
        key = case_.key
        names = _input_members(key.case_id, key.input)
        setup = _setup_members(key.skills_hash, key.router, key.model)
        counts = _statistics_members(_statistics(case_))
        pieces.append(f"{{{names}, {setup}, {counts}}}")
    return document[: -len("[]}")] + "[" + ", ".join(pieces) + "]}"


def _members(fields: dict[str, Any]) -> str:
    return json.dumps(fields)[1:-1]


@lru_cache(maxsize=65_536)
def _input_members(case_id: str, input_text: str) -> str:
    key = CaseKey(case_id, input_text, "", "", None)
    return _members({"case_id": case_id, "input_hash": key.input_hash})


@lru_cache(maxsize=65_536)
def _setup_members(skills_hash: str, router: str, model: str | None) -> str:
    return _members({"skills_hash": skills_hash, "router": router, "model": model})


@lru_cache(maxsize=65_536)
def _statistics_members(statistics: _Statistics) -> str:
    return _members(_statistics_dict(statistics))


def render_flaky(console: Console, cases: list[FlakyCase]) -> None:
    """A table of cases, coloured by class, flaky first."""
    if not cases:
        console.print("No attempts in this window.")
        return
    table = Table(title="Flaky cases")
    for header in ("case", "router / model", "skills", "attempts", "pass rate", "95% CI"):
        table.add_column(header, justify="right" if header in {"attempts"} else "left")
    for header in ("flips", "stability", "class"):
        table.add_column(header, justify="left" if header == "class" else "right")
    for case_ in cases:
        style = CLASS_STYLES[case_.flaky_class]
        rate = "-" if case_.pass_rate is None else f"{case_.pass_rate:.0%}"
        errors = f" (+{case_.errors} err)" if case_.errors else ""
        table.add_row(
            escape(case_.key.case_id),
            escape(f"{case_.key.router} / {case_.key.model or '-'}"),
            case_.key.skills_hash[:8],
            f"{case_.attempts}{errors}",
            rate,
            f"{case_.ci_low:.0%}-{case_.ci_high:.0%}",
            f"{case_.flips} ({case_.flip_rate:.0%})",
            f"{case_.stability:.0f}",
            f"[{style}]{case_.flaky_class}[/]",
        )
    console.print(table)
    counts = {kind: sum(c.flaky_class is kind for c in cases) for kind in FlakyClass}
    console.print(", ".join(f"{count} {kind}" for kind, count in counts.items()))


def flaky_command(
    window: Annotated[
        str, typer.Option("--window", help="Only attempts this recent: 12h, 7d, 4w.")
    ] = "7d",
    label: LabelOption = None,
    min_attempts: Annotated[
        int,
        typer.Option("--min-attempts", help="Fewer decided attempts: insufficient-data."),
    ] = DEFAULT_MIN_ATTEMPTS,
    rule: Annotated[
        FlakyRule,
        typer.Option("--rule", help="interval: Wilson 95% interval; plan: 30-70% pass rate."),
    ] = FlakyRule.INTERVAL,
    store: StoreOption = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Find flaky cases and score how stable each case is.

    Pass rate with a Wilson 95% interval, flips, stability and class (flaky, broken,
    stable-pass, insufficient-data) per case, router, model and skills."""
    # cli.py registers this command, so its helpers are imported when the command runs.

    if min_attempts < 1:
        raise InputError(
            "--min-attempts", f"{min_attempts} is not at least 1", field="min_attempts"
        )
    attempt_filter = AttemptFilter(window=parse_window(window), labels=parse_labels(label or []))
    with _open(store, load_config(config_path)) as opened:
        cases = find_flaky_cases(opened, attempt_filter, min_attempts=min_attempts, rule=rule)
    if as_json:
        typer.echo(
            flaky_json({"window": window, "rule": str(rule), "min_attempts": min_attempts}, cases)
        )
    else:
        render_flaky(stdout_console(), cases)
