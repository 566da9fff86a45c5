"""`/coverage`: every skill of a run as a rectangle sized by its cases, coloured by accuracy.

The dict holds the run (`?run=`, default the newest), and `skills`: each skill the run
tested or a case expected, with its cases, accuracy and one child per category. Skills
without a case are listed with `cases: 0` and flagged `uncovered`, so they stand out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from routelens.analytics.summary import expectation_label
from routelens.errors import InputError
from routelens.store.coverage_reads import CoverageCell, run_coverage
from routelens.store.run_lookup import LATEST, find_run
from routelens.web.context import PageNotFound, Params, WebContext


def _accuracy(cells: list[CoverageCell]) -> float | None:
    passed = sum(cell.passed for cell in cells)
    decided = passed + sum(cell.failed for cell in cells)
    return passed / decided if decided else None


def coverage_page(context: WebContext, path: Mapping[str, str], params: Params) -> dict[str, Any]:
    """Skills sized by their cases, per category, with accuracy; uncovered skills flagged."""
    reference = params.text("run", LATEST) or LATEST
    try:
        run = find_run(context.store, reference)
    except InputError as error:
        if reference == LATEST:
            return {"run": None, "skills": [], "uncovered": []}
        raise PageNotFound(error.message) from None
    by_skill: defaultdict[str, list[CoverageCell]] = defaultdict(list)
    for cell in run_coverage(context.store.engine, run.run_id):
        by_skill[expectation_label(cell.category, cell.expected_skill)].append(cell)
    tested = {skill.name for skill in context.store.run_skills(run.run_id)}
    skills = []
    for name in sorted(tested | set(by_skill)):
        cells = sorted(by_skill.get(name, []), key=lambda cell: cell.category)
        skills.append(
            {
                "skill": name,
                "tested": name in tested,
                "uncovered": not cells,
                "cases": sum(cell.cases for cell in cells),
                "accuracy": _accuracy(cells),
                "categories": [
                    {
                        "category": cell.category,
                        "cases": cell.cases,
                        "passed": cell.passed,
                        "failed": cell.failed,
                        "errors": cell.errors,
                        "accuracy": cell.accuracy,
                    }
                    for cell in cells
                ],
            }
        )
    return {
        "run": {"run_id": run.run_id, "started_at": run.started_at.isoformat()},
        "skills": skills,
        "uncovered": [skill["skill"] for skill in skills if skill["uncovered"]],
    }
