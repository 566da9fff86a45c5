"""`routelens cost`: spend aggregated in SQL (SQLite, PostgreSQL) by day, model and skill."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routelens.analytics.window import AttemptFilter
from routelens.cli import app
from routelens.commands.cost import build_cost_report
from routelens.store import AttemptRecord, Verdict, open_store
from tests.factories import make_attempt, make_run
from tests.store.conftest import backend, store_url, store_url_factory

runner = CliRunner()
__all__ = ["backend", "store_url", "store_url_factory"]  # the store fixtures, both backends
NOW = datetime(2025, 3, 10, 18, tzinfo=UTC)


def plant(store_url: str, now: datetime) -> None:
    """Ten days of runs: model-a on even days, model-b on odd days; today has a spike."""
    with open_store(store_url) as store:
        for days_ago in range(10):
            run_id = f"run-{days_ago}"
            started = now - timedelta(days=days_ago, hours=1)
            model = "model-a" if days_ago % 2 == 0 else "model-b"
            store.create_run(make_run(run_id, started_at=started, model=model), [], [])
            attempts: list[AttemptRecord] = []
            for i in range(10):
                expected = "deploy" if i < 6 else "review"
                verdict = Verdict.PASS if i % 3 else Verdict.FAIL
                cost = 0.10 + 0.01 * (i % 2)
                if days_ago == 0 and i == 0:
                    cost = 20.0  # one runaway attempt makes today's spend an outlier too
                attempts.append(
                    make_attempt(
                        f"c{i}",
                        verdict,
                        expected=expected,
                        actual=expected if verdict is Verdict.PASS else "other",
                        run_id=run_id,
                        started_at=started,
                        finished_at=started,
                        cost_usd=cost,
                        input_tokens=1000,
                        output_tokens=10,
                        cache_read_tokens=500,
                        cache_write_tokens=i,
                    )
                )
            store.record_attempts(attempts)


def test_sql_aggregates_by_day_model_and_skill(store_url: str) -> None:
    plant(store_url, NOW)
    with open_store(store_url) as store:
        report = build_cost_report(store, AttemptFilter(now=NOW), daily_budget_usd=5.0)
    normal_day = 5 * 0.10 + 5 * 0.11
    assert [d.day for d in report.days] == [date(2025, 3, 1) + timedelta(days=n) for n in range(10)]
    assert [d.cost_usd for d in report.days[:-1]] == pytest.approx([normal_day] * 9)
    assert report.days[-1].cost_usd == pytest.approx(normal_day - 0.10 + 20.0)
    assert [d.anomaly for d in report.days] == [False] * 9 + [True]
    models = {g.key: g for g in report.by_model}
    assert models["model-a"].attempts == 50
    assert models["model-b"].cost_usd == pytest.approx(5 * normal_day)
    skills = {g.key: g for g in report.by_skill}
    # deploy: i = 0..5, passes i = 1, 2, 4, 5 → 4 a run, 40 in all
    assert skills["deploy"].passed == 40
    assert skills["review"].passed == 20  # i = 7, 8
    assert skills["review"].cost_per_correct_route_usd == pytest.approx(
        skills["review"].cost_usd / 20
    )
    assert report.tokens.input == 100_000
    assert report.tokens.cache_write == 10 * sum(range(10))
    assert report.budget.today_usd == pytest.approx(normal_day - 0.10 + 20.0)
    assert report.budget.burn_rate == pytest.approx((normal_day + 19.9) / 5.0)
    assert report.budget.days_over_budget == (date(2025, 3, 10),)
    assert report.projection.monthly_usd == pytest.approx((7 * normal_day + 19.9) / 7 * 30)
    outliers = report.attempt_anomalies
    assert outliers.count == 1
    assert [(a.run_id, a.case_id, a.cost_usd) for a, _ in outliers.top] == [("run-0", "c0", 20.0)]


def test_cost_json_and_table_with_window_and_budget(store_url: str) -> None:
    now = datetime.now(UTC)
    plant(store_url, now)
    result = runner.invoke(
        app, ["cost", "--store", store_url, "--json", "--window", "3d", "--budget", "10"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["attempts"] == 30  # today, 1 and 2 days ago
    assert data["budget"]["daily_budget_usd"] == 10.0
    assert data["budget"]["burn_rate"] == pytest.approx(data["budget"]["today_usd"] / 10)
    assert {m["model"] for m in data["by_model"]} == {"model-a", "model-b"}
    assert data["anomalies"]["attempts"]["top"][0]["cost_usd"] == 20.0
    default_budget = json.loads(runner.invoke(app, ["cost", "--store", store_url, "--json"]).stdout)
    assert default_budget["budget"]["daily_budget_usd"] == 25.0
    table = runner.invoke(app, ["cost", "--store", store_url])
    assert table.exit_code == 0, table.output
    assert "Spend by day (UTC)" in table.stdout
    assert "anomaly" in table.stdout
    assert "per 30 days" in table.stdout


def test_empty_store_prints_a_line(tmp_path: Path) -> None:
    open_store(tmp_path / "s.sqlite").close()
    result = runner.invoke(app, ["cost", "--store", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 0, result.output
    assert "No attempts match." in result.stdout


@pytest.mark.parametrize("flags", [["--window", "30x"], ["--label", "novalue"]])
def test_bad_input_exits_2(tmp_path: Path, flags: list[str]) -> None:
    result = runner.invoke(app, ["cost", "--store", str(tmp_path / "s.sqlite"), *flags])
    assert result.exit_code == 2
    assert result.stderr.startswith("routelens: error:")
