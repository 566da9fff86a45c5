"""`/`: the executive overview: accuracy over time against the SLO, errors, spend, releases.

The dict holds `trend` (the object `routelens trend --json` prints, compared by the
config's `release_label`), `errors_by_day`, `cost` (`by_day`, `projection` and `budget` as
`routelens cost --json` has them, plus the calendar month's projection), the newest run,
and `executive_summary`.

`executive_summary` comes from the summary provider (`routelens.summaries`, wired by the
server when that module is installed): a dict with at least `text` (paragraphs separated by
a blank line) and optionally `source` (`llm` or `offline`) and `model`. Without a provider
it is `{"status": "waiting", ...}` and the page says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from routelens.analytics.cost import cost_report, cost_report_dict, projected_month_usd
from routelens.analytics.trend import trend_report_dict
from routelens.analytics.window import parse_window
from routelens.commands.trend import build_trend_report
from routelens.store.period_reads import daily_spend
from routelens.store.run_lookup import RunQuery, list_runs
from routelens.store.run_summary import run_totals
from routelens.web.context import Params, WebContext
from routelens.web.pages.formats import run_row

DEFAULT_WINDOW = "30d"
SUMMARY_WINDOW = "7d"
RELEASES_SHOWN = 8
WAITING_SUMMARY = {
    "status": "waiting",
    "module": "routelens.summaries",
    "message": "The executive summary appears here once routelens.summaries is installed.",
}


def overview_page(context: WebContext, path: Mapping[str, str], params: Params) -> dict[str, Any]:
    """Accuracy, errors and spend over the window; the newest run; the executive summary."""
    window_text, window = params.window(DEFAULT_WINDOW)
    attempt_filter = context.window_filter(window)
    store, config = context.store, context.config
    with ThreadPoolExecutor(max_workers=1) as pool:
        spend = pool.submit(daily_spend, store.engine, attempt_filter)
        trend = build_trend_report(store, attempt_filter, compare_label=config.release_label)
        days = spend.result()
    today = attempt_filter.now.date()
    costs = cost_report(days, [], [], [], [], today=today, daily_budget_usd=config.daily_budget_usd)
    cost = {key: cost_report_dict(costs)[key] for key in ("by_day", "projection", "budget")}
    spend_by_day = {day.day: day.cost_usd for day in days}
    cost["month_projection_usd"] = projected_month_usd(
        spend_by_day, today, costs.projection.mean_daily_usd
    )
    trend_dict = trend_report_dict(trend)
    comparison = trend_dict["comparison"]
    if comparison is not None:
        comparison["groups"] = comparison["groups"][-RELEASES_SHOWN:]
    return {
        "window": window_text,
        "slo": config.slo,
        "release_label": config.release_label,
        "trend": trend_dict,
        "errors_by_day": [
            {
                "day": point["day"],
                "attempts": point["passed"] + point["failed"] + point["errors"],
                "errors": point["errors"],
                "error_rate": point["errors"]
                / max(point["passed"] + point["failed"] + point["errors"], 1),
            }
            for point in trend_dict["days"]
        ],
        "max_error_rate": config.max_error_rate,
        "cost": cost,
        "latest_run": _latest_run(context, config.slo),
    }


def overview_summary(context: WebContext, params: Params) -> dict[str, Any]:
    """The executive summary, asked afresh on every request: it answers at once (cached
    text, or the offline text while a model writes). It speaks of the last week and the
    week before, whatever window the charts show."""
    if context.summary is None:
        return {"executive_summary": WAITING_SUMMARY}
    summary_filter = context.window_filter(parse_window(SUMMARY_WINDOW))
    return {"executive_summary": context.summary(context, summary_filter)}


def _latest_run(context: WebContext, slo: float) -> dict[str, Any] | None:
    runs = list_runs(context.store, RunQuery(limit=1))
    if not runs:
        return None
    totals = run_totals(context.store.engine, [runs[0].run_id])
    return run_row(runs[0], totals.get(runs[0].run_id), slo)
