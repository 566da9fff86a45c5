"""Every span name, attribute, metric name, unit and bucket boundary, defined once.

GenAI names follow the OpenTelemetry semantic conventions for generative AI; the
`routing_test_*`, `test.*` and `claude.*` names are the ones the dashboard plan and existing
dashboards query, kept as they are.
"""

from __future__ import annotations

from typing import Final

# --- spans -------------------------------------------------------------------------------
SUITE_SPAN: Final = "routing_test_suite"
WORKER_SPAN_PREFIX: Final = "worker_"
ATTEMPT_SPAN_PREFIX: Final = "routing_test_"
CHAT_OPERATION: Final = "chat"


def worker_span_name(worker_id: int) -> str:
    """`worker_<id>`."""
    return f"{WORKER_SPAN_PREFIX}{worker_id}"


def attempt_span_name(case_id: str) -> str:
    """`routing_test_<case id>`: the name the plan's span-metrics queries match."""
    return f"{ATTEMPT_SPAN_PREFIX}{case_id}"


def chat_span_name(model: str | None) -> str:
    """`chat <model>` (GenAI conventions: operation name, then the requested model)."""
    return f"{CHAT_OPERATION} {model}" if model else CHAT_OPERATION


# --- suite and worker span attributes ------------------------------------------------------
RUN_ID: Final = "routelens.run.id"
RUN_SEQUENCE: Final = "routelens.run.sequence"
SUITE_NAME: Final = "routelens.suite.name"
SUITE_VERSION: Final = "routelens.suite.version"
SUITE_HASH: Final = "routelens.suite.hash"
ROUTER: Final = "routelens.router"
WORKER_ID: Final = "routelens.worker.id"
ATTEMPTS_PLANNED: Final = "routelens.attempts.planned"
RUN_STATUS: Final = "routelens.run.status"

# --- attempt span attributes the existing dashboards query ---------------------------------
TEST_ID: Final = "test.id"
TEST_CATEGORY: Final = "test.category"
TEST_INPUT_HASH: Final = "test.input.hash"
TEST_INPUT_LENGTH: Final = "test.input.length"
TEST_INPUT: Final = "test.input"  # only with content capture on
TEST_EXPECTED_SKILL: Final = "test.expected_skill"
TEST_ACTUAL_SKILL: Final = "test.actual_skill"
TEST_ROUTING_CORRECT: Final = "test.routing_correct"
TEST_ASKED_CLARIFICATION: Final = "test.asked_clarification"
TEST_PASSED: Final = "test.passed"
TEST_RESULT: Final = "test.result"
TEST_DURATION_MS: Final = "test.duration_ms"
TEST_COST_USD: Final = "test.cost_usd"
TEST_REPEAT_INDEX: Final = "test.repeat_index"
TEST_SEQUENCE_NUMBER: Final = "test.sequence_number"  # P1-16
CLAUDE_MODEL: Final = "claude.model"
CLAUDE_TOKENS_INPUT: Final = "claude.tokens.input"
CLAUDE_TOKENS_OUTPUT: Final = "claude.tokens.output"
CLAUDE_TOKENS_CACHE_READ: Final = "claude.tokens.cache_read"
CLAUDE_TOKENS_CACHE_WRITE: Final = "claude.tokens.cache_write"
CLAUDE_RETRY_COUNT: Final = "claude.retry_count"  # P1-01
API_LATENCY_MS: Final = "routelens.api.latency_ms"  # P1-02
RETRY_WAIT_MS: Final = "routelens.retry.wait_ms"  # P1-02
API_RATE_LIMITED_COUNT: Final = "routelens.api.rate_limited_count"  # P1-03: 429 and 529
API_SERVER_ERROR_COUNT: Final = "routelens.api.server_error_count"  # P1-03: 5xx
SKILL_VERSION: Final = "skill.version"
SKILL_MD_HASH: Final = "skill.md.hash"  # P1-10: the expected skill's SKILL.md
SKILL_MD_HASH_ROUTED: Final = "skill.md.hash.routed"
SKILLS_SET_HASH: Final = "skill.md.hash.set"
VCS_BRANCH: Final = "vcs.branch"
VCS_COMMIT_SHA: Final = "vcs.commit.sha"
ERROR_TYPE: Final = "error.type"

