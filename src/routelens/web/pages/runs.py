"""`/runs` and `/runs/<run_id>`: recorded runs, and one run with every failed case.

`/api/runs` rows carry each run's identity and its totals (one grouped statement for the
page); `/api/runs/<run_id>` is the object `routelens show --json` prints, plus `failures`:
one page of the run's failed and errored cases with the filters that chose them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from routelens.commands.common import parse_labels
from routelens.errors import InputError
from routelens.report.run_json import build_run_report
from routelens.store.records import RunStatus
from routelens.store.run_failures import NOT_PASSED, FailureFilter, failed_cases
from routelens.store.run_lookup import RunQuery, count_runs, find_run, list_runs
from routelens.store.run_summary import run_totals
from routelens.web.context import PageNotFound, Params, WebContext
from routelens.web.pages.formats import run_row

RUNS_PER_PAGE = 25
STATUSES = tuple(status.value for status in RunStatus)


def runs_page(context: WebContext, path: Mapping[str, str], params: Params) -> dict[str, Any]:
    """The newest runs, a page at a time, filtered by status, router and label."""
    status = params.choice("status", STATUSES, None)
    router = params.text("router")
    label = params.text("label")
    labels = parse_labels([label]) if label else {}
    page = params.page()
    query = RunQuery(
        labels=labels,
        status=status,
        router=router,
        limit=RUNS_PER_PAGE,
        offset=(page - 1) * RUNS_PER_PAGE,
    )
    records = list_runs(context.store, query)
    totals = run_totals(context.store.engine, [run.run_id for run in records])
    return {
        "filters": {"status": status, "router": router, "label": label},
        "statuses": list(STATUSES),
        "page": page,
        "page_size": RUNS_PER_PAGE,
        "total": count_runs(context.store, query),
        "runs": [run_row(run, totals.get(run.run_id), context.config.slo) for run in records],
    }


def run_page(context: WebContext, path: Mapping[str, str], params: Params) -> dict[str, Any]:
    """One run's summary (`show --json`), its skills, and a page of its failed cases."""
    store = context.store
    try:
        run = find_run(store, path["run_id"])
    except InputError as error:
        raise PageNotFound(error.message) from None
    # exactly `show --json` (the same report, skipped cases and trigger rates included);
    # one run's attempts are few enough to summarise in Python
    shown = build_run_report(run, store.attempts(run.run_id), store.run_cases(run.run_id))
    summary = shown.summary
    wanted = FailureFilter(
        category=params.text("category"),
        skill=params.text("skill"),
        verdict=params.choice("verdict", NOT_PASSED, None),
        search=params.text("q"),
    )
    failures = failed_cases(store.engine, run.run_id, wanted, page=params.page())
    report = shown.as_dict(slo=context.config.slo)
    report["failure_page"] = {
        "filters": {
            "category": wanted.category,
            "skill": wanted.skill,
            "verdict": wanted.verdict,
            "q": wanted.search,
        },
        "total": failures.total,
        "page": failures.page,
        "page_size": failures.page_size,
        "cases": [asdict(case) for case in failures.cases],
    }
    report["skills"] = [
        {"name": skill.name, "folder": skill.folder_name, "content_hash": skill.content_hash}
        for skill in store.run_skills(run.run_id)
    ]
    report["choices"] = {
        "categories": sorted(summary.by_category),
        "skills": sorted(
            {*summary.by_expected_skill, *(skill["name"] for skill in report["skills"])}
        ),
        "verdicts": list(NOT_PASSED),
    }
    return report
