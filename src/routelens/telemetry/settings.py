"""Whether, where and how a run exports telemetry: the flags and the `OTEL_*` variables.

Read per the OpenTelemetry environment-variable specification: the OTLP endpoint and
protocol variables, `OTEL_TRACES_EXPORTER` and `OTEL_METRICS_EXPORTER` (`otlp`, `console`,
`none`; `prometheus` for metrics, served on `OTEL_EXPORTER_PROMETHEUS_HOST`/`_PORT`),
`OTEL_SDK_DISABLED`, `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`. Nothing here needs
the OpenTelemetry SDK; `export.py` and `exporters.py` build on these settings.

>>> settings = telemetry_settings(otlp_endpoint="http://localhost:4318", capture_content=None,
...                               suite_name="jira-assistant", environment="ci", env={})
>>> settings.service_name
'jira-assistant-routing-tests'
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal
from urllib.parse import unquote

from routelens.errors import InputError
from routelens.extras import install_hint
from routelens.telemetry import names

OtlpProtocol = Literal["http/protobuf", "grpc"]
HTTP_PROTOBUF: Final = "http/protobuf"
GRPC: Final = "grpc"

# the standard OpenTelemetry environment variables this module reads
ENV_ENDPOINT: Final = "OTEL_EXPORTER_OTLP_ENDPOINT"
ENV_TRACES_ENDPOINT: Final = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
ENV_METRICS_ENDPOINT: Final = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
ENV_PROTOCOL: Final = "OTEL_EXPORTER_OTLP_PROTOCOL"
ENV_SERVICE_NAME: Final = "OTEL_SERVICE_NAME"
ENV_SDK_DISABLED: Final = "OTEL_SDK_DISABLED"
ENV_RESOURCE_ATTRIBUTES: Final = "OTEL_RESOURCE_ATTRIBUTES"
ENV_CAPTURE_CONTENT: Final = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
ENV_TRACES_EXPORTER: Final = "OTEL_TRACES_EXPORTER"
ENV_METRICS_EXPORTER: Final = "OTEL_METRICS_EXPORTER"
ENV_PROMETHEUS_HOST: Final = "OTEL_EXPORTER_PROMETHEUS_HOST"
ENV_PROMETHEUS_PORT: Final = "OTEL_EXPORTER_PROMETHEUS_PORT"

# exporter names of the specification this module supports, per signal
OTLP: Final = "otlp"
CONSOLE: Final = "console"
PROMETHEUS: Final = "prometheus"
NONE: Final = "none"
TRACES_EXPORTERS: Final = (OTLP, CONSOLE, NONE)
METRICS_EXPORTERS: Final = (OTLP, CONSOLE, PROMETHEUS, NONE)
DEFAULT_PROMETHEUS_HOST: Final = "127.0.0.1"  # the spec says localhost: the same, IPv4 only
DEFAULT_PROMETHEUS_PORT: Final = 9464

DEFAULT_HTTP_ENDPOINT: Final = "http://localhost:4318"
DEFAULT_GRPC_ENDPOINT: Final = "http://localhost:4317"

OTEL_EXTRA_HINT: Final = f"telemetry needs the otel extra: {install_hint('otel')}"
GRPC_EXTRA_HINT: Final = f"OTLP over gRPC needs the otel-grpc extra: {install_hint('otel-grpc')}"


@dataclass(frozen=True, kw_only=True)
class TelemetrySettings:
    """Whether, where and how a run exports spans and metrics (see `telemetry_settings`).

    `endpoint` is the base URL (`--otlp-endpoint` or `OTEL_EXPORTER_OTLP_ENDPOINT`); over HTTP
    the signal paths `/v1/traces` and `/v1/metrics` are added to it. `traces_endpoint` and
    `metrics_endpoint` are full per-signal URLs from the `OTEL_EXPORTER_OTLP_*_ENDPOINT`
    variables, used when no `--otlp-endpoint` is given.
    """

    endpoint: str | None
    protocol: OtlpProtocol = HTTP_PROTOBUF
    service_name: str
    environment: str | None = None
    capture_content: bool = False
    flush_timeout_s: float = 5.0
    prometheus_port: int | None = None
    prometheus_host: str = DEFAULT_PROMETHEUS_HOST
    resource_attributes: dict[str, str] = field(default_factory=dict)
    traces_endpoint: str | None = None
    metrics_endpoint: str | None = None
    traces_exporters: tuple[str, ...] = (OTLP,)
    metrics_exporters: tuple[str, ...] = (OTLP,)

    @property
    def uses_otlp(self) -> bool:
        """Some signal is exported over OTLP."""
        return OTLP in self.traces_exporters or OTLP in self.metrics_exporters

    def signal_endpoint(self, signal: Literal["traces", "metrics"]) -> str:
        """The URL (HTTP) or address (gRPC) one signal is exported to."""
        explicit = self.traces_endpoint if signal == "traces" else self.metrics_endpoint
        if explicit:
            return explicit
        if self.protocol == GRPC:
            return self.endpoint or DEFAULT_GRPC_ENDPOINT
        return f"{(self.endpoint or DEFAULT_HTTP_ENDPOINT).rstrip('/')}/v1/{signal}"


def telemetry_settings(
    *,
    otlp_endpoint: str | None,
    capture_content: bool | None,
    suite_name: str,
    environment: str | None,
    env: Mapping[str, str] = os.environ,
) -> TelemetrySettings | None:
    """Telemetry settings from the flags and the `OTEL_*` variables; None when it is off.

    It is on when `--otlp-endpoint`, `OTEL_EXPORTER_OTLP_ENDPOINT` or
    `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, or when `OTEL_TRACES_EXPORTER` or
    `OTEL_METRICS_EXPORTER` names an exporter that needs no collector (`console`,
    `prometheus`); and `OTEL_SDK_DISABLED` is not `true` and not both exporters are `none`.
    A flag wins over a variable.
    """
    if _value(env, ENV_SDK_DISABLED).lower() == "true":
        return None
    traces_exporters = _exporters(env, ENV_TRACES_EXPORTER, TRACES_EXPORTERS)
    metrics_exporters = _exporters(env, ENV_METRICS_EXPORTER, METRICS_EXPORTERS)
    flag_endpoint = (otlp_endpoint or "").strip() or None
    endpoint = flag_endpoint or _value(env, ENV_ENDPOINT) or None
    # per-signal variables apply only when the flag does not name the collector
    traces_endpoint = None if flag_endpoint else _value(env, ENV_TRACES_ENDPOINT) or None
    metrics_endpoint = None if flag_endpoint else _value(env, ENV_METRICS_ENDPOINT) or None
    collector_free = {CONSOLE, PROMETHEUS} & {*traces_exporters, *metrics_exporters}
    if endpoint is None and traces_endpoint is None and not collector_free:
        return None
    if not traces_exporters and not metrics_exporters:
        return None
    protocol = _protocol(env)
    source = (
        "--otlp-endpoint" if flag_endpoint else (ENV_ENDPOINT if endpoint else ENV_TRACES_ENDPOINT)
    )
    _require_sdk(protocol, source, otlp=OTLP in {*traces_exporters, *metrics_exporters})
    resource_attributes = _resource_attributes(env)
    service_name = (
        _value(env, ENV_SERVICE_NAME)
        or resource_attributes.get(names.SERVICE_NAME)
        or f"{suite_name}{names.SERVICE_NAME_SUFFIX}"
    )
    if capture_content is None:
        capture_content = _value(env, ENV_CAPTURE_CONTENT).lower() == "true"
    prometheus = PROMETHEUS in metrics_exporters
    return TelemetrySettings(
        endpoint=endpoint,
        protocol=protocol,
        service_name=service_name,
        environment=environment,
        capture_content=capture_content,
        resource_attributes=resource_attributes,
        traces_endpoint=traces_endpoint,
        metrics_endpoint=metrics_endpoint,
        traces_exporters=traces_exporters,
        metrics_exporters=tuple(name for name in metrics_exporters if name != PROMETHEUS),
        prometheus_port=_prometheus_port(env) if prometheus else None,
        prometheus_host=_value(env, ENV_PROMETHEUS_HOST) or DEFAULT_PROMETHEUS_HOST,
    )


def _exporters(
    env: Mapping[str, str], variable: str, supported: tuple[str, ...]
) -> tuple[str, ...]:
    """A comma-separated exporter list (default `otlp`); `none` alone means no exporter."""
    raw = _value(env, variable)
    chosen = [name.strip().lower() for name in raw.split(",") if name.strip()] or [OTLP]
    unknown = [name for name in chosen if name not in supported]
    if unknown:
        raise InputError(
            variable,
            f"unsupported exporter {unknown[0]!r} (routelens supports {', '.join(supported)})",
            field="exporter",
        )
    if NONE in chosen and len(chosen) > 1:
        raise InputError(
            variable, "'none' cannot be combined with other exporters", field="exporter"
        )
    return tuple(dict.fromkeys(name for name in chosen if name != NONE))


def _prometheus_port(env: Mapping[str, str]) -> int:
    raw = _value(env, ENV_PROMETHEUS_PORT)
    if not raw:
        return DEFAULT_PROMETHEUS_PORT
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise InputError(ENV_PROMETHEUS_PORT, f"expected a port number, got {raw!r}", field="port")
    return int(raw)


def _value(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def _protocol(env: Mapping[str, str]) -> OtlpProtocol:
    raw = _value(env, ENV_PROTOCOL) or HTTP_PROTOBUF
    if raw == HTTP_PROTOBUF:
        return HTTP_PROTOBUF
    if raw == GRPC:
        return GRPC
    raise InputError(
        ENV_PROTOCOL, f"expected '{HTTP_PROTOBUF}' or '{GRPC}', got {raw!r}", field="protocol"
    )


def _require_sdk(protocol: OtlpProtocol, source: str, *, otlp: bool) -> None:
    if not _importable("opentelemetry.sdk"):
        raise InputError(source, OTEL_EXTRA_HINT)
    if not otlp:
        return
    if protocol == GRPC and not _importable("opentelemetry.exporter.otlp.proto.grpc"):
        raise InputError(ENV_PROTOCOL, GRPC_EXTRA_HINT, field="protocol")
    if protocol == HTTP_PROTOBUF and not _importable("opentelemetry.exporter.otlp.proto.http"):
        raise InputError(source, OTEL_EXTRA_HINT)


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _resource_attributes(env: Mapping[str, str]) -> dict[str, str]:
    """`OTEL_RESOURCE_ATTRIBUTES`: `key=value` pairs, comma-separated, values percent-encoded."""
    attributes: dict[str, str] = {}
    for position, item in enumerate(_value(env, ENV_RESOURCE_ATTRIBUTES).split(","), start=1):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(
                ENV_RESOURCE_ATTRIBUTES,
                f"expected key=value pairs separated by commas, got {item.strip()!r}",
                field=f"resource_attributes[{position}]",
            )
        attributes[key.strip()] = unquote(value.strip())
    return attributes
