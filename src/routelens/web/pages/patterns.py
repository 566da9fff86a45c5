"""`/patterns`: failed inputs grouped by meaning, and a word cloud of their terms.

The analysis comes from the patterns provider (`routelens.analytics.patterns`, wired by the
server when that module is installed). The page reads a plain dict:

    {"method": "tfidf-lsa+agglomerative",
     "clusters": [{"top_terms": ["sprint", "board"], "size": 12, "accuracy": 0.4,
                   "examples": [{"case_id": "TC031", "input": "show me the sprint"}]}],
     "terms": [{"term": "sprint", "weight": 0.82}]}

Without a provider the page says it is waiting for that module (`status: "waiting"`).
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
        "window": window_text,
        "status": "ready",
        "module": PATTERNS_MODULE,
        "method": found.get("method"),
        "clusters": list(found.get("clusters", [])),
        "terms": list(found.get("terms", [])),
    }
