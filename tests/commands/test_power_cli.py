"""`routelens power` through CliRunner."""

from __future__ import annotations

import json

import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize
from typer.testing import CliRunner

from routelens.cli import app

runner = CliRunner()


def test_json_minimum_detectable_difference() -> None:
    result = runner.invoke(app, ["power", "--cases", "70", "--repeats", "3", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["effective_attempts"] == 105.0
    drop = payload["minimum_detectable_difference"]
    h = proportion_effectsize(0.85, 0.85 - drop)
    assert NormalIndPower().power(h, 105.0, 0.05) == pytest.approx(0.8, abs=1e-8)
    assert payload["repeats_needed"] is None


def test_json_repeats_needed() -> None:
    args = ["power", "--cases", "300", "--repeats", "1", "--difference", "0.1", "--icc", "0.3"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    repeats = payload["repeats_needed"]
    assert repeats is not None
    h = proportion_effectsize(0.85, 0.75)
    effective = 300 * repeats / (1 + (repeats - 1) * 0.3)
    assert NormalIndPower().power(h, effective, 0.05) >= 0.8


def test_table_output() -> None:
    args = ["power", "--cases", "70", "--repeats", "3", "--difference", "0.1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Minimum detectable drop" in result.stdout
    assert "more cases needed" in result.stdout


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--cases", "0"), ("--icc", "1.5"), ("--difference", "0.9"), ("--power", "1.0")],
)
def test_bad_flags_exit_2(flag: str, value: str) -> None:
    args = {"--cases": "70", "--repeats": "3", flag: value}
    result = runner.invoke(app, ["power", *[x for item in args.items() for x in item]])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"routelens: error: {flag}:")
