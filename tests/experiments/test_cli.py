"""`routelens experiment ...` through the CLI: CliRunner, and a real Ctrl-C in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from routelens.cli import app
from routelens.experiments import get_experiment
from routelens.store import RunStatus, open_store
from tests.conftest import SMALL_CASES

REPO_ROOT = Path(__file__).resolve().parents[2]
KEYWORD_ROUTER = "tests.experiments.routers:keyword_router"


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["experiment", *args])
    return result.exit_code, result.output


def _cases(tmp_path: Path) -> Path:
    path = tmp_path / "cases.yaml"
    path.write_text(SMALL_CASES, encoding="utf-8")
    return path


def test_create_run_status_conclude_list(
    control_dir: Path, treatment_dir: Path, tmp_path: Path
) -> None:
    store = str(tmp_path / "s.sqlite")
    code, output = _invoke(
        "create", "sharper", "--control", str(control_dir), "--treatment", str(treatment_dir),
        "--cases", str(_cases(tmp_path)), "--router", KEYWORD_ROUTER, "--repeat", "10",
        "--seed", "3", "--store", store,
    )  # fmt: skip
    assert code == 0, output
    assert "draft" in output

    code, output = _invoke("status", "sharper", "--store", store)
    assert code == 0, output
    assert "not run yet" in output

    code, output = _invoke("run", "sharper", "--store", store)
    assert code == 0, output
    assert "control 40, treatment 40" in output

    code, output = _invoke("status", "sharper", "--store", store, "--json")
    assert code == 0, output
    view = json.loads(output)
    comparison = view["comparison"]
    assert view["status"] == "running"
    assert view["seed"] == 3
    assert comparison["recommendation"] == "treatment-better"
    assert comparison["difference"] == 0.75
    assert comparison["confidence_sequence"]["low"] > 0
    assert "planned end" in comparison["fixed_sample"]["valid"]
    assert comparison["fixed_sample"]["mcnemar_p_value"] < 0.001

    code, output = _invoke("status", "sharper", "--store", store)
    assert code == 0, output
    assert "confidence sequence (valid at every look)" in output
    assert "recommendation: treatment-better" in output

    code, output = _invoke("conclude", "sharper", "--reason", "clearer search", "--store", store)
    assert code == 0, output
    assert "decision: adopt (clearer search)" in output

    code, output = _invoke("conclude", "sharper", "--store", store)
    assert code == 2
    assert "routelens: error:" in output
    assert "was concluded" in output

    code, output = _invoke("list", "--store", store, "--json")
    assert code == 0, output
    (row,) = json.loads(output)["experiments"]
    assert (row["name"], row["status"], row["decision"]) == ("sharper", "concluded", "adopt")


def test_bad_input_exits_2_with_one_line(control_dir: Path, tmp_path: Path) -> None:
    store = str(tmp_path / "s.sqlite")
    code, output = _invoke(
        "create", "x", "--control", str(control_dir), "--treatment", str(tmp_path / "nope"),
        "--cases", str(_cases(tmp_path)), "--repo", str(tmp_path), "--store", store,
    )  # fmt: skip
    assert code == 2
    assert output.startswith("routelens: error:")
    assert "Traceback" not in output
    assert not Path(store).exists()  # refused before any store was created
    open_store(store).close()
    code, output = _invoke("status", "missing", "--store", store)
    assert code == 2
    assert "no experiment 'missing'" in output
    code, output = _invoke("conclude", "missing", "--decision", "maybe", "--store", store)
    assert code == 2


def test_ctrl_c_leaves_both_runs_interrupted_and_run_again_finishes(
    control_dir: Path, treatment_dir: Path, tmp_path: Path
) -> None:
    store_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    code, output = _invoke(
        "create", "slow", "--control", str(control_dir), "--treatment", str(treatment_dir),
        "--cases", str(_cases(tmp_path)), "--router", "tests.support_routers:slow_router",
        "--repeat", "5", "--concurrency", "2", "--store", store_url,
    )  # fmt: skip
    assert code == 0, output
    command = [sys.executable, "-m", "routelens.cli", "experiment", "run", "slow"]
    process = subprocess.Popen(
        [*command, "--router-option", "delay_s=0.1", "--store", store_url],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline, recorded = time.monotonic() + 60, 0
    while recorded < 6 and time.monotonic() < deadline:
        time.sleep(0.1)
        with open_store(store_url) as store:
            record = get_experiment(store, "slow")
            run_ids = (
                [r for r in (record.control_run_id, record.treatment_run_id) if r] if record else []
            )
            recorded = sum(len(store.attempts(run_id)) for run_id in run_ids)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "experiment run slow" in stderr

    with open_store(store_url) as store:
        record = get_experiment(store, "slow")
        assert record is not None
        runs = [store.get_run(r or "") for r in (record.control_run_id, record.treatment_run_id)]
        assert all(run is not None and run.status is RunStatus.INTERRUPTED for run in runs)
        before = sum(len(store.attempts(run.run_id)) for run in runs if run)
    assert 6 <= before < 40

    finished = subprocess.run(
        [*command, "--router-option", "delay_s=0", "--store", store_url],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    with open_store(store_url) as store:
        for run_id in (record.control_run_id, record.treatment_run_id):
            attempts = store.attempts(run_id or "")
            assert len({(a.case_id, a.repeat_index) for a in attempts}) == len(attempts) == 20
