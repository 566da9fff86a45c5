"""A sentinel API key used for real requests never appears in any output routelens makes."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routelens.cli import app
from tests.fakes.api_server import (
    FakeApiServer,
    RecordedRequest,
    anthropic_api_error,
    anthropic_authentication_error,
)
from tests.telemetry.otlp_receiver import OtlpReceiver

SENTINEL = "sk-ant-api03-SENTINEL-0123456789abcdef"


def _answer(server: FakeApiServer, request: RecordedRequest) -> object:
    text = json.dumps(request.body)
    if "find issues" in text:
        return anthropic_api_error()  # retried until retries run out: an error attempt
    if "qwertyuiop" in text:
        return anthropic_authentication_error()
    return server.default_response(request)


def stack_receiver(request: pytest.FixtureRequest) -> OtlpReceiver:
    """A loopback OTLP receiver that lives as long as the test."""
    receiver = OtlpReceiver().__enter__()
    request.addfinalizer(lambda: receiver.__exit__(None, None, None))
    return receiver


def test_the_key_reaches_the_api_and_nothing_else(
    request: pytest.FixtureRequest,
    server: FakeApiServer,
    skills_dir: Path,
    cases_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("ANTHROPIC_API_KEY", SENTINEL)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
    server.script(lambda request: _answer(server, request))  # type: ignore[arg-type,return-value]
    receiver = stack_receiver(request)
    store = tmp_path / "store.sqlite"
    junit = tmp_path / "junit.xml"
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "run",
            "--skills",
            str(skills_dir),
            "--cases",
            str(cases_file),
            "--router",
            "anthropic",
            "--model",
            "claude-sonnet-4-6",
            "--store",
            str(store),
            "--json",
            "--junit",
            str(junit),
            "--router-option",
            "max_retries=1",
            "--router-option",
            f"api_key={SENTINEL}",
            "--repeat",
            "2",
            "--otlp-endpoint",
            receiver.endpoint,
            "--capture-content",
        ],
    )
    report = json.loads(result.stdout)
    assert report["errors"] == 4  # two cases x two repeats
    assert report["passed"] + report["failed"] == 4
    assert "api_error" in report["error_types"]
    assert "authentication_error" in report["error_types"]
    exported = tmp_path / "run.jsonl"
    export = runner.invoke(
        app, ["export", report["run_id"], "--out", str(exported), "--store", str(store)]
    )
    shown = runner.invoke(app, ["show", report["run_id"], "--store", str(store)])
    listed = runner.invoke(app, ["runs", "--store", str(store), "--json"])

    seen = [
        server.requests[0].headers.get("x-api-key", ""),
        server.requests[0].headers.get("authorization", ""),
    ]
    assert any(SENTINEL in header for header in seen)  # the key was really used
    outputs = {
        "run stdout": result.stdout,
        "run stderr": result.stderr,
        "export output": export.output,
        "show output": shown.output,
        "runs output": listed.output,
        "junit": junit.read_text(),
        "jsonl": exported.read_text(),
        "logs": caplog.text,
        "telemetry": "\n".join(str(span.span) + str(span.resource) for span in receiver.spans()),
    }
    assert "routing_test_suite" in outputs["telemetry"]  # telemetry was really sent
    assert "gen_ai.output.messages" in outputs["telemetry"]  # with content captured
    for path in tmp_path.glob("store.sqlite*"):
        outputs[path.name] = path.read_bytes().decode("latin-1")
    for name, text in outputs.items():
        assert SENTINEL not in text, f"the API key leaked into {name}"
        assert "SENTINEL" not in text, f"part of the API key leaked into {name}"
