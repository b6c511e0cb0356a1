"""SQLite's scan writer: group commits on the event loop that never wait for a lock there.

SQLite has one writer at a time, and most of a scan's write cost is BEGIN and COMMIT. Scans
waiting on the event loop are written together in one transaction, and each caller is answered
after the COMMIT that recorded its scan. The write runs on the event loop itself: a writer
thread was measured 25 % slower (the two threads trade the GIL on every batch;
docs/benchmarks.md).

The loop must never wait for SQLite's write lock, though: another connection (an issuance
chunk, the portal, another worker) may hold it, perhaps until a request on this very loop
finishes. So this connection's busy timeout is 0: when the lock is taken, the batch is put back
and retried a little later (backoff up to 20 ms) while the loop goes on serving, and only when
the oldest scan has waited BUSY_DEADLINE_SECONDS does the batch fail with Unavailable (503).

If a batch fails because of one job, the others are retried one by one, so one bad scan cannot
fail its neighbours. A job whose caller has gone (a cancelled request) is not written. WAL
checkpoints run in a daemon thread, never here: a checkpoint fsyncs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from chinhhang.errors import Unavailable
from chinhhang.i18n import N_
from chinhhang.observability.metrics import count_batch

log = logging.getLogger(__name__)

Job = Callable[[sqlite3.Cursor], Any]
# Jobs written in one transaction at most: bounds how long one batch holds the loop.
MAX_GROUP = 256
BUSY_DEADLINE_SECONDS = 10.0
_FIRST_BACKOFF, _MAX_BACKOFF = 0.0005, 0.02
CHECKPOINT_INTERVAL_SECONDS = 0.5
_BUSY = N_("The service is busy; please try again.")


class LoopWriter:
    def __init__(self, connect: Callable[[], Any]) -> None:
        """`connect` gives a pooled connection (SQLAlchemy's), kept for the writer's life."""
        self._connect = connect
        self._pooled: Any = None
        self._waiting: deque[tuple[Job, asyncio.Future[Any], float]] = deque()
        self._scheduled = False
        self._backoff = _FIRST_BACKOFF
        self._closing = threading.Event()
        self._checkpointer: threading.Thread | None = None

    def submit(self, job: Job) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._waiting.append((job, future, time.monotonic()))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return future

    def _connection(self) -> sqlite3.Connection:
        if self._pooled is None:
            self._pooled = self._connect()
            connection: sqlite3.Connection = self._pooled.driver_connection
            connection.execute("PRAGMA busy_timeout=0")  # never wait on the loop
            connection.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer does it
            self._checkpointer = threading.Thread(
                target=self._checkpoint_forever, name="sqlite-checkpoint", daemon=True
            )
            self._checkpointer.start()
        return self._pooled.driver_connection  # type: ignore[no-any-return]

    def _flush(self) -> None:
        self._scheduled = False
        batch = [self._waiting.popleft() for _ in range(min(MAX_GROUP, len(self._waiting)))]
        live = [item for item in batch if not item[1].done()]
        if live:
            self._write(live)
        if self._waiting and not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _write(self, live: list[tuple[Job, asyncio.Future[Any], float]]) -> None:
        connection = self._connection()
        try:
            results = transaction(connection, [job for job, _, _ in live])
        except sqlite3.OperationalError as error:
            if _is_busy(error) and time.monotonic() - live[0][2] < BUSY_DEADLINE_SECONDS:
                self._retry_later(live)
                return
            log.warning("scan batch of %d failed: %s", len(live), error)
            for _, future, _ in live:
                _settle(future, error=Unavailable(_BUSY))
            return
        except Exception:  # one job's fault: find it by writing each alone
            for job, future, _ in live:
                try:
                    result = transaction(connection, [job])[0]
                except Exception as error:
                    _settle(future, error=error)
                else:
                    count_batch(1)
                    _settle(future, result=result)
            return
        self._backoff = _FIRST_BACKOFF
        count_batch(len(live))
        for (_, future, _), result in zip(live, results, strict=True):
            _settle(future, result=result)

    def _retry_later(self, live: list[tuple[Job, asyncio.Future[Any], float]]) -> None:
        self._waiting.extendleft(reversed(live))
        loop = asyncio.get_running_loop()
        self._scheduled = True
        loop.call_later(self._backoff, self._flush)
        self._backoff = min(self._backoff * 2, _MAX_BACKOFF)

    def _checkpoint_forever(self) -> None:
        while not self._closing.wait(CHECKPOINT_INTERVAL_SECONDS):
            try:
                self._checkpoint_once()
            except Exception:  # a busy or closed database: try again next time
                log.debug("WAL checkpoint skipped", exc_info=True)

    def _checkpoint_once(self) -> None:
        pooled = self._connect()  # its own connection, in autocommit: no BEGIN around it
        try:
            pooled.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            pooled.close()

    def close(self) -> None:
        self._closing.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=5)
        if self._pooled is not None:
            self._pooled.close()
            self._pooled = None


def _is_busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(error)


def _settle(
    future: asyncio.Future[Any], *, result: Any = None, error: Exception | None = None
) -> None:
    if future.done():  # the caller went away meanwhile
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def transaction(connection: sqlite3.Connection, jobs: list[Job]) -> list[Any]:
    """Run `jobs` in one BEGIN IMMEDIATE … COMMIT; roll back and raise on any error."""
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
