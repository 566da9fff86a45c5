"""routelens: measure, explain and watch how Claude Code skills are routed.

>>> from routelens import load_skill_set, load_case_suite, open_store, LocalRouter

Names load on first use, so `import routelens` (and the pytest plugin) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from routelens.analytics.summary import RunSummary, summarize_attempts
    from routelens.config import RoutelensConfig, load_config
    from routelens.errors import InputError
    from routelens.routers.base import Router, RouteRequest, RouterError, RouteResult, TokenUsage
    from routelens.routers.function import FunctionRouter
    from routelens.routers.local import LocalRouter, LocalRouterSettings
    from routelens.routers.registry import make_router
    from routelens.runner.session import (
        RunOutcome,
        RunSettings,
        create_run,
        execute_run,
        load_resumable_run,
    )
    from routelens.runner.verdicts import Judgement, judge
    from routelens.store import (
        AttemptRecord,
        RunRecord,
        RunStatus,
        Store,
        Verdict,
        export_run_jsonl,
        import_jsonl,
        open_store,
    )
    from routelens.suite.cases import load_case_suite
    from routelens.suite.models import Case, CaseSuite, Category, Skill, SkillSet
    from routelens.suite.skills import load_skill_set

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "AttemptRecord": "routelens.store",
    "Case": "routelens.suite.models",
    "CaseSuite": "routelens.suite.models",
    "Category": "routelens.suite.models",
    "FunctionRouter": "routelens.routers.function",
    "InputError": "routelens.errors",
    "Judgement": "routelens.runner.verdicts",
    "LocalRouter": "routelens.routers.local",
    "LocalRouterSettings": "routelens.routers.local",
    "RouteRequest": "routelens.routers.base",
    "RouteResult": "routelens.routers.base",
    "RoutelensConfig": "routelens.config",
    "Router": "routelens.routers.base",
    "RouterError": "routelens.routers.base",
    "RunOutcome": "routelens.runner.session",
    "RunRecord": "routelens.store",
    "RunSettings": "routelens.runner.session",
    "RunStatus": "routelens.store",
    "RunSummary": "routelens.analytics.summary",
    "Skill": "routelens.suite.models",
    "SkillSet": "routelens.suite.models",
    "Store": "routelens.store",
    "TokenUsage": "routelens.routers.base",
    "Verdict": "routelens.store",
    "create_run": "routelens.runner.session",
    "execute_run": "routelens.runner.session",
    "export_run_jsonl": "routelens.store",
    "import_jsonl": "routelens.store",
    "judge": "routelens.runner.verdicts",
    "load_case_suite": "routelens.suite.cases",
    "load_config": "routelens.config",
    "load_resumable_run": "routelens.runner.session",
    "load_skill_set": "routelens.suite.skills",
    "make_router": "routelens.routers.registry",
    "open_store": "routelens.store",
    "summarize_attempts": "routelens.analytics.summary",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'routelens' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "AttemptRecord",
    "Case",
    "CaseSuite",
    "Category",
    "FunctionRouter",
    "InputError",
    "Judgement",
    "LocalRouter",
    "LocalRouterSettings",
    "RouteRequest",
    "RouteResult",
    "RoutelensConfig",
    "Router",
    "RouterError",
    "RunOutcome",
    "RunRecord",
    "RunSettings",
    "RunStatus",
    "RunSummary",
    "Skill",
    "SkillSet",
    "Store",
    "TokenUsage",
    "Verdict",
    "__version__",
    "create_run",
    "execute_run",
    "export_run_jsonl",
    "import_jsonl",
    "judge",
    "load_case_suite",
    "load_config",
    "load_resumable_run",
    "load_skill_set",
    "make_router",
    "open_store",
    "summarize_attempts",
]
