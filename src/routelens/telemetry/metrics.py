"""The plan's `routing_test_*` metrics and the GenAI client metrics, recorded per attempt.

Instrument names and units map onto the Prometheus names the dashboards query: a counter
`routing_test` is exposed as `routing_test_total`, a histogram `routing_test_duration` with
unit `s` as `routing_test_duration_seconds`. Labels stay bounded: category, verdict, skill
names, model, router, error type and status; never a case id or input text.

Counters are counted here, in a dictionary per counter keyed by the label values, and
reported by observable counters when the metrics are collected: an attempt costs a few
dictionary updates instead of one SDK measurement per counter (each of which validates,
sorts and hashes its labels). Histograms have no observable form, so they are recorded as
each attempt ends.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

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


def _observed(
    counts: Counter[tuple[str, ...]], label_names: tuple[str, ...], base: dict[str, str]
) -> Callable[[CallbackOptions], Iterable[Observation]]:
    """A callback reporting each label combination's running total."""

    def observe(options: CallbackOptions) -> Iterable[Observation]:
        for values, total in list(counts.items()):
            yield Observation(total, {**base, **dict(zip(label_names, values, strict=True))})

    return observe


OUTCOME_LABELS = (
    names.LABEL_CATEGORY,
    names.LABEL_RESULT,
    names.LABEL_EXPECTED_SKILL,
    names.LABEL_ACTUAL_SKILL,
    names.LABEL_ROUTING_CORRECT,
    names.LABEL_ERROR_TYPE,
)
API_ERROR_LABELS = (names.LABEL_ERROR_TYPE, names.LABEL_STATUS)
TOKEN_LABELS = (names.LABEL_TOKEN_TYPE,)


class RoutingMetrics:
    """Instruments for one meter provider; `record(attempt)` once per finished attempt."""

    def __init__(self, meter_provider: MeterProvider, run: RunRecord) -> None:
        meter = meter_provider.get_meter("routelens", __version__)
        self.run = run
        self.api_router = run.router in names.PROVIDER_BY_ROUTER
        self._base = {names.LABEL_MODEL: run.model or "", names.LABEL_ROUTER: run.router}
        self._outcomes: Counter[tuple[str, ...]] = Counter()
        self._retries: Counter[tuple[str, ...]] = Counter()
        self._api_errors: Counter[tuple[str, ...]] = Counter()
        self._tokens: Counter[tuple[str, ...]] = Counter()
        self.tests = meter.create_observable_counter(
            names.METRIC_TESTS,
            callbacks=[_observed(self._outcomes, OUTCOME_LABELS, self._base)],
            unit=names.UNIT_ONE,
            description="Routing attempts by outcome",
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
        self.retries = meter.create_observable_counter(
            names.METRIC_RETRIES,
            callbacks=[_observed(self._retries, (), self._base)],
            unit=names.UNIT_ONE,
            description="API calls sent again",
        )
        self.api_latency = meter.create_histogram(
            names.METRIC_API_LATENCY,
            unit=names.UNIT_SECONDS,
            description="Time inside API calls for one attempt, waits between retries excluded",
            explicit_bucket_boundaries_advisory=names.DURATION_BUCKETS,
        )
        self.api_errors = meter.create_observable_counter(
            names.METRIC_API_ERRORS,
            callbacks=[_observed(self._api_errors, API_ERROR_LABELS, self._base)],
            unit=names.UNIT_ONE,
            description="Failed API calls (retried or final) by error type and HTTP status",
        )
        self.tokens = meter.create_observable_counter(
            names.METRIC_TOKENS,
            callbacks=[_observed(self._tokens, TOKEN_LABELS, self._base)],
            unit=names.UNIT_TOKENS,
            description="Tokens by type",
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
        self._timing_labels: dict[tuple[str, str], dict[str, str]] = {}

    def _base_labels(self) -> dict[str, str]:
        return self._base

    def record(self, attempt: AttemptRecord) -> None:
        """Add one finished attempt to every instrument it concerns."""
        base = self._base_labels()
        verdict = str(attempt.verdict)
        self._outcomes[
            (
                attempt.category,
                verdict,
                attempt.expected_skill or names.NO_SKILL_LABEL,
                actual_label(attempt),
                "true" if routing_correct(attempt) else "false",
                attempt.error_type or names.NO_ERROR_LABEL,
            )
        ] += 1
        wall = (attempt.finished_at - attempt.started_at).total_seconds()
        self.duration.record(max(wall, attempt.latency_s), self._timing(attempt.category, verdict))
        if attempt.retries:
            self._retries[()] += attempt.retries
        if self.api_router or attempt.cost_usd or attempt.http_status is not None:
            # an offline router has no API call and no cost: skip the empty measurements
            self.cost.record(attempt.cost_usd, base)
            self._record_api(attempt, base)
        self._record_tokens(attempt)
        if attempt.verdict is not Verdict.ERROR:
            self._decided += 1
            self._passed += attempt.verdict is Verdict.PASS

    def _timing(self, category: str, verdict: str) -> dict[str, str]:
        """The duration's labels, built once per (category, verdict)."""
        labels = self._timing_labels.get((category, verdict))
        if labels is None:
            labels = {**self._base, names.LABEL_CATEGORY: category, names.LABEL_RESULT: verdict}
            self._timing_labels[(category, verdict)] = labels
        return labels

    def _observe_accuracy(self, options: CallbackOptions) -> Iterable[Observation]:
        if self._decided:
            yield Observation(self._passed / self._decided, self._base_labels())

    def _record_api(self, attempt: AttemptRecord, base: dict[str, str]) -> None:
        self.api_latency.record(attempt.latency_s, base)
        for event in attempt.retry_log:
            self._count_api_error(event.error_type, event.http_status)
        if attempt.verdict is Verdict.ERROR and attempt.error_type:
            self._count_api_error(attempt.error_type, attempt.http_status)
        if self.api_router:
            self.gen_ai_duration.record(attempt.latency_s, self._gen_ai_labels(attempt))

    def _count_api_error(self, error_type: str, status: int | None) -> None:
        self._api_errors[(error_type, str(status) if status is not None else "none")] += 1

    def _record_tokens(self, attempt: AttemptRecord) -> None:
        by_type = {
            "input": attempt.input_tokens,
            "output": attempt.output_tokens,
            "cache_read": attempt.cache_read_tokens,
            "cache_write": attempt.cache_write_tokens,
        }
        for token_type, count in by_type.items():
            if count:
                self._tokens[(token_type,)] += count
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
