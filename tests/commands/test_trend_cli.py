"""`routelens trend`: day buckets in SQL (SQLite, PostgreSQL), releases, and the CLI."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routelens.analytics.trend import Direction, VerdictCounts
from routelens.analytics.window import AttemptFilter
from routelens.cli import app
from routelens.commands.trend import build_trend_report
from routelens.errors import InputError
from routelens.store import Verdict, open_store
from tests.changes.history import GitRepo
from tests.factories import make_attempt, make_run
from tests.store.conftest import backend, store_url, store_url_factory

runner = CliRunner()
__all__ = ["backend", "store_url", "store_url_factory"]  # the store fixtures, both backends


def plant(store_url: str, runs: list[tuple[str, datetime, str, str, list[Verdict]]]) -> None:
    """Runs (id, start, release label, commit, verdicts); attempt i starts i minutes after."""
    with open_store(store_url) as store:
        for run_id, started, release, commit, verdicts in runs:
            run = make_run(
                run_id, started_at=started, labels={"release": release}, git_commit=commit
            )
            store.create_run(run, [], [])
            store.record_attempts(
                make_attempt(
                    f"c{i}",
                    verdict,
                    run_id=run_id,
                    started_at=started + timedelta(minutes=i),
                    finished_at=started + timedelta(minutes=i),
                )
                for i, verdict in enumerate(verdicts)
            )


P, F, E = Verdict.PASS, Verdict.FAIL, Verdict.ERROR


def test_sql_buckets_by_utc_day_and_compares_releases(store_url: str) -> None:
    plant(
        store_url,
        [
            # 2025-01-01 is in 2025-W01; 2025-01-06 and 01-08 in 2025-W02
            ("r1", datetime(2025, 1, 1, 9, tzinfo=UTC), "1.0", "aaa", [P, P, P, F, E]),
            ("r2", datetime(2025, 1, 6, 9, tzinfo=UTC), "1.1", "bbb", [P, F]),
            # 23:58 and 23:59 UTC stay on 01-08 whatever the database session's time zone
            ("r3", datetime(2025, 1, 8, 23, 58, tzinfo=UTC), "1.1", "ccc", [P, P]),
            ("r4", datetime(2025, 1, 9, 0, 0, tzinfo=UTC), "1.2", "ddd", [F]),
        ],
    )
    now = datetime(2025, 1, 10, tzinfo=UTC)
    with open_store(store_url) as store:
        report = build_trend_report(store, AttemptFilter(now=now), compare_label="release")
        by_commit = build_trend_report(
            store, AttemptFilter(window=timedelta(days=5), now=now), compare_commit=True
        )
    assert [(p.start, p.counts) for p in report.days] == [
        (date(2025, 1, 1), VerdictCounts(3, 1, 1)),
        (date(2025, 1, 6), VerdictCounts(1, 1, 0)),
        (date(2025, 1, 8), VerdictCounts(2, 0, 0)),
        (date(2025, 1, 9), VerdictCounts(0, 1, 0)),
    ]
    assert [(w.key, w.counts.accuracy) for w in report.weeks] == [
        ("2025-W01", 0.75),
        ("2025-W02", 0.6),
    ]
    assert report.week_over_week.delta == pytest.approx(-0.15)
    assert report.week_over_week.direction is Direction.DOWN
    assert [(r.key, r.counts) for r in report.releases] == [
        ("1.0", VerdictCounts(3, 1, 1)),
        ("1.1", VerdictCounts(3, 1, 0)),
        ("1.2", VerdictCounts(0, 1, 0)),
    ]
    assert [r.key for r in by_commit.releases] == ["bbb", "ccc", "ddd"]  # window: 5 days


def test_trend_json_and_table(store_url: str) -> None:
    today = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    plant(
        store_url,
        [
            ("old", today - timedelta(days=7), "1.0", "aaa", [P, F]),
            ("new", today, "1.1", "bbb", [P, P, P, F]),
            ("ancient", today - timedelta(days=60), "0.9", "zzz", [F]),
        ],
    )
    result = runner.invoke(
        app, ["trend", "--store", store_url, "--json", "--compare-label", "release"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["window"] == "30d"
    assert [d["accuracy"] for d in data["days"]] == [0.5, 0.75]  # 60 days ago is out
    assert data["week_over_week"]["delta"] == pytest.approx(0.25)
    assert data["week_over_week"]["direction"] == "up"
    assert [g["value"] for g in data["comparison"]["groups"]] == ["1.0", "1.1"]
    table = runner.invoke(
        app, ["trend", "--store", store_url, "--by", "week", "--label", "release=1.1"]
    )
    assert table.exit_code == 0, table.output
    assert "Accuracy by ISO week" in table.stdout
    assert "75.0%" in table.stdout
    days = runner.invoke(app, ["trend", "--store", store_url, "--compare-commit"])
    assert days.exit_code == 0, days.output
    assert "↑ +25.0 pt" in days.stdout


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--window", "0d"], "--window"),
        (["--label", "=x"], "--label"),
        (["--compare-label", "release", "--compare-commit"], "either"),
        (["--compare-label", " "], "label key"),
    ],
)
def test_bad_input_exits_2(tmp_path: Path, flags: list[str], message: str) -> None:
    open_store(tmp_path / "s.sqlite").close()
    result = runner.invoke(app, ["trend", "--store", str(tmp_path / "s.sqlite"), *flags])
    assert result.exit_code == 2
    assert result.stderr.startswith("routelens: error:")
    assert message in result.stderr


def test_build_refuses_two_comparisons(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.sqlite") as store, pytest.raises(InputError):
        build_trend_report(store, AttemptFilter(), compare_label="x", compare_commit=True)


def test_commits_are_compared_in_git_ancestry_order_not_run_order(
    store_url: str, tmp_path: Path
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.root.mkdir()
    repo.git("init", "-q", "-b", "main")
    shas = []
    for label in ("first", "second", "third"):
        repo.write("notes.txt", label)
        shas.append(repo.commit(label, label))
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    # the newest commit was measured first, the oldest last
    plant(
        store_url,
        [
            ("r3", start, "3", shas[2], [P, P]),
            ("r1", start + timedelta(hours=1), "1", shas[0], [F, F]),
            ("r2", start + timedelta(hours=2), "2", shas[1], [P, F]),
        ],
    )
    with open_store(store_url) as store:
        report = build_trend_report(store, AttemptFilter(), compare_commit=True, repo=repo.root)
        by_run_order = build_trend_report(store, AttemptFilter(), compare_commit=True)
    assert [point.key for point in report.releases] == shas
    assert [point.counts.accuracy for point in report.releases] == [0.0, 0.5, 1.0]
    assert [point.key for point in by_run_order.releases] == [shas[2], shas[0], shas[1]]
