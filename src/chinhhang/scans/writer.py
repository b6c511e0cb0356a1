"""SQLite's scan writer: one thread, group commits, never the event loop.

SQLite has one writer at a time, and most of a scan's write cost is BEGIN and COMMIT. All
scans of the process go through this thread, which writes whatever has queued up in one
transaction and then answers each caller. Waiting for the database's write lock (held by the
portal, an issuance chunk, another worker) happens here, so the event loop keeps serving; an
earlier design that committed on the event loop could deadlock against a request whose session
held the lock until its teardown ran on that same loop.

Each job is a function run with a cursor inside the shared transaction. If the batch fails
because of one job, the others are retried one by one, so one bad scan cannot fail its
neighbours; if the database itself fails (locked past the timeout, disk error), every job of the
batch fails at once with Unavailable. A job whose caller has gone (a cancelled request) is not
written. The thread also checkpoints the WAL when idle: a checkpoint fsyncs, and it must not
delay scans.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from chinhhang.errors import Unavailable
from chinhhang.i18n import N_

log = logging.getLogger(__name__)

Job = Callable[[sqlite3.Cursor], Any]
# Jobs written in one transaction at most: bounds how long one batch holds the write lock.
MAX_GROUP = 256
CHECKPOINT_INTERVAL_SECONDS = 0.5
_STOP = object()


class GroupWriter:
    def __init__(self, connect: Callable[[], Any]) -> None:
        """`connect` gives a pooled connection (SQLAlchemy's), kept for the thread's life."""
        self._connect = connect
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="scan-writer", daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> Future[Any]:
        future: Future[Any] = Future()
        self._jobs.put((job, future))
        return future

    def close(self) -> None:
        self._jobs.put(_STOP)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        pooled = self._connect()
        connection: sqlite3.Connection = pooled.driver_connection
        connection.execute("PRAGMA wal_autocheckpoint=0")  # this thread checkpoints, when idle
        last_checkpoint = time.monotonic()
        try:
            while True:
                try:
                    first = self._jobs.get(timeout=CHECKPOINT_INTERVAL_SECONDS)
                except queue.Empty:
                    first = None
                if first is _STOP:
                    return
                if time.monotonic() - last_checkpoint >= CHECKPOINT_INTERVAL_SECONDS:
                    _checkpoint(connection)
                    last_checkpoint = time.monotonic()
                if first is None:
                    continue
                batch = [first, *self._drain()]
                stop = _STOP in batch
                self._write(connection, [item for item in batch if item is not _STOP])
                if stop:
                    return
        finally:
            pooled.close()

    def _drain(self) -> list[Any]:
        items: list[Any] = []
        while len(items) < MAX_GROUP - 1:
            try:
                items.append(self._jobs.get_nowait())
            except queue.Empty:
                break
        return items

    def _write(self, connection: sqlite3.Connection, batch: list[tuple[Job, Future[Any]]]) -> None:
        live = [(job, future) for job, future in batch if future.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            results = _transaction(connection, [job for job, _ in live])
        except sqlite3.OperationalError as error:  # the database, not a scan: fail them all
            log.warning("scan batch of %d failed: %s", len(live), error)
            for _, future in live:
                future.set_exception(Unavailable(N_("The service is busy; please try again.")))
            return
        except Exception:  # one job's fault: find it by writing each alone
            for job, future in live:
                try:
                    future.set_result(_transaction(connection, [job])[0])
                except Exception as error:
                    future.set_exception(error)
            return
        for (_, future), result in zip(live, results, strict=True):
            future.set_result(result)


def _transaction(connection: sqlite3.Connection, jobs: list[Job]) -> list[Any]:
    cursor = connection.cursor()
    try:
        cursor.execute("BEGIN IMMEDIATE")
        results = [job(cursor) for job in jobs]
        connection.commit()
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            connection.rollback()
        raise
    finally:
        cursor.close()
    return results


def _checkpoint(connection: sqlite3.Connection) -> None:
    try:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except sqlite3.Error:  # busy: next time
        log.debug("WAL checkpoint skipped", exc_info=True)
