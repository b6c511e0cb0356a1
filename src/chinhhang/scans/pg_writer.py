"""PostgreSQL's scan writer: group commit from a few writer threads.

One scan per transaction spends most of its time in COMMIT (a WAL flush) and in handing the
work to a thread and back; the database itself does a few tens of microseconds of work per
scan. Here, scans waiting on the event loop go into a queue; a writer thread takes everything
waiting (up to MAX_GROUP), writes it in one transaction (ScanStore._count_batch: one
statement counts the batch's stamps and writes their events, instead of two per scan), and
answers every caller after that COMMIT. While one thread waits for its COMMIT, the next takes
what has arrived meanwhile, so batches grow with the load and stay at one scan when it is quiet.

Durability is unchanged: nobody is answered before the COMMIT that recorded their scan
(`synchronous_commit` stays on). Scans in one batch are written in the order of their codes,
so two batches (in two threads, or two worker processes) that touch the same stamps lock them
in the same order and cannot deadlock with each other. If a batch fails for another reason (a
deadlock with a portal transaction, a row that breaks a constraint) each scan of it is written
alone, so one bad scan cannot fail its neighbours. A connection found dead before COMMIT was
sent is replaced and the batch written again (nothing of it can have landed); a failure during
COMMIT answers the batch 503, because the COMMIT may have landed and a retry could count a scan
twice. A caller that has gone (a cancelled request) before its batch starts is not written.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from chinhhang.errors import Unavailable
from chinhhang.i18n import N_

log = logging.getLogger(__name__)

Item = TypeVar("Item")
T = TypeVar("T")
# Scans written in one transaction at most: bounds a batch's time and its locks.
MAX_GROUP = 256
# Writer threads, each with its own connection. Two keep one batch committing while the next is
# written; more mostly trade the GIL (measured in docs/benchmarks.md).
WRITER_THREADS = 3
_BUSY = N_("The service is busy; please try again.")


@dataclass(slots=True)
class _Waiting(Generic[Item]):
    item: Item
    key: str
    # An asyncio future answered on `loop`, or (loop None) a thread's concurrent future.
    future: asyncio.Future[Any] | concurrent.futures.Future[Any]
    loop: asyncio.AbstractEventLoop | None
    outcome: tuple[bool, Any] = field(default=(False, None))


_STOP = object()
# How long a thread waits for its batch, and the server's shutdown for the writers.
THREAD_WAIT_SECONDS = 30.0
CLOSE_SECONDS = 20.0
# SQLSTATEs worth one more try alone: deadlock detected, serialization failure.
_TRANSIENT = frozenset({"40P01", "40001"})


class PgGroupWriter(Generic[Item]):
    def __init__(
        self,
        connect: Callable[[], Any],
        write: Callable[[Any, Sequence[Item]], list[Any]],
        is_disconnect: Callable[[Exception, Any], bool],
        drop_pool: Callable[[Any], None],
        after: Callable[[list[Any]], None] | None = None,
        threads: int = WRITER_THREADS,
    ) -> None:
        """`connect` gives a pooled connection (SQLAlchemy's); `write(cursor, items)` writes a
        batch in the open transaction and returns one result per item; `drop_pool(pooled)`
        discards a dead connection and every idle one beside it (after a server restart they
        are all dead, and retrying on the next one would fail the batch again); `after(results)`
        runs in the writer thread after the COMMIT, before the callers are answered (to warm
        caches they will read on the event loop)."""
        self._connect = connect
        self._write_batch = write
        self._is_disconnect = is_disconnect
        self._drop_pool = drop_pool
        self._after = after
        self._threads_wanted = threads
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._start_lock = threading.Lock()
        self._closed = False

    def submit(self, item: Item, key: str) -> asyncio.Future[Any]:
        if self._closed:
            raise Unavailable(_BUSY)
        if not self._threads:
            self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.put(_Waiting(item, key, future, loop))
        return future

    def write_now(self, item: Item, key: str) -> Any:
        """From a thread other than the event loop's: queue the item and wait for its batch's
        COMMIT (page views counted in the thread pool join the scans' batches)."""
        if self._closed:
            raise Unavailable(_BUSY)
        if not self._threads:
            self._start()
        done: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._queue.put(_Waiting(item, key, done, None))
        try:
            return done.result(timeout=THREAD_WAIT_SECONDS)
        except concurrent.futures.TimeoutError as error:
            raise Unavailable(_BUSY) from error

    def _start(self) -> None:
        with self._start_lock:
            if self._threads:
                return
            for number in range(self._threads_wanted):
                thread = threading.Thread(
                    target=self._serve, name=f"scan-writer-{number}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    # -- the writer threads -----------------------------------------------------------------

    def _serve(self) -> None:
        pooled: Any = None
        try:
            while True:
                first = self._queue.get()
                if first is _STOP:
                    return
                batch = [first]
                stop = False
                while len(batch) < MAX_GROUP:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is _STOP:
                        stop = True
                        break
                    batch.append(more)
                live = [waiting for waiting in batch if not waiting.future.done()]
                if live:
                    live.sort(key=lambda waiting: waiting.key)
                    try:
                        pooled = self._write(pooled, live)
                    except BaseException as error:  # a fault here must not leave callers waiting
                        log.exception("scan writer failed on a batch of %d", len(live))
                        _fail_all(live, Unavailable(_BUSY), error)
                        if pooled is not None:
                            _drop(pooled)
                        pooled = None
                    _answer(live)
                if stop:
                    return
        finally:
            if pooled is not None:  # closed outright: its pool may have been replaced since
                _drop(pooled)

    def _write(self, pooled: Any, live: list[_Waiting[Item]]) -> Any:
        """Write the batch and set each one's outcome; returns the connection to keep."""
        items = [waiting.item for waiting in live]
        for attempt in (1, 2):
            try:
                if pooled is None:
                    pooled = self._connect()
                connection = pooled.driver_connection
                results = in_cursor(connection, lambda cursor: self._write_batch(cursor, items))
            except Exception as error:
                if pooled is not None and self._is_disconnect(error, pooled.driver_connection):
                    self._drop_pool(pooled)
                    pooled = None
                    if attempt == 1:
                        continue  # nothing was committed: write the batch again
                if pooled is None or isinstance(error, Unavailable):
                    _fail_all(live, Unavailable(_BUSY), error)
                    return pooled
                if len(live) > 1:
                    return self._one_by_one(pooled, live)
                if attempt == 1 and getattr(error, "sqlstate", None) in _TRANSIENT:
                    continue  # a deadlock with a portal transaction: once more, alone
                # The database refused this one scan: a 503 for its caller, never a 500.
                _fail_all(live, Unavailable(_BUSY), error)
                return pooled
            try:
                connection.commit()
            except Exception as error:  # it may have landed: never retried
                if self._is_disconnect(error, connection):
                    self._drop_pool(pooled)
                    pooled = None
                _fail_all(live, Unavailable(_BUSY), error)
                return pooled
            self._warm(results)
            for waiting, result in zip(live, results, strict=True):
                waiting.outcome = (False, result)
            return pooled
        raise AssertionError("unreachable")  # pragma: no cover

    def _one_by_one(self, pooled: Any, live: list[_Waiting[Item]]) -> Any:
        for waiting in live:
            pooled = self._write(pooled, [waiting])
        return pooled

    def _warm(self, results: list[Any]) -> None:
        if self._after is None:
            return
        try:
            self._after(results)
        except Exception:  # only a cache: the event loop reads it itself if it must
            log.debug("warming after a scan batch failed", exc_info=True)

    def close(self) -> None:
        """Write what is queued, then stop the threads (the server's shutdown); whatever
        arrives after that is answered 503 rather than left waiting."""
        self._closed = True
        for _ in self._threads:
            self._queue.put(_STOP)
        deadline = time.monotonic() + CLOSE_SECONDS
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self._threads = []
        left: list[_Waiting[Item]] = []
        while True:
            try:
                waiting = self._queue.get_nowait()
            except queue.Empty:
                break
            if waiting is not _STOP:
                left.append(waiting)
        if left:
            _fail_all(left, Unavailable(_BUSY), RuntimeError("the server is stopping"))
            _answer(left)


def in_cursor(connection: Any, work: Callable[[Any], T]) -> T:
    """`work(cursor)` in the connection's open transaction; rolled back if it raises."""
    cursor = connection.cursor()
    try:
        return work(cursor)
    except BaseException:
        with contextlib.suppress(Exception):  # a dead connection cannot roll back
            connection.rollback()
        raise
    finally:
        with contextlib.suppress(Exception):
            cursor.close()


def _drop(pooled: Any) -> None:
    with contextlib.suppress(Exception):
        pooled.invalidate()


def _fail_all(live: list[_Waiting[Any]], error: Exception, cause: BaseException) -> None:
    log.warning("scan batch of %d failed: %s", len(live), type(cause).__name__)
    error.__cause__ = cause
    for waiting in live:
        waiting.outcome = (True, error)


def _answer(live: list[_Waiting[Any]]) -> None:
    """Hand the outcomes to each caller's event loop, one wake-up per loop and batch, or to
    the waiting thread."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Waiting[Any]]] = {}
    for waiting in live:
        if waiting.loop is None:  # a thread waits: its future is thread-safe
            _settle_all([waiting])
        else:
            by_loop.setdefault(waiting.loop, []).append(waiting)
    for loop, answered in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting
            loop.call_soon_threadsafe(_settle_all, answered)


def _settle_all(answered: list[_Waiting[Any]]) -> None:
    for waiting in answered:
        if waiting.future.done():  # the caller went away meanwhile
            continue
        failed, value = waiting.outcome
        if failed:
            waiting.future.set_exception(value)
        else:
            waiting.future.set_result(value)
