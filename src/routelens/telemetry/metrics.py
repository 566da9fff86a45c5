"""The plan's `routing_test_*` metrics and the GenAI client metrics, recorded per attempt.

Instrument names and units map onto the Prometheus names the dashboards query: a counter
`routing_test` is exposed as `routing_test_total`, a histogram `routing_test_duration` with
unit `s` as `routing_test_duration_seconds`. Labels stay bounded: category, verdict, skill
names, model, router, error type and status; never a case id or input text.
"""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation

from routelens import __version__
from routelens.store.records import AttemptRecord, RunRecord, Verdict
from routelens.telemetry import names

RATE_LIMITED_STATUSES = frozenset({429, 529})


def routing_correct(attempt: AttemptRecord) -> bool:
    """The route matched the expectation: the expected skill, or a question when none is."""
    if attempt.expected_skill is None:
        return attempt.asked_clarification and attempt.actual_skill is None
    return attempt.actual_skill == attempt.expected_skill


def actual_label(attempt: AttemptRecord) -> str:
    """The routed skill, `clarified`, or `none` (a bounded label value)."""
    if attempt.actual_skill is not None:
        return attempt.actual_skill
    return names.CLARIFIED_LABEL if attempt.asked_clarification else names.NO_SKILL_LABEL


class RoutingMetrics:
    """Instruments for one meter provider; `record(attempt)` once per finished attempt."""

    def __init__(self, meter_provider: MeterProvider, run: RunRecord) -> None:
        meter = meter_provider.get_meter("routelens", __version__)
        self.run = run
        self.api_router = run.router in names.PROVIDER_BY_ROUTER
        self.tests = meter.create_counter(
            names.METRIC_TESTS, unit=names.UNIT_ONE, description="Routing attempts by outcome"
        )
        self.duration = meter.create_histogram(
            names.METRIC_DURATION,
            unit=names.UNIT_SECONDS,
            description="Wall time of one attempt, retries included",
            explicit_bucket_boundaries_advisory=names.DURATION_BUCKETS,
        )
        self.cost = meter.create_histogram(
            names.METRIC_COST,
            unit=names.UNIT_USD,
            description="Cost of one attempt in USD",
            explicit_bucket_boundaries_advisory=names.COST_BUCKETS,
        )
        self.retries = meter.create_counter(
            names.METRIC_RETRIES, unit=names.UNIT_ONE, description="API calls sent again"
        )
        self.api_latency = meter.create_histogram(
            names.METRIC_API_LATENCY,
            unit=names.UNIT_SECONDS,
            description="Time inside API calls for one attempt, waits between retries excluded",
            explicit_bucket_boundaries_advisory=names.DURATION_BUCKETS,
        )
        self.api_errors = meter.create_counter(
            names.METRIC_API_ERRORS,
            unit=names.UNIT_ONE,
            description="Failed API calls (retried or final) by error type and HTTP status",
        )
        self.tokens = meter.create_counter(
            names.METRIC_TOKENS, unit=names.UNIT_TOKENS, description="Tokens by type"
        )
        # observed at collection time, not set per attempt: one measurement less per attempt
        self.accuracy = meter.create_observable_gauge(
            names.METRIC_ACCURACY,
            callbacks=[self._observe_accuracy],
            unit=names.UNIT_ONE,
            description="Passed / decided attempts of the run so far (0-1)",
        )
        self.gen_ai_tokens = meter.create_histogram(
            names.METRIC_GEN_AI_TOKEN_USAGE,
            unit=names.UNIT_TOKENS,
            description="Number of input and output tokens used",
            explicit_bucket_boundaries_advisory=names.GEN_AI_TOKEN_USAGE_BUCKETS,
        )
        self.gen_ai_duration = meter.create_histogram(
            names.METRIC_GEN_AI_OPERATION_DURATION,
            unit=names.UNIT_SECONDS,
            description="GenAI operation duration",
            explicit_bucket_boundaries_advisory=names.GEN_AI_DURATION_BUCKETS,
        )
        self._passed = 0
        self._decided = 0
        self._base = {names.LABEL_MODEL: run.model or "", names.LABEL_ROUTER: run.router}

    def _base_labels(self) -> dict[str, str]:
        return self._base

    def record(self, attempt: AttemptRecord) -> None:
        """Add one finished attempt to every instrument it concerns."""
        base = self._base_labels()
        outcome = {
            **base,
            names.LABEL_CATEGORY: attempt.category,
            names.LABEL_RESULT: str(attempt.verdict),
            names.LABEL_EXPECTED_SKILL: attempt.expected_skill or names.NO_SKILL_LABEL,
            names.LABEL_ACTUAL_SKILL: actual_label(attempt),
            names.LABEL_ROUTING_CORRECT: str(routing_correct(attempt)).lower(),
            names.LABEL_ERROR_TYPE: attempt.error_type or names.NO_ERROR_LABEL,
        }
        self.tests.add(1, outcome)
        wall = (attempt.finished_at - attempt.started_at).total_seconds()
        timing = {
            **base,
            names.LABEL_CATEGORY: attempt.category,
            names.LABEL_RESULT: str(attempt.verdict),
        }
        self.duration.record(max(wall, attempt.latency_s), timing)
        if attempt.retries:
            self.retries.add(attempt.retries, base)
        if self.api_router or attempt.cost_usd or attempt.http_status is not None:
            # an offline router has no API call and no cost: skip the empty measurements
            self.cost.record(attempt.cost_usd, base)
            self._record_api(attempt, base)
        self._record_tokens(attempt, base)
        if attempt.verdict is not Verdict.ERROR:
            self._decided += 1
            self._passed += attempt.verdict is Verdict.PASS

    def _observe_accuracy(self, options: CallbackOptions) -> Iterable[Observation]:
        if self._decided:
            yield Observation(self._passed / self._decided, self._base_labels())

    def _record_api(self, attempt: AttemptRecord, base: dict[str, str]) -> None:
        self.api_latency.record(attempt.latency_s, base)
        failures = [(event.error_type, event.http_status) for event in attempt.retry_log]
        if attempt.verdict is Verdict.ERROR and attempt.error_type:
            failures.append((attempt.error_type, attempt.http_status))
        for error_type, status in failures:
            labels = {
                **base,
                names.LABEL_ERROR_TYPE: error_type,
                names.LABEL_STATUS: str(status) if status is not None else "none",
            }
            self.api_errors.add(1, labels)
        if self.api_router:
            self.gen_ai_duration.record(attempt.latency_s, self._gen_ai_labels(attempt))

    def _record_tokens(self, attempt: AttemptRecord, base: dict[str, str]) -> None:
        by_type = {
            "input": attempt.input_tokens,
            "output": attempt.output_tokens,
            "cache_read": attempt.cache_read_tokens,
            "cache_write": attempt.cache_write_tokens,
        }
        for token_type, count in by_type.items():
            if count:
                self.tokens.add(count, {**base, names.LABEL_TOKEN_TYPE: token_type})
        if self.api_router and attempt.verdict is not Verdict.ERROR:
            labels = self._gen_ai_labels(attempt)
            # the conventions count every input token, cached ones included
            all_input = (
                attempt.input_tokens + attempt.cache_read_tokens + attempt.cache_write_tokens
            )
            self.gen_ai_tokens.record(all_input, {**labels, names.GEN_AI_TOKEN_TYPE: "input"})
            self.gen_ai_tokens.record(
                attempt.output_tokens, {**labels, names.GEN_AI_TOKEN_TYPE: "output"}
            )

    def _gen_ai_labels(self, attempt: AttemptRecord) -> dict[str, str]:
        labels = {
            names.GEN_AI_OPERATION_NAME: names.CHAT_OPERATION,
            names.GEN_AI_PROVIDER_NAME: names.PROVIDER_BY_ROUTER.get(self.run.router, "unknown"),
            names.GEN_AI_REQUEST_MODEL: self.run.model or "",
        }
        if attempt.response_model:
            labels[names.GEN_AI_RESPONSE_MODEL] = attempt.response_model
        if attempt.verdict is Verdict.ERROR and attempt.error_type:
            labels[names.ERROR_TYPE] = attempt.error_type
        return labels
