"""The pytest plugin's working parts: the run, its telemetry, and a test per case and repeat.

The plugin (`pytest_plugin.py`) imports this module only when a case file is given, so a
plain `pytest` pays nothing for it. The process that owns the pytest session (the xdist
controller, or the only process) creates the run; xdist workers join it by id and write
their attempts to the same store.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from routelens.analytics.summary import summarize_attempts
from routelens.analytics.trigger_rate import DEFAULT_THRESHOLD
from routelens.config import RoutelensConfig, load_config
from routelens.errors import InputError
from routelens.extras import install_hint
from routelens.pytest_keys import (
    ATTEMPT_KEY,
    OTLP_ENDPOINT_INPUT,
    RUN_ID_INPUT,
    SESSION_KEY,
    STORE_INPUT,
    TRACE_CONTEXT_INPUT,
    category_marker,
)
from routelens.report.junit import CaseNote, failure_details, failure_message
from routelens.routers.base import Router
from routelens.routers.registry import RouterContext, make_router
from routelens.runner.engine import AttemptExecutor, WorkItem, plan_work
from routelens.runner.session import RunSettings, create_run, load_resumable_run
from routelens.runner.verdicts import expectation
from routelens.store import DEFAULT_STORE_URL, RunStatus, Store, open_store
from routelens.store.records import AttemptRecord, RunRecord, Verdict
from routelens.suite.models import Case, CaseSuite, SkillSet
from routelens.suite.suite_check import load_suite
from routelens.telemetry import names

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr
    from opentelemetry.context import Context

    from routelens.telemetry.export import TelemetryPipeline
    from routelens.telemetry.run import RunTelemetry

SOURCE_LABELS = {"source": "pytest"}
# OpenTelemetry's resource attribute for one of several processes reporting as one service


@dataclass(frozen=True)
class PluginSettings:
    """What the `--routelens-*` flags and `routelens_*` ini keys ask for; flags win."""

    cases: Path | None = None
    skills: Path | None = None
    router: str | None = None
    model: str | None = None
    repeat: int | None = None
    store: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    otlp_endpoint: str | None = None
    trigger_skill: str | None = None
    include_skipped: bool = False


def _build_router(settings: RunSettings, config: RoutelensConfig) -> Router:
    # one test runs at a time in each process, so each router sees a concurrency of one
    options = {**config.options_for(settings.router), **settings.router_options}
    context = RouterContext(concurrency=1, pricing=config.pricing)
    return make_router(settings.router, settings.model, options, context)


class _Telemetry:
    """The OTLP pipeline and run telemetry of one process; inert when telemetry is off."""

    def __init__(self) -> None:
        self.pipeline: TelemetryPipeline | None = None
        self.run: RunTelemetry | None = None

    def start(
        self,
        run: RunRecord,
        skills: SkillSet,
        otlp_endpoint: str | None,
        *,
        suite_context: Context | None = None,
        worker_id: int = 0,
        run_sequence: int | None = None,
    ) -> RunTelemetry | None:
        """Open this run's telemetry; with `suite_context`, join another process's suite span."""
        try:
            from routelens.telemetry.export import build_resource, start_telemetry
            from routelens.telemetry.settings import telemetry_settings
        except ImportError as error:  # the SDK is the `otel` extra
            if otlp_endpoint:
                raise InputError(
                    "--routelens-otlp-endpoint",
                    f"telemetry needs the OpenTelemetry SDK: {install_hint('otel')} ({error})",
                    field="otlp_endpoint",
                ) from None
            return None
        settings = telemetry_settings(
            otlp_endpoint=otlp_endpoint,
            capture_content=None,
            suite_name=run.suite_name,
            environment=run.environment,
        )
        if settings is None:
            return None
        if suite_context is not None:
            # each worker's cumulative metrics must stay apart from the other workers'
            instance = {names.SERVICE_INSTANCE_ID: f"{run.run_id}-worker-{worker_id}"}
            settings = replace(
                settings, resource_attributes={**settings.resource_attributes, **instance}
            )

        from routelens.telemetry.run import RunTelemetry

        self.pipeline = start_telemetry(settings, build_resource(settings, run=run))
        self.run = RunTelemetry(
            run,
            skills,
            tracer_provider=self.pipeline.tracer_provider,
            meter_provider=self.pipeline.meter_provider,
            capture_content=self.pipeline.capture_content,
            run_sequence=run_sequence,
            parent=suite_context,
        )
        if suite_context is None:
            self.run.__enter__()
        else:
            # a worker opens no suite span of its own: its `worker_<id>` span hangs under
            # the controller's, whose context came over in the traceparent
            self.run.join_suite(suite_context)
        return self.run

    def traceparent(self) -> dict[str, str]:
        """The suite span as W3C trace-context headers, for the processes that join the run."""
        if self.run is None:
            return {}
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        carrier: dict[str, str] = {}
        TraceContextTextMapPropagator().inject(carrier, context=self.run.spans.suite_context)
        return carrier

    def close(self, status: RunStatus | None) -> None:
        """End the spans (telling the suite span how the run ended) and flush the pipeline."""
        run, pipeline, self.run, self.pipeline = self.run, self.pipeline, None, None
        try:
            if run is not None:
                if status is not None:
                    run.finish(status)
                run.__exit__(None, None, None)
        finally:
            if pipeline is not None:
                pipeline.close()


def suite_context_from(carrier: Mapping[str, str]) -> Context | None:
    """The suite span's context from W3C trace-context headers (None when there are none)."""
    if not carrier:
        return None
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator().extract(dict(carrier))


