"""Spans of one run: `routing_test_suite` → `worker_<id>` → `routing_test_<case>` → `chat <model>`.

Spans are made from attempt records as each attempt ends, with the attempt's own start and
end times, so routers stay free of tracing and a span tree can also be rebuilt from a store.
The suite span opens when the run starts and closes when it ends; a worker span opens with
its worker's first attempt and closes with the run. Attempt and chat spans are finished when
they are made (`finished_spans.py`).
"""

from __future__ import annotations

import json
from datetime import datetime
from types import TracebackType

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanContext, SpanKind, Status, StatusCode, TracerProvider

from routelens import __version__
from routelens.report.junit import failure_message
from routelens.store.records import AttemptRecord, RunRecord, RunStatus, Verdict
from routelens.suite.hashing import input_hash
from routelens.suite.models import SkillSet
from routelens.telemetry import names
from routelens.telemetry.finished_spans import SCOPE_NAME, FinishedSpans
from routelens.telemetry.metrics import actual_label, routing_correct

RATE_LIMITED_STATUSES = frozenset({429, 529})
_OK = Status(StatusCode.OK)
_UNSET = Status(StatusCode.UNSET)


def _ns(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000_000)


def _api_attributes(attempt: AttemptRecord) -> dict[str, int | float]:
    """Tokens, retries and API timing (P1-01 to P1-04); absent for routers with no API call."""
    return {
        names.CLAUDE_TOKENS_INPUT: attempt.input_tokens,
        names.CLAUDE_TOKENS_OUTPUT: attempt.output_tokens,
        names.CLAUDE_TOKENS_CACHE_READ: attempt.cache_read_tokens,
        names.CLAUDE_TOKENS_CACHE_WRITE: attempt.cache_write_tokens,
        names.CLAUDE_RETRY_COUNT: attempt.retries,
        names.API_LATENCY_MS: round(attempt.latency_s * 1000, 3),
        names.RETRY_WAIT_MS: round(attempt.retry_wait_s * 1000, 3),
        names.API_RATE_LIMITED_COUNT: sum(
            1 for e in attempt.retry_log if e.http_status in RATE_LIMITED_STATUSES
        ),
        names.API_SERVER_ERROR_COUNT: sum(
            1
            for e in attempt.retry_log
            if e.http_status is not None
            and e.http_status >= 500
            and e.http_status not in RATE_LIMITED_STATUSES
        ),
    }


