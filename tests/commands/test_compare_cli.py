"""`routelens compare` through CliRunner over a store with planted regressions."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routelens.cli import app
from routelens.store import open_store
from tests.analytics.test_compare import planted_attempts
from tests.factories import STARTED, make_run

runner = CliRunner()


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """A store with a baseline run and a candidate run nine cases worse, one better."""
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with open_store(url) as store:
        store.create_run(make_run("run-base", labels={"prompt": "v1"}), [], [])
        store.create_run(make_run("run-cand", labels={"prompt": "v2"}), [], [])
        store.record_attempts(planted_attempts("run-base", 0))
        store.record_attempts(planted_attempts("run-cand", 1, offset_s=60))
    return url


def compare(store_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["compare", "--store", store_url, *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_by_run_id(store_url: str) -> None:
    code, out, _ = compare(store_url, "--baseline", "run-base", "--candidate", "run-cand", "--json")
    assert code == 0, out
    payload = json.loads(out)
    assert payload["mcnemar"]["b"] == 9
    assert payload["mcnemar"]["c"] == 1
    assert payload["mcnemar"]["p_value"] == pytest.approx(22 / 1024)
    assert payload["attempt_test"]["b"] == 25
    assert payload["regressed"] == ["M1", *(f"R{i}" for i in range(1, 9))]
    assert payload["improved"] == ["I1"]
    assert payload["significant_regression"] is True
    assert payload["baseline"]["selector"] == "run-base"
    assert [group["key"] for group in payload["by_skill"]] == ["deploy", "review"]
    assert payload["difference"]["ci_high"] < 0


def test_fail_on_regression_exits_1(store_url: str) -> None:
    code, out, _ = compare(
        store_url, "--baseline", "run-base", "--candidate", "run-cand", "--fail-on-regression"
    )
    assert code == 1, out
    assert "Significant regression" in out


def test_improvement_does_not_fail(store_url: str) -> None:
    code, out, _ = compare(
        store_url, "--baseline", "run-cand", "--candidate", "run-base", "--fail-on-regression"
    )
    assert code == 0, out


def test_alpha_is_the_threshold(store_url: str) -> None:
    code, out, _ = compare(
        store_url,
        *("--baseline", "run-base", "--candidate", "run-cand"),
        *("--fail-on-regression", "--alpha", "0.01", "--json"),
    )
    assert code == 0, out
    assert json.loads(out)["significant_regression"] is False


def test_labels_select_runs(store_url: str) -> None:
    code, out, _ = compare(
        store_url, "--baseline", "prompt=v1", "--candidate", "prompt=v2", "--json"
    )
    assert code == 0, out
    assert json.loads(out)["mcnemar"]["b"] == 9


def test_table_output(store_url: str) -> None:
    code, out, _ = compare(store_url, "--baseline", "run-base", "--candidate", "run-cand")
    assert code == 0, out
    assert "By expected skill" in out
    assert "Regressed (9): M1, R1" in out
    assert "Improved (1): I1" in out


def test_unknown_run_is_bad_input(store_url: str) -> None:
    code, _, err = compare(store_url, "--baseline", "nope", "--candidate", "run-cand")
    assert code == 2
    assert err.startswith("routelens: error: --baseline: run_id: no run 'nope'")


def test_unmatched_label_is_bad_input(store_url: str) -> None:
    code, _, err = compare(store_url, "--baseline", "run-base", "--candidate", "prompt=v9")
    assert code == 2
    assert "--candidate: label:" in err


def test_no_overlap_is_bad_input(store_url: str) -> None:
    with open_store(store_url) as store:
        store.create_run(make_run("run-other", started_at=STARTED), [], [])
        store.record_attempts(
            replace(a, case_id="Z" + a.case_id) for a in planted_attempts("run-other", 1)
        )
    code, _, err = compare(store_url, "--baseline", "run-base", "--candidate", "run-other")
    assert code == 2
    assert "--candidate: pairs: the baseline and the candidate share no" in err


def test_bad_alpha_is_bad_input(store_url: str) -> None:
    code, _, err = compare(
        store_url, "--baseline", "run-base", "--candidate", "run-cand", "--alpha", "0"
    )
    assert code == 2
    assert "--alpha" in err
