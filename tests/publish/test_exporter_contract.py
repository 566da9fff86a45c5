"""The exporter's contract: every catalogue family with its declared kind and labels, the
experiment and SKILL.md change families, and the values they carry."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)

from routelens.config import RoutelensConfig
from routelens.experiments.model import (
    ArmKind,
    ArmSpec,
    Decision,
    ExperimentRecord,
    ExperimentStatus,
)
from routelens.experiments.storage import insert_experiment
from routelens.publish import catalogue as c
from routelens.publish.exporter import StoreCollector, start_exporter
from routelens.routers.base import RetryEvent
from routelens.store import RunCaseRecord, RunSkillRecord, Store, Verdict, schema
from tests.factories import make_run
from tests.publish.test_exporter import HASH_A, HASH_B, NOW, attempt, scrape

OPENMETRICS = "application/openmetrics-text; version=1.0.0"


def change_event(
    skill: str, committed: datetime, old: str | None, new: str | None, **kw: Any
) -> dict[str, Any]:
    """A `change_events` row, as `routelens changes scan` would write it."""
    row: dict[str, Any] = {
        "repository": "/repo",
        "skill": skill,
        "kind": "modified" if old and new else ("added" if new else "deleted"),
        "path": f"skills/{skill}/SKILL.md",
        "old_path": None,
        "commit_sha": f"{skill}-{committed.timestamp():.0f}",
        "parent_sha": None,
        "author": "a",
        "committed_at": committed,
        "message": "edit",
        "old_hash": old,
        "new_hash": new,
        "old_description": None,
        "new_description": None,
        "description_changed": False,
        "lines_added": 1,
        "lines_removed": 1,
        "recorded_at": committed,
    }
    row.update(kw)
    return row


def _arm(hash_: str) -> ArmSpec:
    return ArmSpec(kind=ArmKind.FOLDER, source="skills/", skills_hash=hash_)


def experiment(name: str, status: ExperimentStatus, **fields: Any) -> ExperimentRecord:
    """An experiment row with two folder arms."""
    return ExperimentRecord(
        name=name,
        control=_arm("c" * 20),
        treatment=_arm("t" * 20),
        cases_path="/cases.yaml",
        router="local",
        model=None,
        repeat=1,
        concurrency=1,
        seed=1,
        created_at=NOW - timedelta(days=1),
        status=status,
        **fields,
    )


def populate(store: Store) -> None:
    """A store in which every catalogue family has at least one series."""
    skills = [
        RunSkillRecord("run-1", name, name, HASH_A, name, f"/s/{name}/SKILL.md")
        for name in ("deploy", "review")
    ]
    cases = [
        RunCaseRecord("run-1", "c1", "core", 0, {"id": "c1", "expected_skill": "deploy"}),
        RunCaseRecord("run-1", "c2", "core", 1, {"id": "c2", "expected_skill": None}),
    ]
    run = make_run(
        started_at=NOW - timedelta(hours=3), labels={"release": "2.0"}, settings={"concurrency": 2}
    )
    store.create_run(run, skills, cases)
    for arm_run in ("control-run", "treatment-run"):
        store.create_run(make_run(arm_run, started_at=NOW - timedelta(days=2)), [], [])
    hour_ago = NOW - timedelta(hours=1)
    retry = (RetryEvent("rate_limit_error", 429, 1.0),)
    attempts = [
        attempt("c1", Verdict.PASS, hour_ago, cost_usd=0.5, input_tokens=10),
        attempt("c1", Verdict.FAIL, hour_ago, repeat_index=1, retries=1, retry_log=retry),
        attempt(
            "c2",
            Verdict.PASS,
            hour_ago,
            category="disambiguation",
            expected=None,
            asked_clarification=True,
            options_score=0.5,
        ),
        attempt("c1", Verdict.FAIL, hour_ago, repeat_index=2, expected_skill_hash=HASH_B),
        attempt("c1", Verdict.PASS, NOW - timedelta(days=10), repeat_index=3),  # previous week
    ]
    for index in range(4):  # control passes half, treatment all: a paired difference of 0.5
        for arm_run, passed in (("control-run", index % 2 == 0), ("treatment-run", True)):
            attempts.append(
                attempt(
                    f"x{index}",
                    Verdict.PASS if passed else Verdict.FAIL,
                    NOW - timedelta(days=2),
                    run_id=arm_run,
                    expected="review",
                )
            )
    store.record_attempts(attempts)
    insert_experiment(store, experiment("draft-one", ExperimentStatus.DRAFT))
    insert_experiment(
        store,
        experiment(
            "live",
            ExperimentStatus.RUNNING,
            control_run_id="control-run",
            treatment_run_id="treatment-run",
            started_at=NOW - timedelta(days=2),
        ),
    )
    summary = {
        "control": {"passed": 6, "failed": 4, "accuracy": 0.6},
        "treatment": {"passed": 9, "failed": 1, "accuracy": 0.9},
        "pairs": 10,
        "difference": 0.3,
        "confidence_sequence": {"low": 0.05, "high": 0.55},
        "fixed_sample": {"mcnemar_p_value": 0.03},
    }
    insert_experiment(
        store,
        experiment("done", ExperimentStatus.CONCLUDED, decision=Decision.ADOPT, summary=summary),
    )
    with store.engine.begin() as connection:
        connection.execute(
            schema.change_events.insert(),
            [
                change_event("deploy", NOW - timedelta(days=20), None, HASH_B),
                change_event("deploy", NOW - timedelta(days=5), HASH_B, HASH_A),
            ],
        )


def test_every_catalogue_family_is_served_with_its_kind_and_labels(
    store: Store, store_url: str
) -> None:
    populate(store)
    collector = StoreCollector(store_url, RoutelensConfig(), clock=lambda: NOW)
    running = start_exporter(collector, port=0)
    try:
        response = httpx.get(running.url, headers={"Accept": OPENMETRICS}, timeout=30)
    finally:
        running.stop()
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    families = {family.name: family for family in openmetrics_families(response.text)}
    served = [name for name in families if not name.startswith("target")]
    assert served == [spec.family_name for spec in c.EXPORTED_METRICS]  # catalogue order
    for spec in c.EXPORTED_METRICS:
        family = families[spec.family_name]
        assert family.type == spec.kind, spec.name
        assert family.documentation == spec.help
        assert family.samples, f"{spec.name} has no series"
        for sample in family.samples:
            names = set(sample.labels) - (
                {c.LABEL_LE} if sample.name.endswith("_bucket") else set()
            )
            assert names == set(spec.labels), (spec.name, sample)


def test_experiment_families(store: Store, store_url: str) -> None:
    populate(store)
    result = scrape(store_url)
    info = {s.labels["experiment"]: s.labels for s in result.samples("routelens_experiment_info")}
    assert info["draft-one"]["status"] == "draft"
    assert info["draft-one"]["decision"] == "none"
    assert info["done"]["decision"] == "adopt"
    accuracy = c.EXPERIMENT_ARM_ACCURACY.name
    assert result.value(accuracy, experiment="live", arm="control") == pytest.approx(0.5)
    assert result.value(accuracy, experiment="live", arm="treatment") == pytest.approx(1.0)
    assert result.value(c.EXPERIMENT_ARM_ATTEMPTS.name, experiment="live", arm="control") == 4
    difference = c.EXPERIMENT_DIFFERENCE.name
    assert result.value(difference, experiment="live", bound="estimate") == pytest.approx(0.5)
    low = result.value(difference, experiment="live", bound="low")
    high = result.value(difference, experiment="live", bound="high")
    assert -1 <= low < 0.5 < high <= 1
    assert 0 < result.value(c.EXPERIMENT_P_VALUE.name, experiment="live") <= 1
    # a concluded experiment shows what was stored when it was concluded
    assert result.value(accuracy, experiment="done", arm="treatment") == pytest.approx(0.9)
    assert result.value(difference, experiment="done", bound="high") == pytest.approx(0.55)
    assert result.value(c.EXPERIMENT_P_VALUE.name, experiment="done") == pytest.approx(0.03)
    assert result.samples(accuracy, experiment="draft-one") == []


def test_change_families_and_skill_hashes(store: Store, store_url: str) -> None:
    populate(store)
    result = scrape(store_url)
    events = "routelens_skill_change_events_total"
    assert result.value(events, skill="deploy", kind="modified") == 1
    assert result.value(events, skill="deploy", kind="added") == 1
    last = (NOW - timedelta(days=5)).timestamp()
    assert result.value(c.SKILL_LAST_CHANGE_TIMESTAMP.name, skill="deploy") == pytest.approx(last)
    hashes = {s.labels["skill"]: s.labels["hash"] for s in result.samples("routelens_skill_info")}
    # deploy: its latest change's new hash; review: never changed, so the latest run's hash
    assert hashes == {"deploy": HASH_A[:12], "review": HASH_A[:12]}
    # last 30 days, expecting deploy: on the old hash (HASH_B) one failure; on the new, 2 of 3
    before = result.value(c.SKILL_CHANGE_ACCURACY.name, skill="deploy", side="before")
    after = result.value(c.SKILL_CHANGE_ACCURACY.name, skill="deploy", side="after")
    assert (before, after) == (0.0, pytest.approx(2 / 3))


def test_skills_and_coverage_of_the_latest_run(store: Store, store_url: str) -> None:
    populate(store)
    result = scrape(store_url)
    assert result.value(c.SKILLS.name) == 2
    assert result.value(c.SKILL_CASES.name, skill="deploy") == 1
    assert result.value(c.SKILL_CASES.name, skill="review") == 0
    assert result.value(c.SKILL_COVERAGE.name) == pytest.approx(0.5)