class RoutingSession:
    """This process's share of a routelens run: the cases to collect and the attempts to make.

    >>> settings = PluginSettings(cases=Path("cases.yaml"), skills=Path("skills"))
    >>> session = RoutingSession.prepare(settings, Path.cwd())  # doctest: +SKIP
    >>> session.start_run(workers=1, runs_here=True)  # doctest: +SKIP
    >>> session.attempt(session.work_items()[0]).verdict  # doctest: +SKIP
    <Verdict.PASS: 'pass'>
    >>> session.finish(RunStatus.COMPLETED)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        skills: SkillSet,
        cases_path: Path,
        cases: tuple[Case, ...],
        settings: RunSettings,
        config: RoutelensConfig,
        store_url: str,
        router: Router,
        worker_id: int = 0,
        suite: CaseSuite | None = None,
        labels: Mapping[str, str] | None = None,
        otlp_endpoint: str | None = None,
    ) -> None:
        self.skills = skills
        self.cases_path = cases_path
        self.cases = cases
        self.suite = suite
        self.labels = dict(labels or {})
        self.otlp_endpoint = otlp_endpoint
        self.settings = settings
        self.config = config
        self.store_url = store_url
        self.router: Router | None = router
        self.worker_id = worker_id
        self.store: Store | None = None
        self.run: RunRecord | None = None
        self.executor: AttemptExecutor | None = None
        self.telemetry = _Telemetry()
        self.summary_line: str | None = None
        self._loop: asyncio.Runner | None = None

    @classmethod
    def prepare(cls, plugin: PluginSettings, search_dir: Path) -> RoutingSession:
        """Load and check the skills, cases and router the flags name; record nothing yet."""
        config = load_config(search_dir=search_dir)
        assert plugin.cases is not None
        skills_dir = plugin.skills or config.skills
        if skills_dir is None:
            raise InputError(
                "pytest", "--routelens-skills (or routelens_skills) is required", field="skills"
            )
        skills, loaded = load_suite(
            skills_dir,
            plugin.cases,
            trigger_skill=plugin.trigger_skill,
            strict=config.case_settings.strict,
        )
        assert loaded is not None
        suite = loaded
        router_name = plugin.router or config.router
        settings = RunSettings(
            router=router_name,
            model=plugin.model or config.model,
            repeat=plugin.repeat or config.repeat,
            concurrency=1,
            timeout_s=config.timeout_s,
            router_options=config.options_for(router_name),
            workflow_rule=config.verdicts.workflow,
            include_skipped=plugin.include_skipped,
            trigger_skill=suite.trigger_skill,
            trigger_threshold=None if suite.trigger_skill is None else DEFAULT_THRESHOLD,
        )
        router = _build_router(settings, config)
        return cls(
            skills=skills,
            cases_path=suite.path.resolve(),
            cases=suite.cases,
            settings=replace(settings, model=settings.model or router.model),
            config=config,
            store_url=plugin.store or config.store or DEFAULT_STORE_URL,
            router=router,
            suite=suite,
            labels=plugin.labels,
            otlp_endpoint=plugin.otlp_endpoint,
        )

    @classmethod
    def join(
        cls, workerinput: Mapping[str, Any], search_dir: Path, worker_id: int
    ) -> RoutingSession:
        """Join the run the controller created (an xdist worker), with the run's own cases."""
        config = load_config(search_dir=search_dir)
        store = open_store(workerinput[STORE_INPUT])
        try:
            resumable = load_resumable_run(store, workerinput[RUN_ID_INPUT])
            router = _build_router(resumable.settings, config)
        except BaseException:
            store.close()
            raise
        run = resumable.run
        session = cls(
            skills=resumable.skills,
            cases_path=Path(run.cases_path or "cases"),
            cases=resumable.cases,
            settings=resumable.settings,
            config=config,
            store_url=workerinput[STORE_INPUT],
            router=router,
            worker_id=worker_id,
            otlp_endpoint=workerinput.get(OTLP_ENDPOINT_INPUT),
        )
        session.store, session.run = store, run
        try:
            observer = session.telemetry.start(
                run,
                resumable.skills,
                session.otlp_endpoint,
                suite_context=suite_context_from(workerinput.get(TRACE_CONTEXT_INPUT) or {}),
                worker_id=worker_id,
            )
        except BaseException:
            session.close()
            raise
        session.executor = session._executor(observer)
        return session

    def work_items(self) -> list[WorkItem]:
        """One item per (case, repeat), repeats interleaved as `routelens run` orders them;
        skipped cases too (their tests are marked skipped unless they are included)."""
        return plan_work(self.cases, self.settings.repeat, frozenset(), include_skipped=True)

    def skip_reason(self, case: Case) -> str | None:
        """Why `case`'s tests are skipped, or None when they run."""
        if not case.skip or self.settings.include_skipped:
            return None
        return case.skip_reason or "skip: true in the case file"

    def case_note(self, case: Case) -> CaseNote:
        """What a failure of `case` says the rule expected, and the team's question."""
        return CaseNote(expectation(case, self.settings.verdict_rules).describe(), case.ask)

    def start_run(self, *, workers: int, runs_here: bool) -> RunRecord:
        """Record the run and open its suite span; `runs_here` when this process runs tests."""
        assert self.suite is not None, "only the session that loaded the cases creates the run"
        self.store = open_store(self.store_url)
        self.run = create_run(
            self.store,
            self.skills,
            self.suite,
            replace(self.settings, concurrency=workers),
            labels={**self.config.labels, **self.labels, **SOURCE_LABELS},
            environment=self.config.environment,
        )
        sequence = sum(1 for r in self.store.list_runs() if r.suite_name == self.run.suite_name)
        observer = self.telemetry.start(
            self.run, self.skills, self.otlp_endpoint, run_sequence=sequence
        )
        if runs_here:
            self.executor = self._executor(observer)
        else:
            self._close_router()
        return self.run

    def _executor(self, observer: RunTelemetry | None) -> AttemptExecutor:
        assert self.run is not None
        assert self.store is not None
        assert self.router is not None
        return AttemptExecutor(
            run=self.run,
            skills=self.skills,
            router=self.router,
            store=self.store,
            timeout_s=self.settings.timeout_s,
            observer=observer,
            rules=self.settings.verdict_rules,
        )

    def worker_input(self) -> dict[str, Any]:
        """What an xdist worker needs to join the run: its id, the store and the suite span."""
        assert self.run is not None
        return {
            RUN_ID_INPUT: self.run.run_id,
            STORE_INPUT: self.store_url,
            TRACE_CONTEXT_INPUT: self.telemetry.traceparent(),
            OTLP_ENDPOINT_INPUT: self.otlp_endpoint,
        }

    @property
    def attempts_made(self) -> int:
        """Attempts this process has made and recorded."""
        return self.executor.attempts_made if self.executor else 0

    def attempt(self, item: WorkItem) -> AttemptRecord:
        """Route, judge and record one (case, repeat) on this process's event loop."""
        if self.executor is None:
            raise RuntimeError("routelens: no run in progress (is this --collect-only?)")
        if self._loop is None:
            self._loop = asyncio.Runner()
        return self._loop.run(self.executor.attempt(item, self.worker_id))

    def final_status(self, session: pytest.Session, exitstatus: int | pytest.ExitCode) -> RunStatus:
        """How the run ended, for the process that owns it."""
        if exitstatus == pytest.ExitCode.INTERNAL_ERROR:
            return RunStatus.FAILED
        if exitstatus == pytest.ExitCode.INTERRUPTED:  # Ctrl-C, or -x / --maxfail under xdist
            return RunStatus.INTERRUPTED
        if session.shouldstop or session.shouldfail:  # -x / --maxfail in this process
            planned = sum(
                isinstance(item, RoutingCase) and self.skip_reason(item.work.case) is None
                for item in session.items
            )
            if self.attempts_made < planned:
                return RunStatus.INTERRUPTED
        return RunStatus.COMPLETED

    def finish(self, status: RunStatus | None) -> None:
        """End this process's part; with `status` (the run's owner), close the run and sum it up."""
        try:
            if status is not None and self.run is not None and self.store is not None:
                self.store.set_run_status(self.run.run_id, status, finished_at=datetime.now(UTC))
                self.summary_line = self._summary_line(status)
            self.telemetry.close(status)
        finally:
            self.close()

    def _summary_line(self, status: RunStatus) -> str:
        assert self.run is not None
        assert self.store is not None
        summary = summarize_attempts(self.store.attempts(self.run.run_id))
        decided = summary.passed + summary.failed
        accuracy = "n/a" if summary.accuracy is None else f"{summary.accuracy:.1%}"
        return (
            f"routelens run {self.run.run_id} {status}: accuracy {accuracy} "
            f"({summary.passed}/{decided} decided), {summary.attempts} attempts, "
            f"{summary.errors} error{'' if summary.errors == 1 else 's'}; "
            f"store {self.store.display_url}"
        )

    def _close_router(self) -> None:
        router, self.router = self.router, None
        if router is None:
            return
        if self._loop is None:
            self._loop = asyncio.Runner()
        self._loop.run(router.aclose())

    def close(self) -> None:
        """Release the router, the event loop and the store (safe to call twice)."""
        try:
            self._close_router()
        finally:
            if self._loop is not None:
                self._loop.close()
                self._loop = None
            if self.store is not None:
                self.store.close()
                self.store = None


