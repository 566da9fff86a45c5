"""routelens: measure, explain and watch how Claude Code skills are routed.

>>> from routelens import load_skill_set, load_case_suite, open_store, LocalRouter
"""

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
