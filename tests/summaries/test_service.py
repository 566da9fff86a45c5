"""Summaries through the real SDKs against the loopback API: accepted, rejected, failed, cached."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from routelens.summaries.cache import SummaryCache
from routelens.summaries.facts import facts_dict, facts_hash
from routelens.summaries.offline import offline_summary
from routelens.summaries.service import SummaryService, SummarySettings
from routelens.summaries.writer import SUMMARY_INSTRUCTIONS, RouterChoice
from tests.fakes.api_server import (
    FakeApiServer,
    anthropic_api_error,
    anthropic_authentication_error,
    anthropic_text,
    openai_text,
    slow,
)
from tests.summaries.sample import TRUTHFUL, sample_facts

KEY = "sk-ant-summary-sentinel-0123456789"
INVENTED = TRUTHFUL.replace("87.3%", "91.7%")


def service_for(server: FakeApiServer, tmp_path: Path, **settings: object) -> SummaryService:
    options = {"api_key": KEY, "base_url": server.base_url, "max_retries": 1}
    arguments: dict[str, object] = {
        "router": RouterChoice.ANTHROPIC,
        "model": "claude-haiku-4-5",
        "options": options,
        "cache_dir": tmp_path / "cache",
    }
    arguments.update(settings)
    return SummaryService(SummarySettings(**arguments))  # type: ignore[arg-type]


def test_a_truthful_summary_is_used_and_the_facts_are_sent_as_data(
    server: FakeApiServer, tmp_path: Path
) -> None:
    server.enqueue(anthropic_text(TRUTHFUL))
    facts = sample_facts()
    summary = service_for(server, tmp_path).write(facts)
    assert (summary.source, summary.text, summary.reason) == ("llm", TRUTHFUL, None)
    assert summary.writer == "anthropic:claude-haiku-4-5"
    [request] = server.requests
    assert request.path == "/v1/messages"
    sent_key = request.headers.get("x-api-key") or request.headers.get("authorization", "")
    assert sent_key.removeprefix("Bearer ") == KEY
    assert request.body["model"] == "claude-haiku-4-5"
    assert request.body["system"] == SUMMARY_INSTRUCTIONS
    assert "tools" not in request.body
    prompt = request.body["messages"][0]["content"]
    sent = json.loads(prompt.split("\n", 1)[1])
    assert sent["accuracy"]["accuracy"] == "87.3%"
    assert sent["cost"]["spent_in_window"] == "$12.40"


def test_an_invented_number_falls_back_to_the_offline_text(
    server: FakeApiServer, tmp_path: Path
) -> None:
    server.enqueue(anthropic_text(INVENTED))
    facts = sample_facts()
    summary = service_for(server, tmp_path).write(facts)
    assert summary.source == "offline"
    assert summary.text == offline_summary(facts)
    assert summary.reason == "the model's summary stated numbers that are not facts (91.7%)"


def test_api_errors_fall_back_and_are_not_cached(server: FakeApiServer, tmp_path: Path) -> None:
    server.enqueue(anthropic_api_error(), anthropic_api_error())
    facts = sample_facts()
    service = service_for(server, tmp_path)
    summary = service.write(facts)
    assert summary.source == "offline"
    assert summary.text == offline_summary(facts)
    assert summary.reason == "the anthropic call failed: api_error (HTTP 500)"
    assert len(server.requests) == 2  # one retry, then the fallback
    server.enqueue(anthropic_text(TRUTHFUL))
    assert service.write(facts).source == "llm"  # a failure is not remembered by write()


def test_a_wrong_key_falls_back_at_once(server: FakeApiServer, tmp_path: Path) -> None:
    server.enqueue(anthropic_authentication_error())
    summary = service_for(server, tmp_path).write(sample_facts())
    assert summary.source == "offline"
    assert summary.reason == "the anthropic call failed: authentication_error (HTTP 401)"
    assert len(server.requests) == 1


def test_a_cache_hit_sends_no_second_request(server: FakeApiServer, tmp_path: Path) -> None:
    server.enqueue(anthropic_text(TRUTHFUL))
    facts = sample_facts()
    assert service_for(server, tmp_path).write(facts).source == "llm"
    again = service_for(server, tmp_path).write(facts)  # a new service: the cache is on disk
    assert (again.source, again.text) == ("llm", TRUTHFUL)
    assert len(server.requests) == 1
    other_model = service_for(server, tmp_path, model="claude-sonnet-4-6")
    server.enqueue(anthropic_text(TRUTHFUL))
    assert other_model.write(facts).source == "llm"
    assert len(server.requests) == 2  # the cache is per (facts, model)


def test_a_rejected_answer_is_cached_too(server: FakeApiServer, tmp_path: Path) -> None:
    server.enqueue(anthropic_text(INVENTED))
    facts = sample_facts()
    service_for(server, tmp_path).write(facts)
    again = service_for(server, tmp_path).write(facts)
    assert again.source == "offline"
    assert "91.7%" in (again.reason or "")
    assert len(server.requests) == 1
    cached = SummaryCache(tmp_path / "cache").get(facts_hash(facts), "anthropic:claude-haiku-4-5")
    assert cached is not None
    assert (cached.accepted, cached.unsupported) == (False, ("91.7%",))


def test_summary_for_answers_at_once_then_from_the_cache(
    server: FakeApiServer, tmp_path: Path
) -> None:
    server.enqueue(slow(anthropic_text(TRUTHFUL), 0.5))
    facts = sample_facts()
    service = service_for(server, tmp_path)
    first = service.summary_for(facts)
    assert (first.source, first.text) == ("pending", offline_summary(facts))
    assert service.summary_for(facts).source == "pending"  # one request in flight, not two
    assert service.wait(10)
    later = service.summary_for(facts)
    assert (later.source, later.text) == ("llm", TRUTHFUL)
    assert len(server.requests) == 1


def test_summary_for_remembers_a_failure_for_a_while(server: FakeApiServer, tmp_path: Path) -> None:
    server.enqueue(anthropic_authentication_error())
    facts = sample_facts()
    service = service_for(server, tmp_path)
    assert service.summary_for(facts).source == "pending"
    assert service.wait(10)
    after = service.summary_for(facts)
    assert after.source == "offline"
    assert after.reason == "the anthropic call failed: authentication_error (HTTP 401)"
    assert len(server.requests) == 1  # within the cooldown, no new request


def test_offline_and_no_key_ask_nothing(
    server: FakeApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    facts = sample_facts()
    offline = service_for(server, tmp_path, offline=True).summary_for(facts)
    assert (offline.source, offline.reason) == ("offline", "offline requested")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    no_key = SummaryService(
        SummarySettings(options={"base_url": server.base_url}, cache_dir=tmp_path / "cache")
    )
    summary = no_key.summary_for(facts)
    assert summary.source == "offline"
    assert (summary.reason or "").startswith("no model to ask: no API key")
    assert server.requests == []


def test_openai_writes_through_chat_completions(server: FakeApiServer, tmp_path: Path) -> None:
    server.enqueue(openai_text(TRUTHFUL))
    settings = SummarySettings(
        router=RouterChoice.OPENAI,
        model="gpt-test",
        options={"api_key": KEY, "base_url": server.openai_base_url, "max_retries": 0},
        cache_dir=tmp_path / "cache",
    )
    summary = SummaryService(settings).write(sample_facts())
    assert (summary.source, summary.text) == ("llm", TRUTHFUL)
    [request] = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.body["messages"][0] == {"role": "system", "content": SUMMARY_INSTRUCTIONS}
    assert "tools" not in request.body


def test_the_key_is_in_no_cache_file(server: FakeApiServer, tmp_path: Path) -> None:
    server.enqueue(anthropic_text(TRUTHFUL))
    service_for(server, tmp_path).write(sample_facts())
    files = list((tmp_path / "cache").iterdir())
    assert len(files) == 1
    assert KEY not in files[0].read_text()
    assert json.loads(files[0].read_text())["facts_hash"] == facts_hash(sample_facts())
    assert facts_dict(sample_facts())["accuracy"]["passed"] == 1235
