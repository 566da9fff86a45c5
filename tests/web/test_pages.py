"""What the pages compute over the filled store, figure by figure."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.web.history import FLAKY_CASE, FilledStore


def test_coverage_flags_the_skill_no_case_expects(client: TestClient, filled: FilledStore) -> None:
    served = client.get(f"/api/coverage?run={filled.local_runs[0]}").json()
    assert served["uncovered"] == ["release-notes"]
    by_skill = {skill["skill"]: skill for skill in served["skills"]}
    assert by_skill["release-notes"]["cases"] == 0
    assert by_skill["deploy-app"]["cases"] == 2  # the hostile-id case and C4
    assert {cell["category"] for cell in by_skill["deploy-app"]["categories"]} == {
        "direct",
        "negative",
    }
    assert by_skill["(ask)"]["cases"] == 2  # C5 and C6 expect a question
    assert by_skill["triage-bug"]["accuracy"] == 0.5  # C3 passes, C7 fails


def test_sre_counts_requests_retries_and_their_kinds(
    client: TestClient, filled: FilledStore
) -> None:
    served = client.get("/api/sre").json()
    (run,) = [row for row in served["by_run"] if row["run_id"] == filled.anthropic_run]
    # attempt 1: 429 and 529 retried, then a 500 it gave up on; attempt 2: two 500s retried
    assert run["attempts"] == 42
    assert run["retries"] == 4
    assert run["requests"] == 46
    assert run["retries_by_kind"] == {"rate_limited": 2, "server_error": 2}
    assert run["rate_limited"] == 2
    assert run["server_errors"] == 3
    assert run["rate_limited_share"] == pytest.approx(2 / 46)
    assert run["server_error_share"] == pytest.approx(3 / 46)
    assert run["workers"] == 1
    assert 0 < run["utilization"] <= 1
    assert run["cache_read_share"] > 0.5  # the prompt cache serves the repeats
    local = [row for row in served["by_run"] if row["router"] == "local"]
    assert all(row["retries"] == 0 and row["cost_usd"] == 0 for row in local)
    assert {model["model"] for model in served["by_model"]} == {"claude-sonnet-4-6", "bm25"}


def test_skill_page_confusions_and_impacts(client: TestClient, filled: FilledStore) -> None:
    served = client.get("/api/skills/review-code").json()
    confusions = {row["skill"]: row for row in served["confused_with"]}
    # C7 (expects triage-bug) goes to review-code; C4 goes there in the anthropic run
    assert confusions["triage-bug"]["routed_here"] > 0
    assert confusions["deploy-app"]["routed_here"] == 3
    deploy = client.get("/api/skills/deploy-app").json()
    assert [impact["event"]["kind"] for impact in deploy["impacts"]] == ["modified", "added"]
    assert deploy["diff"]["to"] == deploy["impacts"][0]["event"]["event_id"]
    assert len(deploy["timeline"]["versions"]) == 2


def test_case_page_defaults_and_bad_attempts(client: TestClient) -> None:
    served = client.get(f"/api/cases/{FLAKY_CASE}").json()
    assert served["diff"]["a"]["verdict"] == "pass"
    assert served["diff"]["b"]["verdict"] == "fail"
    classes = {group["router"]: group["class"] for group in served["flaky"]}
    assert classes["anthropic"] == "flaky"
    assert len(served["strip"]) == served["totals"]["attempts"]
    assert client.get(f"/api/cases/{FLAKY_CASE}?a=999999").status_code == 404
    assert client.get(f"/api/cases/{FLAKY_CASE}?a=x").status_code == 400


def test_patterns_and_summary_wait_for_their_modules(client: TestClient) -> None:
    assert client.get("/api/patterns").json()["status"] == "waiting"
    assert "routelens.analytics.patterns" in client.get("/patterns").text
    assert "routelens.summaries" in client.get("/").text
