"""Runs `promtool test rules` on the generated rule files, with input series as the exporter
serves them; shared by the recording-rule and alerting-rule tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from routelens.config import RoutelensConfig
from routelens.publish import catalogue as c
from routelens.publish.rules import write_rule_files

PROMTOOL = shutil.which("promtool")
requires_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (Debian package `prometheus`)"
)
RUNBOOK = "docs/alerting.md"
EXPORTER = {"job": "routelens", "instance": "exporter:9464"}


def series(metric: str, values: str, **labels: str) -> dict[str, str]:
    """One promtool input series; `values` in promtool's expanding notation ('3x10')."""
    merged = {**EXPORTER, **labels}
    text = ", ".join(f'{key}="{value}"' for key, value in merged.items())
    return {"series": f"{metric}{{{text}}}", "values": values}


def promtool_test_rules(tmp_path: Path, config: RoutelensConfig, tests: list[Any]) -> str:
    """Write the rules for `config` and run `promtool test rules`; returns its output."""
    assert PROMTOOL is not None
    rule_files = write_rule_files(tmp_path / "rules", config)
    document = {
        "rule_files": [str(path) for path in rule_files],
        "evaluation_interval": "1m",
        "tests": tests,
    }
    test_file = tmp_path / "rules_test.yml"
    test_file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    result = subprocess.run(
        [PROMTOOL, "test", "rules", str(test_file)], capture_output=True, text=True, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def alert_test(alert: str, eval_time: str, *firing: tuple[dict[str, str], dict[str, str]]) -> Any:
    """Expect exactly `firing` (labels, annotations) for `alert` at `eval_time`."""
    expected = [{"exp_labels": labels, "exp_annotations": notes} for labels, notes in firing]
    return {"eval_time": eval_time, "alertname": alert, "exp_alerts": expected}


def annotations(alert: str, summary: str, description: str) -> dict[str, str]:
    return {
        "summary": summary,
        "description": description,
        "runbook_url": f"{RUNBOOK}#{alert.lower()}",
    }


def attempts(count: int, window: str, skill: str, version: str, category: str, model: str,
             outcome: str) -> dict[str, str]:  # fmt: skip
    return series(
        c.WINDOW_ATTEMPTS.name,
        f"{count}x10",
        window=window,
        skill=skill,
        skill_version=version,
        category=category,
        model=model,
        skills_version="s1",
        outcome=outcome,
    )


def expr_test(expr: str, *samples: tuple[dict[str, str], float]) -> dict[str, Any]:
    expected = [{"labels": labels_text(expr, labels), "value": value} for labels, value in samples]
    return {"expr": expr, "eval_time": "5m", "exp_samples": expected}


def labels_text(metric: str, labels: dict[str, str]) -> str:
    text = ", ".join(f'{key}="{value}"' for key, value in labels.items())
    return f"{metric}{{{text}}}"
