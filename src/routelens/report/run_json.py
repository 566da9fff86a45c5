"""The one JSON object `routelens run --json`, `routelens show --json` and the web's run
page print, and the report they are made from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from routelens.analytics.failures import FailedCase, failed_cases
from routelens.analytics.summary import RunSummary, summarize_run, summary_as_dict
from routelens.runner.gate import GateResult
from routelens.store.records import AttemptRecord, RunCaseRecord, RunRecord


@dataclass(frozen=True)
class RunReport:
    """A stored run explained: its summary and its failed and errored cases."""

    run: RunRecord
    summary: RunSummary
    failures: tuple[FailedCase, ...]

    def as_dict(self, *, slo: float, gate: GateResult | None = None) -> dict[str, Any]:
        """The `--json` object: `run_report_dict` plus `failures`."""
        report = run_report_dict(self.run, self.summary, slo=slo, gate=gate)
        report["failures"] = [case.as_dict() for case in self.failures]
        return report


def build_run_report(
    run: RunRecord, attempts: Sequence[AttemptRecord], case_rows: Sequence[RunCaseRecord]
) -> RunReport:
    """The report of one run from its attempts and its cases, as `run` and `show` print it."""
    definitions = {row.case_id: row.definition for row in case_rows}
    return RunReport(
        run=run,
        summary=summarize_run(run, attempts, case_rows),
        failures=tuple(failed_cases(attempts, definitions)),
    )


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
        "settings": dict(run.settings),
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
