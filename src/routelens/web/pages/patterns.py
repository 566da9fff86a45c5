"""`/patterns`: failed inputs grouped by meaning, and a word cloud of their terms.

The analysis comes from the patterns provider (web/providers.py, which runs
`routelens.analytics.patterns` as `routelens patterns` does). The page reads the object
`routelens patterns --json` prints, for the page's window:

    {"method": "agglomerative", "failed_inputs": 41, "truncated": false,
     "clusters": [{"name": "sprint, board", "top_terms": ["sprint", "board"], "inputs": 12,
                   "failures": 30, "accuracy": 0.4,
                   "examples": [{"input": "show me the sprint", "failures": 3, "decided": 3}]}],
     "unclustered": {...}, "terms": [{"term": "sprint", "failures": 30, "weight": 0.82}]}

Without a provider the page says it is waiting (`status: "waiting"`); without the
`patterns` extra it says how to install it (`status: "missing"`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routelens.web.context import Params, WebContext

DEFAULT_WINDOW = "7d"
PATTERNS_MODULE = "routelens.analytics.patterns"


def patterns_page(context: WebContext, path: Mapping[str, str], params: Params) -> dict[str, Any]:
    """Clusters of the window's failed inputs and their terms, or the waiting notice."""
    window_text, window = params.window(DEFAULT_WINDOW)
    if context.patterns is None:
        return {
            "window": window_text,
            "status": "waiting",
            "module": PATTERNS_MODULE,
            "method": None,
            "clusters": [],
            "terms": [],
        }
    found = context.patterns(context, context.window_filter(window))
    return {
        "method": None,
        "clusters": [],
        "terms": [],
        **found,
        "window": window_text,
        "status": found.get("status", "ready"),
        "module": PATTERNS_MODULE,
    }
