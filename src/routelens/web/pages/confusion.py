"""`/confusion`: the expected x actual matrix as a heatmap, with precision, recall and F1.

The dict is `routelens confusion --json`'s object, plus the `window` and `run` it covers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routelens.analytics.confusion import confusion_report_dict
from routelens.analytics.window import AttemptFilter
from routelens.commands.confusion import build_confusion_report
from routelens.web.context import Params, WebContext

DEFAULT_WINDOW = "7d"


def confusion_page(context: WebContext, path: Mapping[str, str], params: Params) -> dict[str, Any]:
    """Which skills get mistaken for which, in the window or in one run."""
    run = params.text("run")
    window_text, window = params.window(None if run else DEFAULT_WINDOW)
    attempt_filter = AttemptFilter(
        window=window, run_ids=() if run is None else (run,), now=context.clock()
    )
    report = build_confusion_report(context.store, attempt_filter, limit=10)
    return {"window": window_text, "run": run, **confusion_report_dict(report)}
