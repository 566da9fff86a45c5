"""The `routelens` command: wires the command modules together, loading each when used."""

from __future__ import annotations

import os

import typer

from routelens.commands.loading import CONTEXT_SETTINGS, LazyCommand, lazy_group_class

COMPLETE_VARIABLE = "_ROUTELENS_COMPLETE"

COMMANDS = (
    LazyCommand(
        "init",
        "routelens.commands.init",
        "Write a starter routelens.toml and case file from the skills a folder holds.",
        "init",
    ),
    LazyCommand(
        "run",
        "routelens.commands.run",
        "Run a routing suite and print the summary; exit 1 when the gate fails.",
        "run",
    ),
    LazyCommand(
        "worker",
        "routelens.commands.worker",
        "Execute queued attempts (from `routelens run --executor`) until Ctrl-C.",
        "worker",
    ),
    LazyCommand(
        "validate",
        "routelens.commands.validate",
        "Check the skills (and cases) without running anything; exit 2 on a problem.",
        "validate",
    ),
    LazyCommand(
        "skills",
        "routelens.commands.skills",
        "List the skills a folder holds, with the names they answer to and their hashes.",
        "skills",
    ),
    LazyCommand(
        "runs", "routelens.commands.runs", "List recorded runs, newest first; delete or prune them."
    ),
    LazyCommand("show", "routelens.commands.show", "Print the summary of one stored run.", "show"),
    LazyCommand(
        "export",
        "routelens.commands.export_runs",
        "Write a run as a bundle: the run, its skills, cases and attempts, one JSON a line.",
        "export",
    ),
    LazyCommand(
        "import",
        "routelens.commands.import_runs",
        "Merge exported runs into the store (CI shards, history from elsewhere).",
        "import_runs",
    ),
    LazyCommand(
        "migrate",
        "routelens.commands.migrate",
        "Bring an existing store to the schema this routelens writes.",
        "migrate",
    ),
    LazyCommand(
        "flaky",
        "routelens.commands.flaky",
        "Find flaky cases and score how stable each case is.",
        "flaky_command",
    ),
    LazyCommand(
        "confidence",
        "routelens.commands.confidence",
        "Show how each case's attempts spread over routes.",
        "confidence_command",
    ),
    LazyCommand(
        "confusion",
        "routelens.commands.confusion",
        "Show which skills get mistaken for which.",
        "confusion_command",
    ),
    LazyCommand(
        "trend", "routelens.commands.trend", "Show routing accuracy over time.", "trend_command"
    ),
    LazyCommand("cost", "routelens.commands.cost", "Show what routing tests cost.", "cost_command"),
    LazyCommand(
        "patterns",
        "routelens.commands.patterns",
        "Cluster the failed inputs by meaning, with each pattern's top terms and accuracy.",
        "patterns_command",
    ),
    LazyCommand(
        "summarize",
        "routelens.commands.summarize",
        "Write a short summary of the window's results, every number checked against the facts.",
        "summarize_command",
    ),
    LazyCommand(
        "compare",
        "routelens.commands.compare",
        "Compare a candidate with a baseline, attempt by attempt and case by case.",
        "compare_command",
    ),
    LazyCommand(
        "power",
        "routelens.commands.power",
        "Minimum accuracy drop N cases x R repeats detect, and the repeats a drop needs.",
        "power_command",
    ),
    LazyCommand(
        "ablate",
        "routelens.commands.ablate",
        "Which part of a skill's description does the routing: remove each, measure the change.",
        "ablate_command",
    ),
    LazyCommand(
        "optimize",
        "routelens.commands.optimize",
        "A better description, proposed on train, chosen on validation, proven on test.",
        "optimize_command",
    ),
    LazyCommand(
        "experiment",
        "routelens.commands.experiment",
        "A/B test two skill versions: interleaved runs, an always-valid comparison.",
        "experiment_app",
    ),
    LazyCommand(
        "changes",
        "routelens.commands.changes",
        "SKILL.md history from git: change events, the runs of each version, their impact.",
        "changes_app",
    ),
    LazyCommand(
        "exporter",
        "routelens.commands.exporter",
        "Serve Prometheus metrics computed from the store at each scrape.",
        "exporter_command",
    ),
    LazyCommand(
        "claude-prompt",
        "routelens.commands.claude_prompt",
        "Capture Claude Code's own request, for API runs that see skills as Claude Code "
        "shows them.",
        "claude_prompt_app",
    ),
    LazyCommand(
        "completion",
        "routelens.commands.completion",
        "Print the shell completion script (or install it with --install).",
        "completion",
    ),
    LazyCommand(
        "serve",
        "routelens.commands.serve",
        "Serve the web dashboard: overview, runs, cases, skills, changes, flaky cases and more.",
        "serve_command",
    ),
    LazyCommand(
        "publish",
        "routelens.commands.publish",
        "Generate monitoring files from the config: rules, alert routes, dashboards.",
        "publish_app",
    ),
)
"""Every command, in the order `routelens --help` lists them."""

app = typer.Typer(
    name="routelens",
    help="Measure, explain and watch how Claude Code skills are routed.",
    cls=lazy_group_class(COMMANDS),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    context_settings=CONTEXT_SETTINGS,
)


@app.callback()
def routelens() -> None:
    """Measure, explain and watch how Claude Code skills are routed."""


def main() -> None:
    """Console-script entry point."""
    if COMPLETE_VARIABLE in os.environ:
        from routelens.commands.completion import prepare_completion_request

        prepare_completion_request()
    app(prog_name="routelens")


if __name__ == "__main__":
    main()
