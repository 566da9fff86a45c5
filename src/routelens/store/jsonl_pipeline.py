"""Importing a big JSONL file into SQLite on two cores: a worker process reads and validates
the lines and binds their rows, while this process only inserts them.

Strict validation and binding cost more per line than SQLite's insert itself, so on one
core they, not the database, set the pace. A forked worker runs `batches` (the same
validation the in-process import runs, binding each line with `SqliteLineBinder`) and sends
each batch through a pipe as plain tuples, ready for the store's prepared `executemany`.
Everything is still written in the store's one transaction: the worker's first bad line
ends it, and nothing is written.
"""

from __future__ import annotations

import functools
import gc
import multiprocessing
import signal
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Dialect, Double

from routelens.errors import InputError
from routelens.store import schema
from routelens.store.bundle_lines import AttemptLine
from routelens.store.merge import SQLITE_ATTEMPT_COLUMNS, ImportSummary, MergeBatch
from routelens.store.records import RunCaseRecord, RunRecord, RunSkillRecord
from routelens.suite.hashing import input_hash

if TYPE_CHECKING:
    from routelens.store.sqlstore import Store

__all__ = ["PIPELINE_MIN_BYTES", "SqliteLineBinder", "merge_in_worker", "worker_would_help"]

PIPELINE_MIN_BYTES = 4 * 2**20
"""Files at least this big (about 3,000 exported lines) are validated in a worker process."""

BatchSource = Callable[[Path, "SqliteLineBinder"], Iterable[MergeBatch]]
"""Reads a file into validated batches of runs and attempts bound with the binder it is
given (`MergeBatch.bound_attempts`), raising InputError."""

# Once a batch source has failed or been interrupted, the worker gets this long to leave.
_WORKER_EXIT_TIMEOUT_S = 5.0


def worker_would_help(store: Store, path: Path) -> bool:
    """Whether importing `path` into `store` should validate in a worker process.

    Only for SQLite (where the insert is cheap enough for validation to dominate), where
    `fork` exists (a fork starts in milliseconds and needs nothing re-imported), and for
    files big enough to pay for the process.
    """
    if store.engine.dialect.name != "sqlite":
        return False
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    try:
        return path.stat().st_size >= PIPELINE_MIN_BYTES
    except OSError:
        return False  # the in-process import reports the file as unreadable


class SqliteLineBinder:
    """Turns a validated attempt line straight into the parameter tuple SQLite stores.

    The tuple holds exactly what the in-process import stores: its row, through the column
    types' own bind processors, in `SQLITE_ATTEMPT_COLUMNS` order (tests compare the two).
    No row dict is built and no processor runs per column: the line's fields go in as they
    are, except the few this class converts itself; float columns go in as they are too,
    since strict validation already made them floats (what Double's processor makes).
    """

    def __init__(self, dialect: Dialect) -> None:
        """Bind for `dialect`, the store's SQLite dialect."""
        processors = {
            name: schema.attempts.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in SQLITE_ATTEMPT_COLUMNS
        }
        # The line's own field, as it is, for every column without a processor but floats.
        plain = [
            name
            for name in SQLITE_ATTEMPT_COLUMNS
            if name not in _CONVERTED_COLUMNS
            and (processors[name] is None or isinstance(schema.attempts.c[name].type, Double))
        ]
        order = [*plain, *_CONVERTED_COLUMNS]
        if sorted(order) != sorted(SQLITE_ATTEMPT_COLUMNS):  # the schema changed under us
            raise ValueError(f"cannot bind the attempt columns {SQLITE_ATTEMPT_COLUMNS}")
        self._plain_values = itemgetter(*plain)
        self._in_column_order = itemgetter(*(order.index(n) for n in SQLITE_ATTEMPT_COLUMNS))
        boolean = _required(processors["asked_clarification"])
        self._booleans = {True: boolean(True), False: boolean(False)}
        if _required(processors["nul_replaced"])(True) != self._booleans[True]:
            raise ValueError("the attempt columns' booleans bind differently")
        self._retry_log_json = _required(processors["retry_log"])
        self._empty_retry_log = self._retry_log_json([])

    def __call__(
        self, line: AttemptLine, started_at: datetime, finished_at: datetime
    ) -> tuple[Any, ...]:
        """The parameter tuple for `line`, whose attempt ran from `started_at` to `finished_at`.

        The times are aware, in any zone: the line's own, or a finish computed from the
        latency (`jsonl` has checked that they stay in range in UTC).
        """
        retry_log, text = line.retry_log, line.input
        converted = (  # in _CONVERTED_COLUMNS order
            str(line.verdict),
            self._booleans[line.asked_clarification],
            _naive_utc_text(started_at),
            _naive_utc_text(finished_at),
            self._retry_log_json(
                [
                    {"error_type": e.error_type, "http_status": e.http_status, "wait_s": e.wait_s}
                    for e in retry_log
                ]
            )
            if retry_log
            else self._empty_retry_log,
            _cached_input_hash(text) if len(text) <= _CACHED_INPUT_MAX_CHARS else input_hash(text),
            self._booleans[line.nul_replaced],
        )
        bound: tuple[Any, ...] = self._in_column_order(
            self._plain_values(line.__dict__) + converted
        )
        return bound


