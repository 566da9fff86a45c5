"""Retry kinds, shares and worker utilisation."""

from __future__ import annotations

import pytest

from routelens.analytics.api_health import (
    ERROR_KIND_OTHER,
    ERROR_KIND_RATE_LIMITED,
    ERROR_KIND_SERVER_ERROR,
    ERROR_KIND_TIMEOUT,
    retry_error_kind,
    share,
    worker_utilization,
)
from routelens.publish import catalogue


@pytest.mark.parametrize(
    ("status", "error_type", "kind"),
    [
        (429, "rate_limit_error", ERROR_KIND_RATE_LIMITED),
        (529, "overloaded_error", ERROR_KIND_RATE_LIMITED),
        (500, "api_error", ERROR_KIND_SERVER_ERROR),
        (503, None, ERROR_KIND_SERVER_ERROR),
        (None, "ReadTimeout", ERROR_KIND_TIMEOUT),
        (None, "connection_error", ERROR_KIND_OTHER),
        (400, "invalid_request_error", ERROR_KIND_OTHER),
    ],
)
def test_retry_kinds(status: int | None, error_type: str | None, kind: str) -> None:
    assert retry_error_kind(status, error_type) == kind


def test_the_exporter_labels_are_these_kinds() -> None:
    assert catalogue.ERROR_KINDS == (
        ERROR_KIND_RATE_LIMITED,
        ERROR_KIND_SERVER_ERROR,
        ERROR_KIND_TIMEOUT,
        ERROR_KIND_OTHER,
    )


def test_share_and_utilization() -> None:
    assert share(3, 12) == 0.25
    assert share(3, 0) is None
    assert worker_utilization(30.0, 4, 10.0) == 0.75
    assert worker_utilization(30.0, None, 10.0) is None
    assert worker_utilization(30.0, 4, 0.0) is None