def routing_session(config: pytest.Config) -> RoutingSession:
    """This process's routing session (the plugin stores it when it configures pytest)."""
    session = config.stash[SESSION_KEY]
    assert isinstance(session, RoutingSession)
    return session


class RoutingSuite(pytest.File):
    """The case file as a collector: one `RoutingCase` per case and repeat, repeats interleaved."""

    def collect(self) -> Iterator[RoutingCase]:
        """Yield `TC031[r0]`, `TC032[r0]`, ..., `TC031[r1]`, ... marked by category."""
        routing = routing_session(self.config)
        for work in routing.work_items():
            item = RoutingCase.from_parent(
                self, name=f"{work.case.id}[r{work.repeat_index}]", work=work
            )
            item.add_marker(category_marker(work.case.category))
            reason = routing.skip_reason(work.case)
            if reason is not None:
                item.add_marker(pytest.mark.skip(reason=reason))
            yield item


def describe_attempt(attempt: AttemptRecord, note: CaseNote | None = None) -> str:
    """Why an attempt did not pass: "Expected X, got Y" (what the case's rule accepts, with
    `note`; or the router error), the input, and the team's question beside the router's."""
    if attempt.verdict is Verdict.ERROR:
        status = f" (HTTP {attempt.http_status})" if attempt.http_status is not None else ""
        lines = [f"Router error {attempt.error_type}{status}: {attempt.error_message or ''}"]
        lines.append(f"Input: {attempt.input}")
    else:
        lines = [failure_message(attempt, note), *failure_details(attempt, note)]
    if attempt.retries:
        lines.append(f"Retries: {attempt.retries}")
    lines.append(f"Run: {attempt.run_id}, worker {attempt.worker_id}")
    return "\n".join(lines)


