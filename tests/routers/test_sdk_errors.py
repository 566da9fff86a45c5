"""Which failures of the official SDKs retry: statuses raised by the real SDKs on the wire."""

from __future__ import annotations

import asyncio

import anthropic
import openai
import pytest

from routelens.routers.retry import ApiFailure
from routelens.routers.sdk_errors import classify_sdk_error
from tests.fakes.api_server import FakeApiServer, anthropic_error, drop_connection, openai_error

# status → (Anthropic's error type for it, whether routelens retries it)
STATUSES = {
    400: ("invalid_request_error", False),
    401: ("authentication_error", False),
    403: ("permission_error", False),
    404: ("not_found_error", False),
    408: ("timeout_error", True),  # the request timed out on the way: try again
    409: ("conflict_error", True),  # a conflicting request in flight: try again
    413: ("request_too_large", False),
    429: ("rate_limit_error", True),
    500: ("api_error", True),
    503: ("api_error", True),
    529: ("overloaded_error", True),
}


def anthropic_failure(server: FakeApiServer) -> ApiFailure:
    async def call() -> ApiFailure:
        client = anthropic.AsyncAnthropic(api_key="k", base_url=server.base_url, max_retries=0)
        try:
            await client.messages.create(
                model="claude-sonnet-4-6", max_tokens=8, messages=[{"role": "user", "content": "x"}]
            )
        except anthropic.APIError as error:
            return classify_sdk_error(error, anthropic)
        finally:
            await client.close()
        raise AssertionError("the call was expected to fail")

    return asyncio.run(call())


def openai_failure(server: FakeApiServer) -> ApiFailure:
    async def call() -> ApiFailure:
        client = openai.AsyncOpenAI(api_key="k", base_url=server.openai_base_url, max_retries=0)
        try:
            await client.chat.completions.create(
                model="gpt-4.1-mini", messages=[{"role": "user", "content": "x"}]
            )
        except openai.APIError as error:
            return classify_sdk_error(error, openai)
        finally:
            await client.close()
        raise AssertionError("the call was expected to fail")

    return asyncio.run(call())


@pytest.mark.parametrize("status", sorted(STATUSES))
def test_anthropic_statuses_retry_exactly_when_they_should(status: int) -> None:
    error_type, retryable = STATUSES[status]
    with FakeApiServer() as server:
        server.enqueue(anthropic_error(status, error_type, "says the API"))
        failure = anthropic_failure(server)
    assert failure.retryable is retryable
    assert failure.http_status == status
    assert failure.error_type == error_type
    assert "says the API" in str(failure)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 400, 401])
def test_openai_statuses_follow_the_same_rule(status: int) -> None:
    with FakeApiServer() as server:
        server.enqueue(openai_error(status, "server_error", "says the API", code=f"e{status}"))
        failure = openai_failure(server)
    assert failure.retryable is STATUSES[status][1]
    assert failure.http_status == status


def test_a_dropped_connection_retries_as_a_connection_error() -> None:
    with FakeApiServer() as server:
        server.enqueue(drop_connection())
        failure = anthropic_failure(server)
    assert (failure.error_type, failure.retryable, failure.http_status) == (
        "connection_error",
        True,
        None,
    )
