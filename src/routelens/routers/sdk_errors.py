"""Classify exceptions of the official SDKs (anthropic, openai share their shape) for retries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from routelens.routers.limits import parse_rate_limit_headers
from routelens.routers.retry import ApiFailure

RETRYABLE_STATUSES = frozenset({408, 409, 429, 529})


def _body_error_type(body: object) -> str | None:
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            for key in ("type", "code"):
                if isinstance(inner.get(key), str) and inner[key]:
                    return str(inner[key])
    return None


def _body_error_message(body: object) -> str:
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return " ".join(str(inner["message"]).split())[:300]
    return ""


def classify_sdk_error(error: Exception, sdk: Any) -> ApiFailure:
    """Timeouts, dropped connections, 408/409/429/529 and 5xx retry; other statuses do not.

    `sdk` is the `anthropic` or `openai` module: both define `APITimeoutError`,
    `APIConnectionError` and `APIStatusError` (with `status_code`, `response`, `body`).
    """
    if isinstance(error, sdk.APITimeoutError):
        return ApiFailure("the API did not answer in time", error_type="timeout", retryable=True)
    if isinstance(error, sdk.APIConnectionError):
        return ApiFailure(
            "the connection to the API failed", error_type="connection_error", retryable=True
        )
    if isinstance(error, sdk.APIStatusError):
        status = int(error.status_code)
        snapshot = parse_rate_limit_headers(dict(error.response.headers), datetime.now(UTC))
        error_type = (
            _body_error_type(error.body) or getattr(error, "type", None) or f"http_{status}"
        )
        retryable = status in RETRYABLE_STATUSES or status >= 500
        return ApiFailure(
            f"{error_type} (HTTP {status}) {_body_error_message(error.body)}".strip(),
            error_type=str(error_type),
            retryable=retryable,
            http_status=status,
            snapshot=snapshot,
        )
    return ApiFailure(str(error), error_type=type(error).__name__, retryable=False)
