"""Spans that are over when they are made, built in one step from an attempt's record.

routelens makes an attempt's spans after the attempt ended, with its own start and end times
(see `spans.py`). Through the tracing API that means `start_span`, then `end`: the SDK asks
the sampler, validates every attribute into a bounded mapping, builds a mutable span and
copies it into a `ReadableSpan` when it ends, about 20 µs for an attempt span's twenty-odd
attributes. With the SDK's own tracer, `FinishedSpans` builds the `ReadableSpan` at once and
hands it to the tracer's span processor. The sampler still decides (the SDK's default
samplers' answer is known without asking them), ids still come from the tracer's id
generator; but the attributes (str, bool, int and float values routelens builds itself) are
not validated again, and no mutable span exists, so span processors are told of the span
when it ends (`on_end`), never when it starts. With any other tracer it goes
through `start_span` and `end`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    TraceFlags,
    Tracer,
)
from opentelemetry.util.types import AttributeValue

try:  # the SDK is the `otel` extra; without it every tracer takes the API path
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace import Tracer as SdkTracer
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON, DEFAULT_ON
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
except ImportError:  # pragma: no cover - exercised only without the extra
    SdkTracer = None  # type: ignore[assignment,misc]

SCOPE_NAME = "routelens"
MAX_CACHED_PARENTS = 256
_FLAGS = {
    (sampled, random): TraceFlags(
        (TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT)
        | (TraceFlags.RANDOM_TRACE_ID if random else 0)
    )
    for sampled in (False, True)
    for random in (False, True)
}


class FinishedSpans:
    """Emit spans whose start, end, status and attributes are all known already.

    >>> spans = FinishedSpans(tracer_provider.get_tracer("routelens"))  # doctest: +SKIP
    >>> context = spans.emit("routing_test_TC001", parent=worker_context, ...)  # doctest: +SKIP
    """

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self._sdk = SdkTracer is not None and isinstance(tracer, SdkTracer)
        if self._sdk:
            info = tracer.instrumentation_info  # type: ignore[attr-defined]
            self._scope = InstrumentationScope(info.name, info.version, info.schema_url)
        # parents repeat (a worker's span is the parent of all its attempts): their contexts
        # are made once
        self._parent_contexts: dict[int, otel_context.Context] = {}

    def _context_of(self, parent: SpanContext) -> otel_context.Context:
        context = self._parent_contexts.get(parent.span_id)
        if context is None:
            if len(self._parent_contexts) >= MAX_CACHED_PARENTS:
                self._parent_contexts.clear()
            context = trace.set_span_in_context(NonRecordingSpan(parent))
            self._parent_contexts[parent.span_id] = context
        return context

    def emit(
        self,
        name: str,
        *,
        parent: SpanContext,
        attributes: Mapping[str, AttributeValue],
        start_ns: int,
        end_ns: int,
        status: Status,
        kind: SpanKind = SpanKind.INTERNAL,
    ) -> SpanContext:
        """Record one finished span under `parent`; its context, to hang children under."""
        parent_context = self._context_of(parent)
        if not self._sdk:
            span = self.tracer.start_span(
                name, context=parent_context, kind=kind, attributes=attributes, start_time=start_ns
            )
            span.set_status(status)
            span.end(end_time=end_ns)
            return span.get_span_context()
        sdk: Any = self.tracer
        if sdk.sampler is ALWAYS_ON or (sdk.sampler is DEFAULT_ON and parent.trace_flags.sampled):
            # what these two samplers answer, known without asking them to build it
            recording, sampled, trace_state, kept = True, True, parent.trace_state, attributes
        else:
            sampling = sdk.sampler.should_sample(
                parent_context, parent.trace_id, name, kind, attributes
            )
            recording, sampled = sampling.decision.is_recording(), sampling.decision.is_sampled()
            trace_state, kept = sampling.trace_state, sampling.attributes
        random_trace_id = bool(parent.trace_flags & TraceFlags.RANDOM_TRACE_ID)
        context = SpanContext(
            parent.trace_id,
            sdk.id_generator.generate_span_id(),
            is_remote=False,
            trace_flags=_FLAGS[(sampled, random_trace_id)],
            trace_state=trace_state,
        )
        if recording:
            sdk.span_processor.on_end(
                ReadableSpan(
                    name=name,
                    context=context,
                    parent=parent,
                    resource=sdk.resource,
                    attributes=kept,
                    kind=kind,
                    status=status,
                    start_time=start_ns,
                    end_time=end_ns,
                    instrumentation_scope=self._scope,
                )
            )
        return context