class RoutingFailure(Exception):
    """A wrong route; carries the recorded attempt and what its case's rule expected."""

    def __init__(self, attempt: AttemptRecord, note: CaseNote | None = None) -> None:
        super().__init__(failure_message(attempt, note))
        self.attempt = attempt
        self.note = note


class RoutingCase(pytest.Item):
    """One attempt at one case: setup routes it (a router error is a test error), the test
    checks the verdict (a wrong route is a test failure)."""

    def __init__(self, *, work: WorkItem, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.work = work

    def setup(self) -> None:
        """Route the case and record the attempt."""
        attempt = routing_session(self.config).attempt(self.work)
        self.stash[ATTEMPT_KEY] = attempt
        self.user_properties += [
            ("routelens_run_id", attempt.run_id),
            ("expected_skill", attempt.expected_skill or ""),
            ("actual_skill", attempt.actual_skill or ""),
            ("verdict", str(attempt.verdict)),
        ]
        if attempt.verdict is Verdict.ERROR:
            # failing in setup makes pytest count an error, not a failure
            pytest.fail(describe_attempt(attempt), pytrace=False)

    def runtest(self) -> None:
        """Fail when the route was wrong."""
        attempt = self.stash[ATTEMPT_KEY]
        if attempt.verdict is Verdict.FAIL:
            raise RoutingFailure(attempt, routing_session(self.config).case_note(self.work.case))

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | TerminalRepr:
        """Show "Expected X, got Y" and the input instead of a traceback."""
        if isinstance(excinfo.value, RoutingFailure):
            return describe_attempt(excinfo.value.attempt, excinfo.value.note)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[os.PathLike[str] | str, int | None, str]:
        """Where the test comes from: the case file, the case's line (0-based) and the case."""
        suite = routing_session(self.config).suite
        line = suite.case_lines.get(self.work.case.id, 1) if suite is not None else 1
        return self.path, line - 1, f"{self.name} ({self.work.case.category})"
