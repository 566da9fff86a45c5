"""Run attempts concurrently through a router and write each one to the store as it ends."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from routelens.routers.base import Router, RouteRequest, RouterError, RouteResult
from routelens.runner.verdicts import VerdictRules, judge
from routelens.store.records import AttemptRecord, RunRecord, Verdict
from routelens.store.sqlstore import Store
from routelens.suite.models import Case, SkillSet

TIMEOUT_ERROR_TYPE = "timeout"


@dataclass(frozen=True)
class WorkItem:
    """One (case, repeat) to attempt; `sequence_number` fixes its place in the run's order
    (shards and queued items carry their place in the whole plan), else the executor counts."""

    case: Case
    repeat_index: int
    sequence_number: int | None = None


class AttemptObserver(Protocol):
    """Told about each attempt as it ends (a progress bar, a test's recorder)."""

    def attempt_finished(self, attempt: AttemptRecord) -> None:
        """Called once per recorded attempt, in completion order."""


class _NoObserver:
    def attempt_finished(self, attempt: AttemptRecord) -> None:
        return None


class ObserverGroup:
    """Tell several observers (progress bar, spans, metrics) about each attempt, in order."""

    def __init__(self, *observers: AttemptObserver | None) -> None:
        self.observers = [observer for observer in observers if observer is not None]

    def attempt_finished(self, attempt: AttemptRecord) -> None:
        """Pass the attempt to every observer."""
        for observer in self.observers:
            observer.attempt_finished(attempt)


def plan_work(
    cases: Sequence[Case],
    repeat: int,
    done: set[tuple[str, int]] | frozenset[tuple[str, int]],
    *,
    include_skipped: bool = False,
) -> list[WorkItem]:
    """Every (case, repeat) not yet done; repeats interleaved so attempts of a case spread out.

    Cases marked `skip: true` are left out unless `include_skipped`.
    """
    return [
        WorkItem(case, repeat_index)
        for repeat_index in range(repeat)
        for case in cases
        if (include_skipped or not case.skip) and (case.id, repeat_index) not in done
    ]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class AttemptExecutor:
    """Executes work items for one run; owns the sequence counter and the store writes."""

    run: RunRecord
    skills: SkillSet
    router: Router
    store: Store
    timeout_s: float | None = None
    first_sequence_number: int = 0
    observer: AttemptObserver | None = None
    replace_existing: bool = False
    max_cost_usd: float | None = None
    spent_usd: float = 0.0
    largest_attempt_cost_usd: float = 0.0
    rules: VerdictRules = field(default_factory=VerdictRules)

    def __post_init__(self) -> None:
        self._sequence = itertools.count(self.first_sequence_number)
        self.attempts_made = 0
        self.in_flight = 0
        self.stopped_by_budget = False

    def budget_allows_another(self) -> bool:
        """Whether one more attempt fits the budget, counting those in flight at the
        largest cost one attempt has had (a cautious estimate: a run stops early, never over)."""
        if self.max_cost_usd is None:
            return True
        if self.spent_usd >= self.max_cost_usd:
            return False
        committed = (self.in_flight + 1) * self.largest_attempt_cost_usd
        return self.spent_usd + committed <= self.max_cost_usd

    def _request(self, case: Case) -> RouteRequest:
        return RouteRequest(
            case_id=case.id,
            input=case.input,
            skills=self.skills,
            context_facts=case.context_facts,
            context_messages=case.context_messages,
            model=self.run.model,
        )

    def _skill_hash(self, name: str | None) -> str | None:
        skill = self.skills.resolve(name)
        return skill.content_hash if skill else None

    async def attempt(self, item: WorkItem, worker_id: int) -> AttemptRecord:
        """Route one item and record it; router failures become `error` attempts."""
        sequence_number = (
            next(self._sequence) if item.sequence_number is None else item.sequence_number
        )
        started_at = _utc_now()
        clock = time.perf_counter()
        result: RouteResult | None = None
        failure: RouterError | None = None
        try:
            result = await asyncio.wait_for(
                self.router.route(self._request(item.case)), timeout=self.timeout_s
            )
        except TimeoutError:
            failure = RouterError(
                f"no answer within {self.timeout_s} s", error_type=TIMEOUT_ERROR_TYPE
            )
        except RouterError as error:
            failure = error
        except Exception as error:  # a router bug must not lose the attempt: record it
            failure = RouterError(str(error), error_type=type(error).__name__)
        latency_s = time.perf_counter() - clock
        attempt = self._record(
            item, worker_id, sequence_number, started_at, latency_s, result, failure
        )
        self.store.record_attempt(attempt, replace=self.replace_existing)
        self.attempts_made += 1
        self.spent_usd += attempt.cost_usd
        self.largest_attempt_cost_usd = max(self.largest_attempt_cost_usd, attempt.cost_usd)
        (self.observer or _NoObserver()).attempt_finished(attempt)
        return attempt

    def _record(
        self,
        item: WorkItem,
        worker_id: int,
        sequence_number: int,
        started_at: datetime,
        latency_s: float,
        result: RouteResult | None,
        failure: RouterError | None,
    ) -> AttemptRecord:
        case = item.case
        base = AttemptRecord(
            run_id=self.run.run_id,
            case_id=case.id,
            repeat_index=item.repeat_index,
            category=case.category.value,
            input=case.input,
            expected_skill=case.expected_skill,
            actual_skill=None,
            verdict=Verdict.ERROR,
            asked_clarification=False,
            started_at=started_at,
            finished_at=_utc_now(),
            latency_s=latency_s,
            worker_id=worker_id,
            sequence_number=sequence_number,
            expected_skill_hash=self._skill_hash(case.expected_skill),
        )
        if result is None:
            assert failure is not None
            return replace(
                base,
                error_type=failure.error_type,
                error_message=str(failure),
                http_status=failure.http_status,
                retries=failure.retries,
                retry_wait_s=failure.retry_wait_s,
                retry_log=failure.retry_log,
            )
        judgement = judge(case, result, self.skills, self.rules)
        actual = self.skills.canonical(result.skill)
        return replace(
            base,
            actual_skill=actual,
            verdict=judgement.verdict,
            asked_clarification=result.asked_clarification and result.skill is None,
            latency_s=result.latency_s or latency_s,
            http_status=result.http_status,
            retries=result.retries,
            retry_wait_s=result.retry_wait_s,
            retry_log=result.retry_log,
            input_tokens=result.tokens.input,
            output_tokens=result.tokens.output,
            cache_read_tokens=result.tokens.cache_read,
            cache_write_tokens=result.tokens.cache_write,
            cost_usd=result.cost_usd,
            confidence=result.confidence,
            options_score=judgement.options_score,
            commands_score=judgement.commands_score,
            confirmation_score=judgement.confirmation_score,
            response_text=result.response_text,
            response_model=result.response_model,
            actual_skill_hash=self._skill_hash(actual),
        )

    async def run_all(self, items: Sequence[WorkItem], concurrency: int) -> None:
        """Run `items` with `concurrency` workers pulling from one queue, in plan order."""
        queue: asyncio.Queue[WorkItem] = asyncio.Queue()
        for item in items:
            queue.put_nowait(item)

        async def worker(worker_id: int) -> None:
            while True:
                try:
                    item = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                if not self.budget_allows_another():
                    self.stopped_by_budget = True
                    return
                self.in_flight += 1
                try:
                    await self.attempt(item, worker_id)
                finally:
                    self.in_flight -= 1
                # yield even when the router never awaits, so Ctrl-C stops the run promptly
                await asyncio.sleep(0)
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    # asyncio.wait_for can swallow a cancel that lands as the route finishes
                    raise asyncio.CancelledError

        workers = max(1, min(concurrency, len(items)))
        async with asyncio.TaskGroup() as group:
            for worker_id in range(workers):
                group.create_task(worker(worker_id))
