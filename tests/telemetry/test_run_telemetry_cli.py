"""`routelens run --otlp-endpoint` sends the whole span tree and the metrics over real OTLP/HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routelens.cli import app
from tests.telemetry.otlp_receiver import OtlpReceiver

runner = CliRunner()


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        yield running


def test_a_run_exports_its_span_tree_and_metrics(
    receiver: OtlpReceiver,
    skills_dir: Path,
    cases_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "team=assistants")
    result = runner.invoke(
        app,
        [
            "run",
            "--skills",
            str(skills_dir),
            "--cases",
            str(cases_file),
            "--repeat",
            "2",
            "--concurrency",
            "2",
            "--store",
            str(tmp_path / "s.sqlite"),
            "--json",
            "--otlp-endpoint",
            receiver.endpoint,
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    spans = receiver.spans()
    by_name: dict[str, list] = {}
    for span in spans:
        by_name.setdefault(span.name, []).append(span)
    (suite,) = by_name["routing_test_suite"]
    workers = [s for name, group in by_name.items() if name.startswith("worker_") for s in group]
    assert {w.name for w in workers} == {"worker_0", "worker_1"}
    assert all(w.span.parent_span_id == suite.span.span_id for w in workers)
    attempts = [
        s for name, group in by_name.items() if name.startswith("routing_test_C") for s in group
    ]
    assert len(attempts) == report["attempts"] == 8
    worker_ids = {w.span.span_id for w in workers}
    assert all(a.span.parent_span_id in worker_ids for a in attempts)
    assert {a.attributes["test.result"] for a in attempts} <= {"pass", "fail"}
    assert suite.attributes["routelens.run.id"] == report["run_id"]
    assert suite.resource["service.name"] == "small-routing-tests"
    assert suite.resource["team"] == "assistants"
    metrics = receiver.latest_metrics()
    assert "routing_test" in metrics
    assert "routing_test_duration" in metrics
    assert "routing_test_accuracy_ratio" in metrics


def test_an_unreachable_collector_does_not_fail_the_run(
    skills_dir: Path, cases_file: Path, tmp_path: Path
) -> None:
    result = runner.invoke(
        app,
        [
            "run",
            "--skills",
            str(skills_dir),
            "--cases",
            str(cases_file),
            "--store",
            str(tmp_path / "s.sqlite"),
            "--json",
            "--otlp-endpoint",
            "http://127.0.0.1:9",
        ],
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["attempts"] == 4
    assert result.stderr.count("routelens: telemetry: could not export") == 1
