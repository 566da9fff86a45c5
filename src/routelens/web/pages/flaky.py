"""`/flaky`: `routelens flaky` as a table, a page at a time, with links to each case.

The dict is `routelens flaky --json`'s object (`window`, `rule`, `min_attempts`, `cases`)
with `cases` cut to one page of the chosen class, plus `total` and `counts` by class.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from routelens.analytics.flaky import DEFAULT_MIN_ATTEMPTS, FlakyCase, FlakyClass, FlakyRule
from routelens.commands.flaky import find_flaky_cases, flaky_case_dict
from routelens.web.context import Params, WebContext

DEFAULT_WINDOW = "7d"
CASES_PER_PAGE = 100
CLASSES = tuple(str(kind) for kind in FlakyClass)
RULES = tuple(str(rule) for rule in FlakyRule)


def flaky_page(context: WebContext, path: Mapping[str, str], params: Params) -> dict[str, Any]:
    """Flaky cases first, then the rest, with their stability, flip rate and interval."""
    window_text, window = params.window(DEFAULT_WINDOW)
    rule = FlakyRule(params.choice("rule", RULES, None) or FlakyRule.INTERVAL)
    min_attempts = params.integer("min_attempts", DEFAULT_MIN_ATTEMPTS, minimum=1)
    wanted = params.choice("class", CLASSES, None)
    page = params.page()

    def compute() -> list[FlakyCase]:
        attempt_filter = context.window_filter(window)
        return find_flaky_cases(context.store, attempt_filter, min_attempts=min_attempts, rule=rule)

    cases: list[FlakyCase] = context.cached(
        ("flaky", window_text, str(rule), min_attempts), compute
    )
    counts = Counter(str(case.flaky_class) for case in cases)
    chosen = [case for case in cases if wanted is None or str(case.flaky_class) == wanted]
    start = (page - 1) * CASES_PER_PAGE
    return {
        "window": window_text,
        "rule": str(rule),
        "min_attempts": min_attempts,
        "filters": {"class": wanted},
        "classes": list(CLASSES),
        "counts": {kind: counts.get(kind, 0) for kind in CLASSES},
        "total": len(chosen),
        "page": page,
        "page_size": CASES_PER_PAGE,
        "cases": [flaky_case_dict(case) for case in chosen[start : start + CASES_PER_PAGE]],
    }