_CONVERTED_COLUMNS = (
    "verdict",
    "asked_clarification",
    "started_at",
    "finished_at",
    "retry_log",
    "input_hash",
    "nul_replaced",
)
# Lines repeat their inputs (each run of a suite asks the same cases), and a lookup costs a
# sixth of the hash; short inputs only, so that the cache stays under about 20 MB.
_cached_input_hash = functools.lru_cache(maxsize=2**15)(input_hash)
_CACHED_INPUT_MAX_CHARS = 512
_NAIVE_EPOCH = datetime(1970, 1, 1)
_UTC_EPOCH = _NAIVE_EPOCH.replace(tzinfo=UTC)


def _naive_utc_text(moment: datetime) -> str:
    # What UTCDateTime then SQLite's DATETIME make: naive UTC, "YYYY-MM-DD HH:MM:SS.ffffff".
    # Subtracting an aware datetime applies its offset as astimezone(UTC) does, and a naive
    # datetime plus the difference is the naive UTC time, without replace()'s cost.
    return (_NAIVE_EPOCH + (moment - _UTC_EPOCH)).isoformat(" ", "microseconds")


def _required(processor: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    if processor is None:
        raise ValueError("expected a bind processor for this SQLite column")
    return processor


class _Batch(NamedTuple):
    runs: Sequence[RunRecord]
    rows: list[tuple[Any, ...]]
    skills: Sequence[RunSkillRecord]
    cases: Sequence[RunCaseRecord]
    run_lines: dict[str, int]


class _Rejected(NamedTuple):
    # InputError itself does not survive pickling (its args are the rendered line).
    source: str
    message: str
    line: int | None
    field: str | None


class _Finished(NamedTuple):
    pass


def merge_in_worker(
    store: Store,
    path: Path,
    batches: BatchSource,
    checked: Callable[[Iterable[MergeBatch]], Iterable[MergeBatch]] = lambda batches: batches,
) -> ImportSummary:
    """`store.merge_batches(checked(batches(path, binder)))`, with `batches` run in a worker
    (`checked` runs here: it may read the store).

    Raises the InputError of the first bad line (nothing written); on any failure or
    interruption (Ctrl-C) the worker is stopped before this returns.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    binder = SqliteLineBinder(store.engine.dialect)
    worker = context.Process(
        target=_produce,
        args=(batches, path, binder, sender, receiver),
        name="routelens-import-worker",
        daemon=True,
    )
    worker.start()
    sender.close()  # so that the worker's end closing reads as end of file here
    finished = False
    try:
        summary = store.merge_batches(checked(_received(receiver, worker)))
        finished = True
        return summary
    finally:
        receiver.close()  # a worker still sending now fails at once
        _stop(worker, finished)


def _received(receiver: Connection, worker: BaseProcess) -> Iterator[MergeBatch]:
    while True:
        try:
            message = receiver.recv()
        except EOFError:
            raise RuntimeError(
                f"the import worker (pid {worker.pid}) stopped before the end of the file"
            ) from None
        if isinstance(message, _Batch):
            yield MergeBatch(
                message.runs,
                (),
                message.rows,
                skills=message.skills,
                cases=message.cases,
                run_lines=message.run_lines,
            )
        elif isinstance(message, _Rejected):
            source, text, line, field = message
            raise InputError(source, text, line=line, field=field)
        else:
            return


def _stop(worker: BaseProcess, finished: bool) -> None:
    if not finished:
        worker.terminate()
    worker.join(_WORKER_EXIT_TIMEOUT_S)
    if worker.is_alive():
        worker.kill()
        worker.join()
    worker.close()


def _produce(
    batches: BatchSource,
    path: Path,
    binder: SqliteLineBinder,
    sender: Connection,
    receiver: Connection,
) -> None:
    """The worker: validate, bind and send every batch, then `_Finished` or `_Rejected`."""
    # Ctrl-C reaches the whole process group; the main process stops the worker itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Nothing this process inherited becomes garbage here: keep the collector off it.
    gc.freeze()
    # The forked copy of the reading end would keep the pipe open after the main process
    # died, and a send would then block forever instead of failing.
    receiver.close()
    try:
        try:
            for batch in batches(path, binder):
                if batch.attempts:
                    raise ValueError("the import worker sends bound attempt rows only")
                sender.send(
                    _Batch(
                        batch.runs,
                        list(batch.bound_attempts),
                        batch.skills,
                        batch.cases,
                        dict(batch.run_lines),
                    )
                )
        except InputError as error:
            sender.send(_Rejected(error.source, error.message, error.line, error.field))
        else:
            sender.send(_Finished())
    except BrokenPipeError:
        pass  # the main process has stopped reading: it failed or was interrupted
    finally:
        sender.close()
