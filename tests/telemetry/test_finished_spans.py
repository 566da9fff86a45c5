"""Finished spans built in one step equal what `start_span` + `end` make, and obey the sampler."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, DEFAULT_ON, Sampler
from opentelemetry.trace import (
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    Tracer,
)

from routelens.telemetry.finished_spans import FinishedSpans

PARENT = SpanContext(0xABC, 0x123, is_remote=False, trace_flags=TraceFlags(TraceFlags.SAMPLED))
UNSAMPLED_PARENT = SpanContext(0xABC, 0x456, is_remote=False, trace_flags=TraceFlags(0))
ATTRIBUTES = {"test.id": "TC001", "test.passed": False, "test.cost_usd": 0.25, "worker": 3}


class ApiOnlyTracer(Tracer):
    """The SDK's tracer behind the plain API: makes `FinishedSpans` take the API path."""

    def __init__(self, inner: Tracer) -> None:
        self.inner = inner

    def start_span(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner.start_span(*args, **kwargs)

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner.start_as_current_span(*args, **kwargs)


def emitted(sampler: Sampler, *, api_only: bool, parent: SpanContext) -> list[ReadableSpan]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "s"}), sampler=sampler)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("routelens", "1.0")
    spans = FinishedSpans(ApiOnlyTracer(tracer) if api_only else tracer)
    context = spans.emit(
        "routing_test_TC001",
        parent=parent,
        attributes=ATTRIBUTES,
        start_ns=1_000,
        end_ns=5_000,
        status=Status(StatusCode.ERROR, "Expected a, got b"),
    )
    spans.emit(
        "chat m",
        parent=context,
        attributes={"gen_ai.usage.input_tokens": 12},
        start_ns=1_000,
        end_ns=5_000,
        status=Status(StatusCode.UNSET),
        kind=SpanKind.CLIENT,
    )
    return list(exporter.get_finished_spans())


def described(span: ReadableSpan) -> dict[str, Any]:
    """Everything an exporter sends, except the span's own random id."""
    assert span.context is not None
    return {
        "name": span.name,
        "trace_id": span.context.trace_id,
        "sampled": span.context.trace_flags.sampled,
        "under_the_given_parent": span.parent is not None and span.parent.span_id == PARENT.span_id,
        "attributes": dict(span.attributes or {}),
        "kind": span.kind,
        "status": (span.status.status_code, span.status.description),
        "times": (span.start_time, span.end_time),
        "scope": (span.instrumentation_scope.name, span.instrumentation_scope.version)
        if span.instrumentation_scope
        else None,
        "resource": {
            key: value
            for key, value in span.resource.attributes.items()
            if key != "service.instance.id"  # random per provider
        },
    }


def test_one_step_spans_equal_spans_made_through_the_api() -> None:
    fast = emitted(DEFAULT_ON, api_only=False, parent=PARENT)
    slow = emitted(DEFAULT_ON, api_only=True, parent=PARENT)
    assert [described(span) for span in fast] == [described(span) for span in slow]
    attempt, chat = fast
    assert attempt.parent is not None
    assert attempt.parent.span_id == PARENT.span_id
    assert chat.parent is not None
    assert attempt.context is not None
    assert chat.parent.span_id == attempt.context.span_id  # the returned context is the parent
    assert described(attempt)["attributes"] == ATTRIBUTES


@pytest.mark.parametrize(
    ("sampler", "parent", "exported"),
    [
        (ALWAYS_ON, UNSAMPLED_PARENT, 2),
        (DEFAULT_ON, UNSAMPLED_PARENT, 0),  # parent-based: an unsampled parent drops them
        (ALWAYS_OFF, PARENT, 0),
    ],
)
def test_the_tracers_sampler_decides_on_both_paths(
    sampler: Sampler, parent: SpanContext, exported: int
) -> None:
    assert len(emitted(sampler, api_only=False, parent=parent)) == exported
    assert len(emitted(sampler, api_only=True, parent=parent)) == exported
