"""The two analyses a page shows but does not compute itself: failed-input patterns and the
executive summary, wired in by `routelens serve` when their modules can load.

Each provider turns (context, attempt filter) into the plain dict its page reads. Patterns
need the `patterns` extra (scikit-learn): without it the page says how to install it. The
summary never waits for a model: the facts are gathered in the background, the text is
the cached one, or the offline text while a model writes (summaries.service).
"""

from __future__ import annotations

from typing import Any

from routelens.analytics.window import AttemptFilter
from routelens.extras import install_hint
from routelens.store.sqlstore import Store
from routelens.summaries.latest import LatestFacts
from routelens.summaries.service import SummaryService, SummarySettings, summary_dict
from routelens.summaries.writer import RouterChoice
from routelens.web.context import PatternsProvider, SummaryProvider, WebContext

PATTERNS_INSTALL = install_hint("patterns")
GATHERING = {
    "status": "gathering",
    "text": "The facts for the summary are being gathered; reload the page in a moment.",
}


def patterns_provider() -> PatternsProvider:
    """Clusters and word-cloud terms of a window's failed inputs, in the page's dict."""

    def patterns(context: WebContext, attempt_filter: AttemptFilter) -> dict[str, Any]:
        try:
            from routelens.commands.patterns import build_patterns, patterns_dict
        except ImportError as error:
            return {"status": "missing", "missing": error.name, "install": PATTERNS_INSTALL}
        # the object `routelens patterns --json` prints, for the window the page asks
        return patterns_dict(build_patterns(context.store, attempt_filter))

    return patterns


def summary_provider(
    store: Store,
    *,
    slo: float,
    daily_budget_usd: float,
    router: RouterChoice | None,
    model: str | None = None,
) -> SummaryProvider:
    """The executive summary of the last week: `router` None writes it offline only."""
    latest = LatestFacts(store, slo=slo, daily_budget_usd=daily_budget_usd)
    service = SummaryService(
        SummarySettings(
            router=router or RouterChoice.ANTHROPIC, model=model, offline=router is None
        )
    )

    def summary(context: WebContext, attempt_filter: AttemptFilter) -> dict[str, Any]:
        facts = latest.get("7d")
        if facts is None:
            return GATHERING
        return summary_dict(service.summary_for(facts), facts)

    return summary
