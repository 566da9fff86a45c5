"""`routelens patterns`: the window's failed inputs, clustered by meaning, and their terms.

`routelens.store.pattern_reads.read_failed_inputs` reads each distinct failed input with its
counts (SQL GROUP BY, capped); `routelens.analytics.patterns.analyse_failed_inputs` clusters
them; this module shows the clusters as a table or as `--json` (docs/patterns.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from routelens.analytics.patterns import (
    DEFAULT_MIN_CLUSTER_SIZE,
    DEFAULT_SEED,
    ClusterMethod,
    PatternReport,
    analyse_failed_inputs,
    pattern_report_dict,
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
from routelens.report.console import format_percent
from routelens.store import Store
from routelens.store.pattern_reads import MAX_FAILED_INPUTS, read_failed_inputs
from routelens.store.run_lookup import find_run

DEFAULT_WINDOW = "7d"
TERMS_SHOWN = 20


@dataclass(frozen=True)
class FailedInputPatterns:
    """A pattern report with what it was read from: how many failed inputs, whether capped."""

    report: PatternReport
    failed_inputs_total: int
    limit: int

    @property
    def truncated(self) -> bool:
        """Whether the window had more distinct failed inputs than were analysed."""
        return self.failed_inputs_total > self.report.failed_inputs


def build_patterns(
    store: Store,
    attempt_filter: AttemptFilter,
    *,
    skill: str | None = None,
    method: ClusterMethod = ClusterMethod.AGGLOMERATIVE,
    min_cluster_size: int = DEFAULT_MIN_CLUSTER_SIZE,
    seed: int = DEFAULT_SEED,
    limit: int = MAX_FAILED_INPUTS,
) -> FailedInputPatterns:
    """Read the filter's distinct failed inputs (at most `limit`) and cluster them."""
    read = read_failed_inputs(store.engine, attempt_filter, skill=skill, limit=limit)
    report = analyse_failed_inputs(
        read.rows, method=method, min_cluster_size=min_cluster_size, seed=seed
    )
    return FailedInputPatterns(report, read.total, limit)


def patterns_dict(patterns: FailedInputPatterns, **header: Any) -> dict[str, Any]:
    """The object `routelens patterns --json` prints: `header` fields, then the analysis."""
    return {
        **header,
        "failed_inputs_total": patterns.failed_inputs_total,
        "limit": patterns.limit,
        "truncated": patterns.truncated,
        **pattern_report_dict(patterns.report),
    }


def _short(text: str, width: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def render_patterns(console: Console, patterns: FailedInputPatterns) -> None:
    """A table of clusters (most failures first), the unclustered rest and the top terms."""
    report = patterns.report
    if not report.failed_inputs:
        console.print("No failed attempts match.")
        return
    table = Table(title="Failed-input patterns", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("Pattern (top terms)")
    for header in ("Inputs", "Failures", "Accuracy"):
        table.add_column(header, justify="right")
    table.add_column("Examples")
    groups: list[tuple[str, str, Any]] = [(str(c.cluster_id), c.name, c) for c in report.clusters]
    if report.unclustered.inputs:
        groups.append(("-", "(unclustered)", report.unclustered))
    for number, name, group in groups:
        examples = "\n".join(escape(_short(example.input)) for example in group.examples)
        table.add_row(
            number,
            escape(name),
            str(group.inputs),
            str(group.failures),
            format_percent(group.accuracy),
            examples,
        )
    console.print(table)
    terms = ", ".join(f"{escape(t.term)} ({t.failures})" for t in report.terms[:TERMS_SHOWN])
    console.print(f"Terms of failed inputs (failed attempts): {terms or '-'}")
    if patterns.truncated:
        console.print(
            f"Analysed the {report.failed_inputs} most failed of "
            f"{patterns.failed_inputs_total} distinct failed inputs (--limit)."
        )


def patterns_command(
    window: Annotated[
        str | None,
        typer.Option(
            "--window",
            help="Only attempts this recent: 12h, 7d, 4w [default: 7d; all of the run with --run].",
        ),
    ] = None,
    run: Annotated[
        str | None, typer.Option("--run", help="Only this run (an id, a prefix or latest).")
    ] = None,
    skill: Annotated[
        str | None, typer.Option("--skill", help="Only cases expecting this skill.")
    ] = None,
    label: LabelOption = None,
    min_cluster_size: Annotated[
        int, typer.Option("--min-cluster-size", help="Smaller groups stay unclustered.")
    ] = DEFAULT_MIN_CLUSTER_SIZE,
    method: Annotated[
        ClusterMethod, typer.Option("--method", help="How inputs are grouped.")
    ] = ClusterMethod.AGGLOMERATIVE,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the LSA step.")] = DEFAULT_SEED,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="Most distinct failed inputs analysed.")
    ] = MAX_FAILED_INPUTS,
    store: StoreOption = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Cluster the failed inputs by meaning, with each pattern's top terms and accuracy.

    TF-IDF and LSA, then agglomerative clustering (or HDBSCAN); each cluster shows its inputs,
    failures, the accuracy of every attempt on those inputs and example inputs, and the terms
    of all failed inputs are weighted for a word cloud. Needs scikit-learn: the patterns
    extra."""
    # cli.py registers this command, so its helpers are imported when the command runs.

    if min_cluster_size < 2:
        raise InputError(
            "--min-cluster-size", f"{min_cluster_size} is not at least 2", field="min_cluster_size"
        )
    labels = parse_labels(label or [])
    if window is None and run is None:
        window = DEFAULT_WINDOW
    with _open(store, load_config(config_path)) as opened:
        run_ids = () if run is None else (find_run(opened, run).run_id,)
        attempt_filter = AttemptFilter(
            window=None if window is None else parse_window(window), labels=labels, run_ids=run_ids
        )
        patterns = build_patterns(
            opened,
            attempt_filter,
            skill=skill,
            method=method,
            min_cluster_size=min_cluster_size,
            seed=seed,
            limit=limit,
        )
    if as_json:
        header = {
            "window": window,
            "run_id": run_ids[0] if run_ids else None,
            "skill": skill,
            "labels": labels,
        }
        typer.echo(json.dumps(patterns_dict(patterns, **header)))
    else:
        render_patterns(stdout_console(), patterns)