class RunSpans:
    """The span tree of one run; an attempt observer for the runner.

    >>> with RunSpans(run, skills, tracer_provider=provider) as spans:  # doctest: +SKIP
    ...     spans.attempt_finished(attempt)
    """

    def __init__(
        self,
        run: RunRecord,
        skills: SkillSet,
        *,
        tracer_provider: TracerProvider,
        capture_content: bool = False,
        planned_attempts: int | None = None,
        run_sequence: int | None = None,
        parent: otel_context.Context | None = None,
    ) -> None:
        self.run = run
        self.skills = skills
        self.capture_content = capture_content
        self.tracer = tracer_provider.get_tracer(SCOPE_NAME, __version__)
        self._finished = FinishedSpans(self.tracer)
        self.planned_attempts = planned_attempts
        self.run_sequence = run_sequence
        self.parent = parent
        self.api_router = run.router in names.PROVIDER_BY_ROUTER
        self.suite_span: Span | None = None
        self.workers: dict[int, Span] = {}
        self._worker_contexts: dict[int, SpanContext] = {}
        self._last_end_ns = 0
        self.final_status: RunStatus | None = None
        # the same on every attempt span of the run: built once
        self._run_attributes: dict[str, str | int | float | bool] = {
            names.CLAUDE_MODEL: run.model or "",
            names.SKILLS_SET_HASH: run.skills_hash,
            **self._vcs(),
        }
        self._skill_versions = {
            skill.name: str(skill.metadata["version"])
            for skill in skills.skills
            if skill.metadata.get("version") is not None
        }

    @property
    def suite_context(self) -> otel_context.Context:
        """The context that makes the suite span the parent (to hand to other processes)."""
        if self.suite_span is None:
            raise RuntimeError("the suite span starts when the RunSpans context is entered")
        return trace.set_span_in_context(self.suite_span)

    def join_suite(self, suite_context: otel_context.Context) -> None:
        """Hang this process's worker spans under a suite span another process opened
        (pytest-xdist workers); that span is neither opened nor ended here."""
        self.suite_span = trace.get_current_span(suite_context)

    def __enter__(self) -> RunSpans:
        attributes: dict[str, str | int] = {
            names.RUN_ID: self.run.run_id,
            names.SUITE_NAME: self.run.suite_name,
            names.SUITE_HASH: self.run.suite_hash,
            names.ROUTER: self.run.router,
            names.CLAUDE_MODEL: self.run.model or "",
            names.SKILLS_SET_HASH: self.run.skills_hash,
        }
        if self.run.suite_version:
            attributes[names.SUITE_VERSION] = self.run.suite_version
        if self.planned_attempts is not None:
            attributes[names.ATTEMPTS_PLANNED] = self.planned_attempts
        if self.run_sequence is not None:
            attributes[names.RUN_SEQUENCE] = self.run_sequence
        attributes.update(self._vcs())
        self.suite_span = self.tracer.start_span(
            names.SUITE_SPAN, context=self.parent, attributes=attributes
        )
        return self

    def _vcs(self) -> dict[str, str]:
        vcs: dict[str, str] = {}
        if self.run.git_branch:
            vcs[names.VCS_BRANCH] = self.run.git_branch
        if self.run.git_commit:
            vcs[names.VCS_COMMIT_SHA] = self.run.git_commit
        return vcs

    def _worker(self, worker_id: int, start_ns: int) -> Span:
        span = self.workers.get(worker_id)
        if span is None:
            span = self.tracer.start_span(
                names.worker_span_name(worker_id),
                context=self.suite_context,
                start_time=start_ns,
                attributes={names.WORKER_ID: worker_id, names.RUN_ID: self.run.run_id},
            )
            self.workers[worker_id] = span
        return span

    def _worker_context(self, worker_id: int, start_ns: int) -> SpanContext:
        context = self._worker_contexts.get(worker_id)
        if context is None:
            context = self._worker(worker_id, start_ns).get_span_context()
            self._worker_contexts[worker_id] = context
        return context

    def attempt_finished(self, attempt: AttemptRecord) -> None:
        """Add the attempt's span (and its API call span) under its worker's span."""
        start_ns, end_ns = _ns(attempt.started_at), _ns(attempt.finished_at)
        self._last_end_ns = max(self._last_end_ns, end_ns)
        if attempt.verdict is Verdict.FAIL:
            status = Status(StatusCode.ERROR, failure_message(attempt))
        elif attempt.verdict is Verdict.ERROR:
            status = Status(StatusCode.ERROR, attempt.error_message or attempt.error_type)
        else:
            status = _OK
        context = self._finished.emit(
            names.attempt_span_name(attempt.case_id),
            parent=self._worker_context(attempt.worker_id, start_ns),
            attributes=self._attempt_attributes(attempt),
            start_ns=start_ns,
            end_ns=end_ns,
            status=status,
        )
        if self.api_router:
            self._chat_span(attempt, context, start_ns, end_ns)

    def _attempt_attributes(self, attempt: AttemptRecord) -> dict[str, str | int | float | bool]:
        attributes: dict[str, str | int | float | bool] = {
            **self._run_attributes,
            names.TEST_ID: attempt.case_id,
            names.TEST_CATEGORY: attempt.category,
            names.TEST_INPUT_HASH: input_hash(attempt.input),
            names.TEST_INPUT_LENGTH: len(attempt.input),
            names.TEST_EXPECTED_SKILL: attempt.expected_skill or names.NO_SKILL_LABEL,
            names.TEST_ACTUAL_SKILL: actual_label(attempt),
            names.TEST_ROUTING_CORRECT: routing_correct(attempt),
            names.TEST_ASKED_CLARIFICATION: attempt.asked_clarification,
            names.TEST_PASSED: attempt.verdict is Verdict.PASS,
            names.TEST_RESULT: str(attempt.verdict),
            names.TEST_DURATION_MS: round(attempt.latency_s * 1000, 3),
            names.TEST_COST_USD: attempt.cost_usd,
            names.TEST_REPEAT_INDEX: attempt.repeat_index,
            names.TEST_SEQUENCE_NUMBER: attempt.sequence_number,
            names.WORKER_ID: attempt.worker_id,
        }
        if self.api_router or attempt.http_status is not None or attempt.cost_usd:
            attributes.update(_api_attributes(attempt))
        if attempt.expected_skill_hash:
            attributes[names.SKILL_MD_HASH] = attempt.expected_skill_hash
        if attempt.actual_skill_hash:
            attributes[names.SKILL_MD_HASH_ROUTED] = attempt.actual_skill_hash
        version = self._skill_versions.get(attempt.expected_skill or "")
        if version is not None:
            attributes[names.SKILL_VERSION] = version
        if attempt.error_type:
            attributes[names.ERROR_TYPE] = attempt.error_type
        if self.capture_content:
            attributes[names.TEST_INPUT] = attempt.input
        return attributes

    def _chat_span(
        self, attempt: AttemptRecord, parent: SpanContext, start_ns: int, end_ns: int
    ) -> None:
        attributes: dict[str, str | int] = {
            names.GEN_AI_OPERATION_NAME: names.CHAT_OPERATION,
            names.GEN_AI_PROVIDER_NAME: names.PROVIDER_BY_ROUTER[self.run.router],
            names.GEN_AI_REQUEST_MODEL: self.run.model or "",
            names.GEN_AI_USAGE_INPUT_TOKENS: attempt.input_tokens
            + attempt.cache_read_tokens
            + attempt.cache_write_tokens,
            names.GEN_AI_USAGE_OUTPUT_TOKENS: attempt.output_tokens,
            names.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: attempt.cache_read_tokens,
            names.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: attempt.cache_write_tokens,
            names.HTTP_REQUEST_RESEND_COUNT: attempt.retries,
        }
        if attempt.response_model:
            attributes[names.GEN_AI_RESPONSE_MODEL] = attempt.response_model
        if attempt.http_status is not None:
            attributes[names.HTTP_RESPONSE_STATUS_CODE] = attempt.http_status
        if attempt.error_type:
            attributes[names.ERROR_TYPE] = attempt.error_type
        if self.capture_content:
            attributes[names.GEN_AI_INPUT_MESSAGES] = json.dumps(
                [{"role": "user", "parts": [{"type": "text", "content": attempt.input}]}]
            )
            attributes[names.GEN_AI_OUTPUT_MESSAGES] = json.dumps(
                [
                    {
                        "role": "assistant",
                        "parts": [{"type": "text", "content": attempt.response_text}],
                    }
                ]
            )
        self._finished.emit(
            names.chat_span_name(self.run.model),
            parent=parent,
            kind=SpanKind.CLIENT,
            attributes=attributes,
            start_ns=start_ns,
            end_ns=end_ns,
            status=(
                Status(StatusCode.ERROR, attempt.error_type)
                if attempt.verdict is Verdict.ERROR
                else _UNSET
            ),
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        end_ns = self._last_end_ns or None
        for span in self.workers.values():
            span.end(end_time=end_ns)
        if self.suite_span is not None:
            status = self.final_status or (RunStatus.FAILED if exc_type else RunStatus.COMPLETED)
            self.suite_span.set_attribute(names.RUN_STATUS, str(status))
            if status is not RunStatus.COMPLETED:
                self.suite_span.set_status(Status(StatusCode.ERROR, str(status)))
            self.suite_span.end()
