"""Experiments in the store: insert, read, list and update rows of the `experiments` table."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import RowMapping, func, select
from sqlalchemy.exc import IntegrityError

from routelens.errors import InputError
from routelens.experiments.model import (
    ArmSpec,
    Decision,
    ExperimentRecord,
    ExperimentStatus,
)
from routelens.store import schema
from routelens.store.records import Verdict
from routelens.store.sqlstore import Store


class ArmAttemptRow(NamedTuple):
    """The fields of an arm's attempt that the comparison reads."""

    case_id: str
    repeat_index: int
    verdict: Verdict
    finished_at: datetime


def arm_attempts(store: Store, run_id: str) -> list[ArmAttemptRow]:
    """An arm's attempts as the comparison reads them: four columns, not whole records."""
    attempts = schema.attempts.c
    query = (
        select(attempts.case_id, attempts.repeat_index, attempts.verdict, attempts.finished_at)
        .where(attempts.run_id == run_id)
        .order_by(attempts.sequence_number, attempts.case_id, attempts.repeat_index)
    )
    with store.engine.connect() as connection:
        return [
            ArmAttemptRow(row[0], int(row[1]), Verdict(row[2]), row[3])
            for row in connection.execute(query)
        ]


def arm_case_count(store: Store, run_id: str) -> int:
    """How many cases an arm's run tests (counted, without reading their definitions)."""
    cases = schema.run_cases.c
    query = select(func.count()).select_from(schema.run_cases).where(cases.run_id == run_id)
    with store.engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def experiment_to_row(record: ExperimentRecord) -> dict[str, Any]:
    """The `experiments` row for a record."""
    return {
        "name": record.name,
        "status": str(record.status),
        "control": record.control.to_json(),
        "treatment": record.treatment.to_json(),
        "cases_path": record.cases_path,
        "router": record.router,
        "model": record.model,
        "repeat": record.repeat,
        "concurrency": record.concurrency,
        "seed": record.seed,
        "created_at": record.created_at,
        "started_at": record.started_at,
        "concluded_at": record.concluded_at,
        "control_run_id": record.control_run_id,
        "treatment_run_id": record.treatment_run_id,
        "decision": None if record.decision is None else str(record.decision),
        "decision_reason": record.decision_reason,
        "summary": record.summary,
    }


def experiment_from_row(row: RowMapping) -> ExperimentRecord:
    """A record from an `experiments` row."""
    return ExperimentRecord(
        name=row["name"],
        status=ExperimentStatus(row["status"]),
        control=ArmSpec.from_json(row["control"]),
        treatment=ArmSpec.from_json(row["treatment"]),
        cases_path=row["cases_path"],
        router=row["router"],
        model=row["model"],
        repeat=row["repeat"],
        concurrency=row["concurrency"],
        seed=row["seed"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        concluded_at=row["concluded_at"],
        control_run_id=row["control_run_id"],
        treatment_run_id=row["treatment_run_id"],
        decision=None if row["decision"] is None else Decision(row["decision"]),
        decision_reason=row["decision_reason"],
        summary=row["summary"],
    )


def insert_experiment(store: Store, record: ExperimentRecord) -> None:
    """Record a new experiment; InputError if one of that name exists."""
    try:
        store.execute_write(
            lambda connection: connection.execute(
                schema.experiments.insert(), experiment_to_row(record)
            )
        )
    except IntegrityError:
        raise InputError(
            store.display_url, f"an experiment named {record.name!r} exists", field="name"
        ) from None


def get_experiment(store: Store, name: str) -> ExperimentRecord | None:
    """The experiment called `name`, or None."""
    statement = select(schema.experiments).where(schema.experiments.c.name == name)
    with store.engine.connect() as connection:
        row = connection.execute(statement).mappings().first()
    return None if row is None else experiment_from_row(row)


def require_experiment(store: Store, name: str) -> ExperimentRecord:
    """The experiment called `name`; InputError when there is none."""
    record = get_experiment(store, name)
    if record is None:
        raise InputError(store.display_url, f"no experiment {name!r} in this store", field="name")
    return record


def list_experiments(store: Store) -> list[ExperimentRecord]:
    """Every experiment, newest first."""
    table = schema.experiments
    statement = select(table).order_by(table.c.created_at.desc(), table.c.name)
    with store.engine.connect() as connection:
        rows = connection.execute(statement).mappings().all()
    return [experiment_from_row(row) for row in rows]


def save_experiment(store: Store, record: ExperimentRecord) -> None:
    """Overwrite the stored experiment of the same name with `record`."""
    row = experiment_to_row(record)
    del row["name"]
    table = schema.experiments
    statement = table.update().where(table.c.name == record.name).values(**row)
    if store.execute_write(lambda connection: connection.execute(statement).rowcount) == 0:
        raise LookupError(f"no experiment {record.name!r} in {store.display_url}")
