"""The one JSON object `routelens run --json` and `routelens show --json` print."""

from __future__ import annotations

from typing import Any

from routelens.analytics.summary import RunSummary, summary_as_dict
from routelens.runner.gate import GateResult
from routelens.store.records import RunRecord


def run_report_dict(
    run: RunRecord, summary: RunSummary, *, slo: float, gate: GateResult | None = None
) -> dict[str, Any]:
    """Run identity, the summary, the SLO and the gate outcome, ready for `json.dumps`."""
    report: dict[str, Any] = {
        "run_id": run.run_id,
        "status": str(run.status),
        "router": run.router,
        "model": run.model,
        "suite": run.suite_name,
        "suite_version": run.suite_version,
        "skills_hash": run.skills_hash,
        "suite_hash": run.suite_hash,
        "git_commit": run.git_commit,
        "git_branch": run.git_branch,
        "environment": run.environment,
        "labels": dict(run.labels),
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "slo": slo,
        "meets_slo": summary.accuracy is not None and summary.accuracy >= slo,
    }
    report.update(summary_as_dict(summary))
    if gate is not None:
        report["gate"] = {
            "min_accuracy": gate.min_accuracy,
            "max_error_rate": gate.max_error_rate,
            "passed": gate.passed,
            "reasons": list(gate.reasons),
        }
    return report
