"""`routelens summarize`: a short summary of a window, written by a model or offline.

`routelens.summaries.gather.gather_facts` reads the facts (the reads of trend, flaky, cost
and changes impact); `routelens.summaries.service.SummaryService` asks the model, checks
every number against the facts and caches the text, or writes the offline text
(docs/summaries.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from routelens.analytics.window import AttemptFilter, parse_window
from routelens.commands.common import (
    ConfigOption,
    JsonOption,
    LabelOption,
    StoreOption,
    parse_labels,
    parse_router_options,
)
from routelens.commands.common import open_configured_store as _open
from routelens.config import load_config
from routelens.summaries.gather import gather_facts
from routelens.summaries.service import SummaryService, SummarySettings, summary_dict
from routelens.summaries.writer import RouterChoice


def summarize_command(
    window: Annotated[
        str, typer.Option("--window", help="The window summarised: 12h, 7d, 4w.")
    ] = "7d",
    label: LabelOption = None,
    router: Annotated[
        RouterChoice, typer.Option("--router", help="Who writes the summary.")
    ] = RouterChoice.ANTHROPIC,
    model: Annotated[
        str | None, typer.Option("--model", help="The model [default: the router's].")
    ] = None,
    router_option: Annotated[
        list[str] | None,
        typer.Option("--router-option", help="key=value for the router, repeatable."),
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Write the offline summary; ask no model.")
    ] = False,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            "--cache-dir",
            help="Where summaries are cached [default: $ROUTELENS_SUMMARY_CACHE or "
            ".routelens/summaries].",
        ),
    ] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Write a short summary of the window's results, every number checked against the facts.

    Accuracy and its change from the window before, the weakest skills, newly flaky cases,
    the SKILL.md changes that moved accuracy, and cost. A model writes it from the facts;
    when its text holds a number that is not a fact, when there is no key, the call fails or
    --offline is given, a fixed template states the same facts. Summaries are cached per
    facts and model."""
    # cli.py registers this command, so its helpers are imported when the command runs.

    config = load_config(config_path)
    attempt_filter = AttemptFilter(window=parse_window(window), labels=parse_labels(label or []))
    with _open(store, config) as opened:
        facts = gather_facts(
            opened,
            attempt_filter,
            window=window.strip(),
            slo=config.slo,
            daily_budget_usd=config.daily_budget_usd,
        )
    settings = SummarySettings(
        router=router,
        model=model,
        options=parse_router_options(router_option or []),
        offline=offline,
        cache_dir=cache_dir,
    )
    summary = SummaryService(settings).write(facts)
    if as_json:
        typer.echo(json.dumps(summary_dict(summary, facts)))
        return
    typer.echo(summary.text)
    if summary.reason is not None and not offline:
        typer.echo(f"routelens: offline summary: {summary.reason}", err=True)
