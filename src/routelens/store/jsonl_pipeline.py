"""Importing a big JSONL file into SQLite on two cores: a worker process reads and validates
the lines and binds their rows, while this process only inserts them.

Strict validation and binding cost more per line than SQLite's insert itself, so on one
core they, not the database, set the pace. A forked worker runs `batches` (the same
validation the in-process import runs) and sends each batch through a pipe as plain
tuples, ready for the store's prepared `executemany`. Everything is still written in the
store's one transaction: the worker's first bad line ends it, and nothing is written.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import JSON, Dialect

from routelens.errors import InputError
from routelens.store import schema
from routelens.store.records import RunRecord
from routelens.store.sqlstore import SQLITE_ATTEMPT_COLUMNS, ImportSummary, MergeBatch, Store

__all__ = ["PIPELINE_MIN_BYTES", "SqliteRowBinder", "merge_in_worker", "worker_would_help"]

PIPELINE_MIN_BYTES = 4 * 2**20
"""Files at least this big (about 3,000 exported lines) are validated in a worker process."""

BatchSource = Callable[[Path], Iterable[MergeBatch]]
"""Reads a file into validated batches of runs and attempt rows, raising InputError."""

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


class SqliteRowBinder:
    """Turns an attempt row (`schema.attempt_to_row`'s form) into a SQLite parameter tuple.

    The tuple holds exactly what the column types' own bind processors make, in
    `SQLITE_ATTEMPT_COLUMNS` order; timestamps and empty retry logs take a shortcut that
    gives the same text in well under half the time (tests compare the two).
    """

    def __init__(self, dialect: Dialect) -> None:
        """Bind for `dialect`, the store's SQLite dialect."""
        self._values_in_order = itemgetter(*SQLITE_ATTEMPT_COLUMNS)
        self._converters: list[tuple[int, Callable[[Any], Any]]] = []
        for position, name in enumerate(SQLITE_ATTEMPT_COLUMNS):
            column_type = schema.attempts.c[name].type
            processor: Callable[[Any], Any] | None = column_type.dialect_impl(
                dialect
            ).bind_processor(dialect)
            if isinstance(column_type, schema.UTCDateTime):
                processor = _naive_utc_text
            elif isinstance(column_type, JSON) and processor is not None:
                processor = _empty_list_shortcut(processor)
            if processor is not None:
                self._converters.append((position, processor))

    def __call__(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        """The parameter tuple for one row."""
        values = list(self._values_in_order(row))
        for position, convert in self._converters:
            values[position] = convert(values[position])
        return tuple(values)


def _naive_utc_text(moment: datetime | None) -> str | None:
    # What UTCDateTime then SQLite's DATETIME make: naive UTC, "YYYY-MM-DD HH:MM:SS.ffffff".
    if moment is None:
        return None
    if moment.tzinfo is UTC:  # as the import makes them: skip the conversion, drop "+00:00"
        return moment.isoformat(" ", "microseconds")[:-6]
    if moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} cannot be stored; add a tzinfo")
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _empty_list_shortcut(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    empty = processor([])
    return lambda value: empty if isinstance(value, list) and not value else processor(value)


class _Batch(NamedTuple):
    runs: Sequence[RunRecord]
    rows: list[tuple[Any, ...]]


class _Rejected(NamedTuple):
    # InputError itself does not survive pickling (its args are the rendered line).
    source: str
    message: str
    line: int | None
    field: str | None


class _Finished(NamedTuple):
    pass


def merge_in_worker(store: Store, path: Path, batches: BatchSource) -> ImportSummary:
    """`store.merge_batches(batches(path))`, with `batches` and row binding in a worker.

    Raises the InputError of the first bad line (nothing written); on any failure or
    interruption (Ctrl-C) the worker is stopped before this returns.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    binder = SqliteRowBinder(store.engine.dialect)
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
        summary = store.merge_batches(_received(receiver, worker))
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
            yield MergeBatch(message.runs, (), message.rows)
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
    binder: SqliteRowBinder,
    sender: Connection,
    receiver: Connection,
) -> None:
    """The worker: validate, bind and send every batch, then `_Finished` or `_Rejected`."""
    # Ctrl-C reaches the whole process group; the main process stops the worker itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The forked copy of the reading end would keep the pipe open after the main process
    # died, and a send would then block forever instead of failing.
    receiver.close()
    try:
        try:
            for batch in batches(path):
                sender.send(_Batch(batch.runs, [binder(row) for row in batch.attempts]))
        except InputError as error:
            sender.send(_Rejected(error.source, error.message, error.line, error.field))
        else:
            sender.send(_Finished())
    except BrokenPipeError:
        pass  # the main process has stopped reading: it failed or was interrupted
    finally:
        sender.close()
