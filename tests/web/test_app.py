"""Every page over a store filled by real runs, and `/api/...` against the CLI's `--json`."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient
from typer.testing import CliRunner

from routelens.cli import app
from routelens.config import RoutelensConfig, ServeSettings
from routelens.store import Store
from routelens.web.app import PAGES, create_app
from tests.web.history import FLAKY_CASE, XSS_CASE, FilledStore


def _cli_json(*args: str) -> Any:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def page_urls(filled: FilledStore) -> list[str]:
    """One URL of every page, filled in with things the store has."""
    return [
        "/",
        "/runs",
        f"/runs/{filled.local_runs[0]}",
        f"/runs/{filled.anthropic_run}",
        f"/cases/{quote(XSS_CASE, safe='')}",
        f"/cases/{FLAKY_CASE}",
        "/skills/deploy-app",
        "/changes",
        f"/changes/{filled.event_ids[-1]}",
        "/flaky",
        "/confusion",
        "/coverage",
        "/patterns",
        "/experiments",
        f"/experiments/{filled.experiment}",
        "/sre",
    ]


def test_every_page_and_its_api_twin_answer(client: TestClient, filled: FilledStore) -> None:
    urls = page_urls(filled)
    for page in PAGES:  # every page is among the URLs opened
        pattern = Route(page.path, endpoint=lambda request: None).path_regex
        assert any(pattern.fullmatch(url.split("?")[0]) for url in urls), page.name
    for url in urls:
        page = client.get(url)
        assert page.status_code == 200, (url, page.text[:500])
        assert page.headers["content-type"].startswith("text/html")
        api = client.get("/api/overview" if url == "/" else "/api" + url)
        assert api.status_code == 200, url
        assert api.headers["content-type"] == "application/json"
        assert isinstance(api.json(), dict)


def test_health_answers_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.text == "ok\n"


def test_unknown_things_are_404_with_a_page_and_bad_values_400(
    client: TestClient, filled: FilledStore
) -> None:
    for url in ("/runs/no-such-run", "/cases/no-such-case", "/skills/no-such-skill",
                "/changes/999", "/changes/abc", "/experiments/nope", "/no/such/page"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Not found" in response.text
    assert client.get("/api/runs/no-such-run").json() == {
        "error": "no run 'no-such-run'",
    }
    bad = client.get("/flaky?window=soon")
    assert bad.status_code == 400
    assert "not a duration like 12h, 7d or 4w" in bad.text
    assert client.get("/api/flaky?min_attempts=0").status_code == 400
    assert client.get(f"/runs/{filled.local_runs[0]}?verdict=pass").status_code == 400


def test_run_api_is_show_json_plus_failures(client: TestClient, filled: FilledStore) -> None:
    run_id = filled.anthropic_run
    shown = _cli_json("show", run_id, "--store", filled.url)
    served = client.get(f"/api/runs/{run_id}").json()
    assert {key: served[key] for key in shown} == shown
    failures = served["failure_page"]
    assert failures["total"] == 4  # C4, C5, C7 failed; the XSS case errored
    by_case = {case["case_id"]: case for case in failures["cases"]}
    assert by_case[XSS_CASE]["last_verdict"] == "error"
    assert by_case[XSS_CASE]["error_type"] == "api_error"
    assert by_case["C5"]["actual_skill"] == "deploy-app"
    assert (by_case["C4"]["failed"], by_case["C4"]["attempts"]) == (3, 6)


def test_run_prefix_and_latest_resolve(client: TestClient, filled: FilledStore) -> None:
    run_id = filled.anthropic_run
    assert client.get(f"/api/runs/{run_id[:-2]}").json()["run_id"] == run_id
    newest = client.get("/api/runs").json()["runs"][0]["run_id"]
    assert client.get("/api/runs/latest").json()["run_id"] == newest


def test_runs_api_lists_newest_first_with_totals(client: TestClient, filled: FilledStore) -> None:
    served = client.get("/api/runs").json()
    listed = _cli_json("runs", "--store", filled.url)["runs"]
    assert [run["run_id"] for run in served["runs"]] == [run["run_id"] for run in listed]
    for row, full in zip(served["runs"], listed, strict=True):
        for key in ("attempts", "passed", "failed", "errors", "accuracy", "cases", "status"):
            assert row[key] == full[key], key
    only = client.get("/api/runs?label=release=v1").json()
    assert [run["run_id"] for run in only["runs"]] == [filled.local_runs[0]]
    assert client.get("/api/runs?router=anthropic").json()["total"] == 1


@pytest.mark.parametrize("window", ["7d", "30d"])
def test_flaky_api_is_flaky_json(client: TestClient, filled: FilledStore, window: str) -> None:
    cli = _cli_json("flaky", "--window", window, "--store", filled.url)
    served = client.get(f"/api/flaky?window={window}").json()
    assert (served["window"], served["rule"], served["min_attempts"]) == (
        cli["window"],
        cli["rule"],
        cli["min_attempts"],
    )
    assert served["cases"] == cli["cases"]
    assert served["counts"]["flaky"] == 1
    only = client.get(f"/api/flaky?window={window}&class=flaky").json()
    assert [case["case_id"] for case in only["cases"]] == [FLAKY_CASE]


def test_confusion_api_is_confusion_json(client: TestClient, filled: FilledStore) -> None:
    run_id = filled.anthropic_run
    cli = _cli_json("confusion", "--run", run_id, "--store", filled.url)
    served = client.get(f"/api/confusion?run={run_id}").json()
    assert {key: served[key] for key in cli} == cli
    windowed = _cli_json("confusion", "--window", "7d", "--store", filled.url)
    assert {key: value for key, value in client.get("/api/confusion").json().items()
            if key in windowed} == windowed  # fmt: skip


def test_overview_api_holds_trend_json(client: TestClient, filled: FilledStore) -> None:
    cli = _cli_json("trend", "--window", "30d", "--compare-label", "release", "--store", filled.url)
    served = client.get("/api/overview").json()
    trend = served["trend"]
    assert trend["days"] == cli["days"]
    assert trend["week_over_week"] == cli["week_over_week"]
    assert [g["value"] for g in trend["comparison"]["groups"]] == ["v1", "v2", "v2-anthropic"]
    assert served["executive_summary"]["status"] == "waiting"
    assert served["latest_run"]["run_id"] == client.get("/api/runs").json()["runs"][0]["run_id"]
    cost = _cli_json("cost", "--store", filled.url)
    assert served["cost"]["by_day"] == cost["by_day"]
    assert served["cost"]["projection"] == cost["projection"]
    assert served["cost"]["budget"] == cost["budget"]


def test_change_api_is_changes_impact_json(client: TestClient, filled: FilledStore) -> None:
    event_id = filled.event_ids[-1]
    cli = _cli_json("changes", "impact", str(event_id), "--store", filled.url)["impacts"][0]
    served = client.get(f"/api/changes/{event_id}").json()
    assert {key: served[key] for key in cli} == cli
    assert served["event"]["skill"] == "deploy-app"
    assert served["diff"]["source"] == "git"
    changed = {part["part"]: part["changed"] for part in served["diff"]["parts"]}
    assert changed == {"front matter": True, "body": True}


def test_experiment_api_is_status_json_plus_the_sequence_path(
    client: TestClient, filled: FilledStore
) -> None:
    cli = _cli_json("experiment", "status", filled.experiment, "--store", filled.url)
    served = client.get(f"/api/experiments/{filled.experiment}").json()
    assert {key: served[key] for key in cli} == cli
    path = served["path"]
    assert path[-1]["pairs"] == cli["comparison"]["pairs"]
    assert path[-1]["low"] == pytest.approx(cli["comparison"]["confidence_sequence"]["low"])
    listed = _cli_json("experiment", "list", "--store", filled.url)
    assert client.get("/api/experiments").json() == listed


def test_changes_list_newest_first(client: TestClient, filled: FilledStore) -> None:
    served = client.get("/api/changes").json()
    assert served["total"] == len(filled.event_ids)
    assert served["events"][0]["event_id"] == filled.event_ids[-1]
    only = client.get("/api/changes?skill=deploy-app").json()
    assert {event["skill"] for event in only["events"]} == {"deploy-app"}
    assert only["total"] == 2


def test_grafana_links_follow_the_config(read_only: Store) -> None:
    config = RoutelensConfig(serve=ServeSettings(grafana_url="https://grafana.example/"))
    with TestClient(create_app(read_only, config, cache_seconds=0)) as linked:
        assert (
            'href="https://grafana.example/d/routing-executive?viewPanel=' in linked.get("/").text
        )
        assert (
            'href="https://grafana.example/d/routing-sre-ops?viewPanel=' in linked.get("/sre").text
        )
    with TestClient(create_app(read_only, RoutelensConfig(), cache_seconds=0)) as plain:
        assert "Grafana dashboard" not in plain.get("/").text
