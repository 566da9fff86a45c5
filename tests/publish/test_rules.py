"""Generated recording rules and rule files: `promtool check rules`, recording-rule values
under `promtool test rules`, `rule_expressions`, determinism and golden files.

Golden files: `ROUTELENS_UPDATE_GOLDEN=1 pytest tests/publish` rewrites them after an
intended change; review the diff like code.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from routelens.config import AlertSettings, RoutelensConfig
from routelens.errors import InputError
from routelens.publish import catalogue as c
from routelens.publish.rules import (
    ALERTING_RULES_FILE,
    RECORDING_GROUP,
    RECORDING_RULES_FILE,
    render_rule_files,
    rule_expressions,
    write_rule_files,
)
from tests.publish.promtool_harness import (
    PROMTOOL,
    attempts,
    expr_test,
    promtool_test_rules,
    requires_promtool,
    series,
)

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("ROUTELENS_UPDATE_GOLDEN") == "1"

# --- promtool check rules ------------------------------------------------------------------------


@requires_promtool
@pytest.mark.parametrize(
    "config",
    [
        RoutelensConfig(),
        RoutelensConfig(
            slo=0.9,
            daily_budget_usd=10.0,
            alerts=AlertSettings(retry_rate=0.2, accuracy_for="1h30m", runbook_url="https://x/y"),
        ),
    ],
    ids=["defaults", "custom"],
)
def test_promtool_check_rules_accepts_the_generated_files(
    tmp_path: Path, config: RoutelensConfig
) -> None:
    assert PROMTOOL is not None
    paths = write_rule_files(tmp_path, config)
    assert [path.name for path in paths] == [RECORDING_RULES_FILE, ALERTING_RULES_FILE]
    result = subprocess.run(
        [PROMTOOL, "check", "rules", *map(str, paths)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 15 rules found" in result.stdout
    assert "SUCCESS: 9 rules found" in result.stdout


@requires_promtool
def test_promtool_check_rules_rejects_a_broken_file(tmp_path: Path) -> None:
    # the check above can fail: a rule file with a bad expression is refused
    assert PROMTOOL is not None
    broken = tmp_path / "broken.yml"
    broken.write_text("groups:\n  - name: x\n    rules:\n      - record: a:b\n        expr: sum(\n")
    result = subprocess.run(
        [PROMTOOL, "check", "rules", str(broken)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0


# --- recording rules -----------------------------------------------------------------------------


RECORDING_INPUT = [
    attempts(3, "7d", "deploy", "v1", "direct", "model-a", "pass"),
    attempts(1, "7d", "deploy", "v1", "direct", "model-a", "fail"),
    attempts(4, "7d", "deploy", "v1", "direct", "model-a", "error"),  # errors never count
    attempts(2, "7d", "deploy", "v2", "direct", "model-b", "pass"),
    attempts(2, "7d", "rollback", "r1", "negative", "model-a", "fail"),  # no pass series
    attempts(3, "7d", "lint", "l1", "edge", "model-a", "error"),  # nothing decided
    attempts(6, "1d", "deploy", "v1", "direct", "model-a", "pass"),
    attempts(2, "1d", "deploy", "v1", "direct", "model-a", "fail"),
    attempts(2, "1d", "deploy", "v1", "direct", "model-a", "error"),
    series(c.WINDOW_API_REQUESTS.name, "40x10", window="1d", router="anthropic", model="m"),
    series(c.WINDOW_API_REQUESTS.name, "10x10", window="1d", router="local", model="bm25"),
    series(c.WINDOW_API_REQUESTS.name, "999x10", window="7d", router="anthropic", model="m"),
    series(
        c.WINDOW_API_RETRIES.name,
        "4x10",
        window="1d",
        router="anthropic",
        model="m",
        error_kind="rate_limited",
    ),
    series(
        c.WINDOW_API_RETRIES.name,
        "2x10",
        window="1d",
        router="anthropic",
        model="m",
        error_kind="server_error",
    ),
    series(f"{c.WINDOW_API_LATENCY.name}_bucket", "50x10", window="1d", le="0.5"),
    series(f"{c.WINDOW_API_LATENCY.name}_bucket", "100x10", window="1d", le="1.0"),
    series(f"{c.WINDOW_API_LATENCY.name}_bucket", "100x10", window="1d", le="+Inf"),
    series(c.CASE_PASS_RATE.name, "0.6x10", case_id="C1", category="direct", **{"class": "flaky"}),
    series(
        c.CASE_PASS_RATE.name, "1x10", case_id="C2", category="direct", **{"class": "stable-pass"}
    ),
    series(c.CASE_PASS_RATE.name, "0x10", case_id="C3", category="edge", **{"class": "broken"}),
]


@requires_promtool
def test_recording_rules_compute_accuracy_ratios_and_api_health(tmp_path: Path) -> None:
    tests = [
        expr_test(
            c.RULE_ACCURACY_BY_SKILL_7D,
            ({"skill": "deploy"}, 5 / 6),
            ({"skill": "rollback"}, 0.0),  # zero, not absent; "lint" has no decided attempt
        ),
        expr_test(
            c.RULE_ACCURACY_BY_SKILL_VERSION_7D,
            ({"skill": "deploy", "skill_version": "v1"}, 0.75),  # 3 pass / 1 fail
            ({"skill": "deploy", "skill_version": "v2"}, 1.0),
            ({"skill": "rollback", "skill_version": "r1"}, 0.0),
        ),
        expr_test(
            c.RULE_ACCURACY_BY_CATEGORY_7D,
            ({"category": "direct"}, 5 / 6),
            ({"category": "negative"}, 0.0),
        ),
        expr_test(
            c.RULE_ACCURACY_BY_MODEL_7D,
            ({"model": "model-a"}, 0.5),
            ({"model": "model-b"}, 1.0),
        ),
        expr_test(c.RULE_ERROR_RATE_1D, ({}, 0.2)),  # 2 errors of 10 attempts
        expr_test(
            c.RULE_RETRY_RATE_1D,
            ({"router": "anthropic", "model": "m"}, 0.15),
            ({"router": "local", "model": "bm25"}, 0.0),
        ),
        expr_test(
            c.RULE_RATE_LIMITED_RATE_1D,
            ({"router": "anthropic", "model": "m"}, 0.1),
            ({"router": "local", "model": "bm25"}, 0.0),
        ),
        expr_test(
            c.RULE_SERVER_ERROR_RATE_1D,
            ({"router": "anthropic", "model": "m"}, 0.05),
            ({"router": "local", "model": "bm25"}, 0.0),
        ),
        expr_test(c.RULE_API_LATENCY_P50, ({"window": "1d"}, 0.5)),
        expr_test(c.RULE_API_LATENCY_P95, ({"window": "1d"}, 0.95)),
        expr_test(c.RULE_API_LATENCY_P99, ({"window": "1d"}, 0.99)),
        expr_test(
            c.RULE_CASE_PASS_RATE_7D,
            ({"case_id": "C1", "category": "direct"}, 0.6),
            ({"case_id": "C2", "category": "direct"}, 1.0),
            ({"case_id": "C3", "category": "edge"}, 0.0),
        ),
        expr_test(c.RULE_FLAKY_CASES, ({"case_id": "C1", "category": "direct"}, 0.6)),
    ]
    promtool_test_rules(
        tmp_path,
        RoutelensConfig(),
        [{"interval": "1m", "input_series": RECORDING_INPUT, "promql_expr_test": tests}],
    )


@requires_promtool
def test_cost_rate_rules_are_usd_per_second_over_an_hour(tmp_path: Path) -> None:
    cost = c.COST_TOTAL.name
    tests = [
        {
            "interval": "1m",
            "input_series": [
                series(cost, "0+30x120", router="anthropic", model="opus"),  # $30 a minute
                series(cost, "0+15x120", router="anthropic", model="haiku"),
            ],
            "promql_expr_test": [
                {**expr_test(c.RULE_COST_RATE_1H, ({}, 0.75)), "eval_time": "90m"},
                {
                    **expr_test(
                        c.RULE_COST_RATE_BY_MODEL_1H,
                        ({"model": "opus"}, 0.5),
                        ({"model": "haiku"}, 0.25),
                    ),
                    "eval_time": "90m",
                },
            ],
        }
    ]
    promtool_test_rules(tmp_path, RoutelensConfig(), tests)


@requires_promtool
def test_the_promtool_harness_fails_on_a_wrong_expectation(tmp_path: Path) -> None:
    wrong = expr_test(
        c.RULE_ACCURACY_BY_SKILL_VERSION_7D, ({"skill": "deploy", "skill_version": "v1"}, 0.7)
    )
    tests = [{"interval": "1m", "input_series": RECORDING_INPUT, "promql_expr_test": [wrong]}]
    with pytest.raises(AssertionError, match="skill_version"):
        promtool_test_rules(tmp_path, RoutelensConfig(), tests)


# --- rule_expressions, files, golden -------------------------------------------------------------


def test_rule_expressions_cover_every_rule_and_mark_collector_ones() -> None:
    expressions = rule_expressions(RoutelensConfig())
    recorded = [e.name for e in expressions if e.group == RECORDING_GROUP]
    catalogue_rules = [value for key, value in vars(c).items() if key.startswith("RULE_")]
    assert recorded == catalogue_rules
    needs_collector = {e.name for e in expressions if e.needs_collector}
    assert needs_collector == {c.ALERT_COLLECTOR_EXPORT_FAILURES}
    exporter_names = {spec.name for spec in c.EXPORTED_METRICS}
    for expression in expressions:
        if not expression.needs_collector:
            assert any(name in expression.expr for name in exporter_names | set(catalogue_rules))


def test_rule_files_are_deterministic_block_style_yaml(tmp_path: Path) -> None:
    first = render_rule_files(RoutelensConfig())
    assert first == render_rule_files(RoutelensConfig())
    for text in first.values():
        assert text.endswith("\n")
        assert not text.endswith("\n\n")
        assert text.startswith("# Generated by `routelens publish rules`")
    recording = first[RECORDING_RULES_FILE]
    assert "expr: |-\n          sum by (skill) (\n" in recording
    parsed = yaml.safe_load(recording)["groups"][0]
    assert (parsed["name"], parsed["interval"]) == (RECORDING_GROUP, "1m")


def test_writing_into_a_file_instead_of_a_folder_is_an_input_error(tmp_path: Path) -> None:
    occupied = tmp_path / "rules"
    occupied.write_text("")
    with pytest.raises(InputError, match="rules: out: not a folder"):
        write_rule_files(occupied, RoutelensConfig())


@pytest.mark.parametrize("name", [RECORDING_RULES_FILE, ALERTING_RULES_FILE])
def test_default_rule_files_match_the_golden_files(name: str) -> None:
    generated = render_rule_files(RoutelensConfig())[name]
    golden = GOLDEN / name
    if UPDATE_GOLDEN:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(generated, encoding="utf-8")
    assert golden.read_text(encoding="utf-8") == generated, (
        f"{golden} is stale; rerun with ROUTELENS_UPDATE_GOLDEN=1 if the change is intended"
    )
