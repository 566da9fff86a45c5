"""A run's spans in a real Arize Phoenix: attempts under the suite's own project, model calls
as LLM spans with their token counts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from routelens.routers.anthropic_router import AnthropicRouter
from routelens.runner.session import RunSettings, create_run, execute_run
from routelens.store import AttemptRecord, open_store
from routelens.suite.models import CaseSuite, SkillSet
from routelens.telemetry.session import run_telemetry
from tests.fakes.api_server import FakeApiServer
from tests.telemetry.phoenix_server import PHOENIX_VENV_VARIABLE, PhoenixServer, phoenix_executable

pytestmark = pytest.mark.skipif(
    phoenix_executable() is None,
    reason=f"{PHOENIX_VENV_VARIABLE} is unset (.ci/run installs arize-phoenix in its own venv)",
)
MODEL = "claude-sonnet-4-6"
SERVICE = "small-routing-tests"  # the small suite's service name


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PhoenixServer]:
    with PhoenixServer(tmp_path_factory.mktemp("phoenix")) as server:
        yield server


def run_through_phoenix(
    phoenix: PhoenixServer, skills: SkillSet, suite: CaseSuite, tmp_path: Path
) -> list[AttemptRecord]:
    with FakeApiServer() as api, open_store(tmp_path / "s.sqlite") as store:
        router = AnthropicRouter(MODEL, api_key="test-key", base_url=api.base_url)
        settings = RunSettings(router="anthropic", model=MODEL, repeat=2, concurrency=2)
        run = create_run(store, skills, suite, settings)
        with run_telemetry(
            run, skills, otlp_endpoint=phoenix.url, capture_content=False
        ) as telemetry:
            assert telemetry is not None
            execute_run(store, run, skills, suite.cases, router, settings, observer=telemetry)
        return store.attempts(run.run_id)


def wait_for_spans(phoenix: PhoenixServer, project: str, count: int) -> list[dict[str, Any]]:
    """Phoenix writes spans in the background: poll until they are all there."""
    deadline = time.monotonic() + 60
    spans: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        if project in phoenix.project_names():
            spans = phoenix.spans(project)
            if len(spans) >= count:
                return spans
        time.sleep(0.5)
    return spans


def test_attempts_arrive_in_the_suites_project_as_llm_spans_with_token_counts(
    phoenix: PhoenixServer,
    small_skills: SkillSet,
    small_suite: CaseSuite,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "none")  # Phoenix takes traces only
    attempts = run_through_phoenix(phoenix, small_skills, small_suite, tmp_path)
    # suite + 2 workers + an attempt span and a chat span per attempt
    spans = wait_for_spans(phoenix, SERVICE, 3 + 2 * len(attempts))

    assert len(spans) == 3 + 2 * len(attempts)
    llm = [span for span in spans if span["span_kind"] == "LLM"]
    assert {span["name"] for span in llm} == {f"chat {MODEL}"}
    attempt_spans = {
        span["context"]["span_id"]: span
        for span in spans
        if span["name"].startswith("routing_test_C")
    }
    assert len(attempt_spans) == len(llm) == len(attempts)
    by_attempt = {
        (span["attributes"]["test.id"], span["attributes"]["test.repeat_index"]): span
        for span in attempt_spans.values()
    }
    for span in llm:
        parent = attempt_spans[span["parent_id"]]
        attempt = next(
            a
            for a in attempts
            if (a.case_id, a.repeat_index)
            == (parent["attributes"]["test.id"], parent["attributes"]["test.repeat_index"])
        )
        counts = span["attributes"]
        assert counts["llm.model_name"] == MODEL
        assert counts["llm.token_count.prompt"] == (
            attempt.input_tokens + attempt.cache_read_tokens + attempt.cache_write_tokens
        )
        assert counts["llm.token_count.completion"] == attempt.output_tokens
        assert counts["llm.token_count.prompt_details.cache_read"] == attempt.cache_read_tokens
        assert counts["llm.token_count.completion"] > 0
    assert len(by_attempt) == len(attempts)
    assert any(a.cache_read_tokens > 0 for a in attempts)  # the prompt cache shows up too
    assert "default" not in phoenix.project_names() or phoenix.spans("default") == []
