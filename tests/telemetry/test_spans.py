"""The span tree of a run, checked with an in-memory exporter: names, parents, attributes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from routelens.routers.base import RetryEvent
from routelens.store.records import RunStatus, Verdict
from routelens.suite.models import SkillSet
from routelens.telemetry.run import RunTelemetry
from tests.factories import make_attempt, make_run


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def _provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def _record(
    small_skills: SkillSet,
    exporter: InMemorySpanExporter,
    router: str,
    attempts: list,
    **kw: object,
) -> dict[str, list[ReadableSpan]]:
    run = make_run(
        router=router,
        model="claude-sonnet-4-6",
        git_branch="main",
        git_commit="abc123",
        skills_hash="set-hash",
    )
    with RunTelemetry(
        run,
        small_skills,
        tracer_provider=_provider(exporter),
        meter_provider=MeterProvider(metric_readers=[InMemoryMetricReader()]),
        **kw,
    ) as telemetry:  # type: ignore[arg-type]
        for attempt in attempts:
            telemetry.attempt_finished(attempt)
        telemetry.finish(RunStatus.COMPLETED)
    spans: dict[str, list[ReadableSpan]] = {}
    for span in exporter.get_finished_spans():
        spans.setdefault(span.name, []).append(span)
    return spans


def _attempts(small_skills: SkillSet) -> list:
    issue = small_skills.resolve("jira-issue")
    assert issue is not None
    t = make_attempt().started_at
    return [
        make_attempt(
            "TC1",
            expected="jira-issue",
            worker_id=0,
            sequence_number=0,
            started_at=t,
            finished_at=t + timedelta(seconds=1),
            expected_skill_hash=issue.content_hash,
            actual_skill_hash=issue.content_hash,
            input_tokens=40,
            output_tokens=9,
            cache_read_tokens=900,
            http_status=200,
            response_model="claude-sonnet-4-6",
            latency_s=0.8,
            retries=1,
            retry_wait_s=1.0,
            retry_log=(RetryEvent("rate_limit_error", 429, 1.0),),
        ),
        make_attempt(
            "TC2",
            Verdict.FAIL,
            expected="jira-lifecycle",
            actual="jira-issue",
            worker_id=1,
            sequence_number=1,
            started_at=t,
            finished_at=t + timedelta(seconds=2),
        ),
        make_attempt(
            "TC3",
            Verdict.ERROR,
            expected="jira-search",
            actual=None,
            worker_id=1,
            sequence_number=2,
            error_type="overloaded_error",
            error_message="busy",
            http_status=529,
            started_at=t + timedelta(seconds=2),
            finished_at=t + timedelta(seconds=3),
        ),
    ]


def test_suite_worker_attempt_and_chat_spans_nest(
    small_skills: SkillSet, exporter: InMemorySpanExporter
) -> None:
    spans = _record(small_skills, exporter, "anthropic", _attempts(small_skills))
    (suite,) = spans["routing_test_suite"]
    (worker0,) = spans["worker_0"]
    (worker1,) = spans["worker_1"]
    assert worker0.parent is not None
    assert worker0.parent.span_id == suite.context.span_id
    assert worker1.parent is not None
    assert worker1.parent.span_id == suite.context.span_id
    (tc1,) = spans["routing_test_TC1"]
    (tc3,) = spans["routing_test_TC3"]
    assert tc1.parent is not None
    assert tc1.parent.span_id == worker0.context.span_id
    assert tc3.parent is not None
    assert tc3.parent.span_id == worker1.context.span_id
    chats = spans["chat claude-sonnet-4-6"]
    assert len(chats) == 3
    assert {c.parent.span_id for c in chats if c.parent} == {
        s.context.span_id
        for name in ("routing_test_TC1", "routing_test_TC2", "routing_test_TC3")
        for s in spans[name]
    }
    assert all(c.kind is SpanKind.CLIENT for c in chats)
    assert len({s.context.trace_id for group in spans.values() for s in group}) == 1
    # times are the attempt's own
    assert (tc1.end_time - tc1.start_time) == 1_000_000_000
    assert worker1.end_time == tc3.end_time


def test_attempt_span_attributes_and_status(
    small_skills: SkillSet, exporter: InMemorySpanExporter
) -> None:
    spans = _record(small_skills, exporter, "anthropic", _attempts(small_skills))
    (tc1,) = spans["routing_test_TC1"]
    a = tc1.attributes or {}
    issue = small_skills.resolve("jira-issue")
    assert issue is not None
    assert a["test.id"] == "TC1"
    assert a["test.category"] == "core"
    assert a["test.expected_skill"] == "jira-issue"
    assert a["test.actual_skill"] == "jira-issue"
    assert a["test.routing_correct"] is True
    assert a["test.passed"] is True
    assert a["test.result"] == "pass"
    assert a["test.asked_clarification"] is False
    assert a["test.input.length"] == len("ship it")
    assert len(str(a["test.input.hash"])) == 16
    assert "test.input" not in a  # content capture is off by default
    assert a["claude.model"] == "claude-sonnet-4-6"
    assert a["claude.retry_count"] == 1
    assert (a["claude.tokens.input"], a["claude.tokens.output"]) == (40, 9)
    assert a["routelens.retry.wait_ms"] == 1000.0
    assert a["routelens.api.latency_ms"] == 800.0
    assert a["routelens.api.rate_limited_count"] == 1
    assert a["routelens.worker.id"] == 0
    assert a["test.sequence_number"] == 0
    assert a["skill.md.hash"] == issue.content_hash
    assert a["skill.md.hash.set"] == "set-hash"
    assert (a["vcs.branch"], a["vcs.commit.sha"]) == ("main", "abc123")
    assert tc1.status.status_code is StatusCode.OK
    (tc2,) = spans["routing_test_TC2"]
    assert tc2.status.status_code is StatusCode.ERROR
    assert tc2.status.description == "Expected jira-lifecycle, got jira-issue"
    (tc3,) = spans["routing_test_TC3"]
    assert tc3.status.status_code is StatusCode.ERROR
    assert (tc3.attributes or {})["error.type"] == "overloaded_error"


def test_chat_span_follows_the_genai_conventions(
    small_skills: SkillSet, exporter: InMemorySpanExporter
) -> None:
    spans = _record(small_skills, exporter, "anthropic", _attempts(small_skills))
    by_parent = {c.parent.span_id: c for c in spans["chat claude-sonnet-4-6"] if c.parent}
    (tc1,) = spans["routing_test_TC1"]
    chat = by_parent[tc1.context.span_id].attributes or {}
    assert chat["gen_ai.operation.name"] == "chat"
    assert chat["gen_ai.provider.name"] == "anthropic"
    assert chat["gen_ai.request.model"] == "claude-sonnet-4-6"
    assert chat["gen_ai.response.model"] == "claude-sonnet-4-6"
    assert chat["gen_ai.usage.input_tokens"] == 940  # cached input counts as input
    assert chat["gen_ai.usage.output_tokens"] == 9
    assert chat["gen_ai.usage.cache_read.input_tokens"] == 900
    assert chat["http.response.status_code"] == 200
    assert chat["http.request.resend_count"] == 1
    (tc3,) = spans["routing_test_TC3"]
    error_chat = by_parent[tc3.context.span_id]
    assert (error_chat.attributes or {})["error.type"] == "overloaded_error"
    assert error_chat.status.status_code is StatusCode.ERROR


def test_local_runs_have_no_chat_spans_and_content_is_captured_only_on_request(
    small_skills: SkillSet, exporter: InMemorySpanExporter
) -> None:
    spans = _record(
        small_skills, exporter, "local", _attempts(small_skills)[:1], capture_content=True
    )
    assert not [name for name in spans if name.startswith("chat")]
    (tc1,) = spans["routing_test_TC1"]
    assert (tc1.attributes or {})["test.input"] == "ship it"
    assert "claude.tokens.input" in (tc1.attributes or {})  # this attempt did call an API
    exporter.clear()
    plain = _record(small_skills, exporter, "local", [make_attempt("TC9")])
    (tc9,) = plain["routing_test_TC9"]
    assert "claude.tokens.input" not in (tc9.attributes or {})  # no API call, no API figures


def test_an_interrupted_run_marks_the_suite_span(
    small_skills: SkillSet, exporter: InMemorySpanExporter
) -> None:
    run = make_run(router="local")
    with RunTelemetry(
        run, small_skills, tracer_provider=_provider(exporter), meter_provider=MeterProvider()
    ) as telemetry:
        telemetry.finish(RunStatus.INTERRUPTED)
    (suite,) = exporter.get_finished_spans()
    assert suite.status.status_code is StatusCode.ERROR
    assert (suite.attributes or {})["routelens.run.status"] == "interrupted"
