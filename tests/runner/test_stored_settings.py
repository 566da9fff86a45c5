"""What a run keeps of its settings: never a credential, in an option name or inside a URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routelens.cli import app
from routelens.runner.session import RunSettings
from routelens.store import open_store
from routelens.store.urls import strip_url_credentials

runner = CliRunner()
SENTINEL = "s3cr3t-sentinel"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (f"http://user:{SENTINEL}@127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"),
        (f"https://h/v1?api_key={SENTINEL}&region=eu", "https://h/v1?region=eu"),
        (f"https://h/v1?Token={SENTINEL}", "https://h/v1"),
        ("https://h:8443/v1?x=1#f", "https://h:8443/v1?x=1#f"),
        ("not a url", "not a url"),
    ],
)
def test_urls_lose_their_credentials(given: str, stored: str) -> None:
    assert strip_url_credentials(given) == stored


@pytest.mark.parametrize(
    "name", ["api_key", "auth_token", "client_secret", "db_password", "authorization", "API_KEY"]
)
def test_options_named_like_secrets_are_not_stored(name: str) -> None:
    settings = RunSettings(router_options={name: SENTINEL, "temperature": 0.2})
    assert settings.storable()["router_options"] == {"temperature": 0.2}


def test_a_credential_in_base_url_reaches_neither_store_nor_export(
    skills_dir: Path, cases_file: Path, tmp_path: Path
) -> None:
    store_url = f"sqlite:///{tmp_path / 's.sqlite'}"
    result = runner.invoke(
        app,
        [
            "run",
            "--skills",
            str(skills_dir),
            "--cases",
            str(cases_file),
            "--store",
            store_url,
            "--router",
            "tests.support_routers:url_router",
            "--json",
            "--router-option",
            f"base_url=http://ci:{SENTINEL}@127.0.0.1:9/v1?token={SENTINEL}",
        ],
    )
    assert result.exit_code == 0, result.output
    run_id = json.loads(result.stdout)["run_id"]
    with open_store(store_url) as store:
        run = store.get_run(run_id)
    assert run is not None
    assert run.settings["router_options"] == {"base_url": "http://127.0.0.1:9/v1"}
    out = tmp_path / "run.jsonl"
    assert (
        runner.invoke(app, ["export", run_id, "--out", str(out), "--store", store_url]).exit_code
        == 0
    )
    assert SENTINEL not in out.read_text()
    assert SENTINEL not in (tmp_path / "s.sqlite").read_bytes().decode("latin-1")


@pytest.mark.parametrize("name", ["max_tokens", "timeout_s", "base_url", "limiter_url", "tokens"])
def test_options_that_only_look_like_secrets_are_kept(name: str) -> None:
    settings = RunSettings(router_options={name: 256})
    assert settings.storable()["router_options"] == {name: 256}
