"""`routelens publish`: write Prometheus rules, alertmanager.yml and Grafana dashboards."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Annotated

import typer

from routelens.commands.common import ConfigOption, JsonOption, command_group, reports_input_errors
from routelens.config import CONFIG_FILE_NAME, PYPROJECT_FILE_NAME, load_config
from routelens.errors import InputError
from routelens.extras import install_hint
from routelens.publish.alertmanager import write_alertmanager
from routelens.publish.rules import write_rule_files

publish_app = command_group(
    "publish", "Generate monitoring files from the config: rules, alert routes, dashboards."
)

OutDirOption = Annotated[Path, typer.Option("--out", help="Folder to write the files into.")]


def _config_source(explicit: Path | None) -> Path | str:
    """The file `load_config` read, to name in errors about settings it lacks."""
    if explicit is not None:
        return explicit
    found = [Path(name) for name in (CONFIG_FILE_NAME, PYPROJECT_FILE_NAME) if Path(name).is_file()]
    return found[0] if found else "config"


def _print_written(paths: list[Path], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"files": [str(path) for path in paths]}))
        return
    for path in paths:
        typer.echo(f"wrote {path}")


@publish_app.command("rules")
@reports_input_errors
def rules(out: OutDirOption, as_json: JsonOption = False, config_path: ConfigOption = None) -> None:
    """Write the Prometheus recording and alerting rules (load both with `rule_files`).

    --out is a folder: the two files are routelens-recording.rules.yml and
    routelens-alerts.rules.yml."""
    if out.suffix.lower() in (".yml", ".yaml") and not out.is_dir():
        raise InputError(
            out,
            "--out is a folder for the two rule files, not a file name; "
            f"try --out {out.parent / 'rules'}",
            field="out",
        )
    _print_written(write_rule_files(out, load_config(config_path)), as_json)


@publish_app.command("alertmanager")
@reports_input_errors
def alertmanager(
    out: Annotated[Path, typer.Option("--out", help="alertmanager.yml to write.")],
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Write alertmanager.yml: Slack, PagerDuty or email (alert_channel), routed by severity."""
    config = load_config(config_path)
    _print_written([write_alertmanager(out, config, _config_source(config_path))], as_json)


@publish_app.command("grafana")
@reports_input_errors
def grafana(
    out: OutDirOption,
    datasource_url: Annotated[
        str,
        typer.Option(help="The Prometheus the provisioned datasource points at.", metavar="URL"),
    ] = "http://127.0.0.1:9090",
    dashboards_path: Annotated[
        str,
        typer.Option(
            help="Where Grafana sees the dashboards folder (the provisioning file points there).",
            metavar="PATH",
        ),
    ] = "/etc/grafana/dashboards",
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """Write the Grafana dashboards and their provisioning files."""
    try:
        from routelens.publish.grafana import write_dashboards
    except ImportError as error:
        raise InputError(
            "routelens publish grafana",
            f"needs grafana-foundation-sdk ({error.name} is missing): {install_hint('publish')}",
        ) from None
    if not datasource_url.startswith(("http://", "https://")):
        raise InputError("--datasource-url", f"{datasource_url!r} is not an http(s) URL")
    written = write_dashboards(
        out,
        load_config(config_path),
        prometheus_url=datasource_url,
        grafana_dashboards_path=PurePosixPath(dashboards_path),
    )
    _print_written(written, as_json)