# --- GenAI semantic conventions (chat span and GenAI metrics) -------------------------------
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_TOKEN_TYPE: Final = "gen_ai.token.type"
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"  # only with content capture on
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"  # only with content capture on
HTTP_RESPONSE_STATUS_CODE: Final = "http.response.status_code"
HTTP_REQUEST_RESEND_COUNT: Final = "http.request.resend_count"

PROVIDER_BY_ROUTER: Final = {
    "anthropic": "anthropic",
    "claude-code": "anthropic",
    "openai": "openai",
}

# --- resource attributes -------------------------------------------------------------------
SERVICE_NAME_SUFFIX: Final = "-routing-tests"  # <suite>-routing-tests, as in the plan
DEPLOYMENT_ENVIRONMENT: Final = "deployment.environment.name"
SUITE_VERSION_RESOURCE: Final = "routelens.suite.version"
SERVICE_NAME: Final = "service.name"
SERVICE_VERSION: Final = "service.version"
HOST_NAME: Final = "host.name"
OPENINFERENCE_PROJECT_NAME: Final = "openinference.project.name"  # Arize Phoenix's project
SERVICE_INSTANCE_ID: Final = "service.instance.id"
VCS_REF_HEAD_REVISION: Final = "vcs.ref.head.revision"  # the commit under test
VCS_REF_HEAD_NAME: Final = "vcs.ref.head.name"  # its branch

# --- metrics (names as Prometheus shows them; the OTel names below map onto them) ----------
# Instrument names carry no unit or `_total` suffix that the Prometheus exporter would add
# again: `routing_test` with unit "1" as a counter is exposed as `routing_test_total`.
METRIC_TESTS: Final = "routing_test"
METRIC_DURATION: Final = "routing_test_duration"
METRIC_COST: Final = "routing_test_cost_usd"
METRIC_RETRIES: Final = "routing_test_retries"
METRIC_API_LATENCY: Final = "routing_test_api_latency"
METRIC_API_ERRORS: Final = "routing_test_api_errors"
METRIC_TOKENS: Final = "routing_test_tokens"
METRIC_ACCURACY: Final = "routing_test_accuracy_ratio"
METRIC_GEN_AI_TOKEN_USAGE: Final = "gen_ai.client.token.usage"
METRIC_GEN_AI_OPERATION_DURATION: Final = "gen_ai.client.operation.duration"

UNIT_SECONDS: Final = "s"
UNIT_TOKENS: Final = "{token}"
UNIT_USD: Final = "{USD}"
UNIT_ONE: Final = "1"

# metric labels (bounded: no case id, no input text)
LABEL_CATEGORY: Final = "category"
LABEL_RESULT: Final = "result"
LABEL_EXPECTED_SKILL: Final = "expected_skill"
LABEL_ACTUAL_SKILL: Final = "actual_skill"
LABEL_MODEL: Final = "model"
LABEL_ROUTING_CORRECT: Final = "routing_correct"
LABEL_ERROR_TYPE: Final = "error_type"
LABEL_STATUS: Final = "status"
LABEL_TOKEN_TYPE: Final = "token_type"
LABEL_ROUTER: Final = "router"

NO_SKILL_LABEL: Final = "none"
CLARIFIED_LABEL: Final = "clarified"
NO_ERROR_LABEL: Final = "none"

# Bucket boundaries recommended by the GenAI semantic conventions.
GEN_AI_TOKEN_USAGE_BUCKETS: Final = (
    1,
    4,
    16,
    64,
    256,
    1024,
    4096,
    16384,
    65536,
    262144,
    1048576,
    4194304,
    16777216,
    67108864,
)
GEN_AI_DURATION_BUCKETS: Final = (
    0.01,
    0.02,
    0.04,
    0.08,
    0.16,
    0.32,
    0.64,
    1.28,
    2.56,
    5.12,
    10.24,
    20.48,
    40.96,
    81.92,
)
# Our own: attempt durations (local router: ms; API: seconds) and per-attempt cost in USD.
DURATION_BUCKETS: Final = (
    0.001,
    0.005,
    0.01,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
)
COST_BUCKETS: Final = (0.0, 0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5)
