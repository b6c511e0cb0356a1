"""PostgreSQL's scan writer on the event loop: group commit without threads.

Scans waiting on the event loop go into a list; a flush task takes everything waiting (up to
MAX_GROUP), writes it in one transaction on an asynchronous connection of its own (psycopg's
AsyncConnection, which waits on the loop's own socket readiness), and answers every caller
after that COMMIT; then it takes what arrived meanwhile. So batches grow with the load and stay
at one scan when it is quiet.

Under load, a flush that has just answered a batch waits a moment (FILL_SECONDS at most) for
the callers it answered to come back before it takes the next batch. Without that wait, a steady
load settles into two alternating halves: the scans that arrived while a batch was writing make
the next batch, and the answered ones make the one after. So each COMMIT carries half of the
clients, and a batch costs the same round trips, transaction and WAL flush however small it is.
A quiet server is not kept waiting: a batch under FILL_FROM scans is followed at once, and the
wait ends as soon as the answered callers' next scans have joined those already waiting
(docs/benchmarks.md, "Fifth session").

One flush writes at a time. A second flush on a second connection would take half of what
waits, so twice the batches for the same scans: each batch costs PostgreSQL a transaction and
a WAL flush, and this process psycopg's round trips, and measured with the scan benchmark one
flush at a time gave 5-20 % more genuine scans a second than two in paired rounds
(docs/benchmarks.md, "Third session"). The second connection is a spare: it starts only when
the running batch has been writing for STALL_SECONDS (waiting on a stamp's row lock that a
portal transaction holds, say), so that one stuck batch cannot hold up every other scan.

Why not threads: writer threads held the GIL the event loop needs and handed every batch and
answer across threads; measured on the reference machine, that cost about as much CPU per scan
as the whole rest of the genuine page (docs/benchmarks.md). Here the only Python a batch adds
is psycopg's, on the loop, once per batch.

The rules are those of the thread writer it replaced, and the batch's statements are the same
code (ScanStore._batch_steps): nobody is answered before the COMMIT that recorded their scan
(`synchronous_commit` stays on); scans in one batch are written in the order of their codes,
so two batches (two connections, or two worker processes) lock their stamps in the same order;
if a batch fails for another reason (a deadlock with a portal transaction, a row that breaks a
constraint) each scan of it is written alone, so one bad scan cannot fail its neighbours; a
connection found dead before COMMIT was sent is replaced and the batch written again (nothing
of it can have landed); a failure during COMMIT answers the batch 503, because the COMMIT may
have landed and a retry could count a scan twice. A caller that has gone (a cancelled request)
before its batch starts is not written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import psycopg

from chinhhang.errors import Unavailable
from chinhhang.i18n import N_
from chinhhang.observability.metrics import count_batch

log = logging.getLogger(__name__)

Item = TypeVar("Item")
T = TypeVar("T")
# Scans written in one transaction at most: bounds a batch's time and its locks.
MAX_GROUP = 256
# Connections per worker process: the one that writes, and a spare for a stuck batch.
CONNECTIONS = 2
# How long a flush may be on one batch (connecting, writing, committing) before the spare
# connection takes what waits behind it.
STALL_SECONDS = 0.05
# After answering a batch of FILL_FROM scans or more, how long a flush may wait for them to come
# back (and for as many as it answered to be waiting) before it takes the next batch: the time
# to render a batch's pages and read the next requests is what makes the two halves.
FILL_SECONDS = 0.001
FILL_FROM = 4
# How long a connection attempt may take before the batch is answered 503, and how long the
# server's shutdown waits for the batches in flight.
CONNECT_SECONDS = 5
CLOSE_SECONDS = 20.0
_BUSY = N_("The service is busy; please try again.")
# SQLSTATEs worth one more try alone: deadlock detected, serialization failure.
_TRANSIENT = frozenset({"40P01", "40001"})


@dataclass(slots=True)
class _Waiting(Generic[Item]):
    item: Item
    key: str
    future: asyncio.Future[Any]


class PgGroupWriter(Generic[Item]):
    def __init__(
        self,
        conninfo: str,
        write: Callable[[Any, Sequence[Item]], Awaitable[list[Any]]],
        after: Callable[[list[Any]], Awaitable[None]] | None = None,
        connections: int = CONNECTIONS,
    ) -> None:
        """`write(cursor, items)` writes a batch in the open transaction of an AsyncCursor and
        returns one result per item; `after(results)` runs after the COMMIT, before the callers
        are answered (to warm caches they will read)."""
        self._conninfo = conninfo
        self._write_batch = write
        self._after = after
        self._waiting: list[_Waiting[Item]] = []
        self._connections: list[psycopg.AsyncConnection[Any] | None] = [None] * connections
        self._flushes: set[asyncio.Task[None]] = set()
        # The running flushes, by connection: when each started its batch in hand (loop time;
        # from its start, so that a flush not yet running counts as writing).
        self._since: dict[int, float] = {}
        self._nudge: asyncio.TimerHandle | None = None
        # While a flush waits for its batch to fill: how many scans it waits for, and the future
        # that ends its wait (answered by `submit` at that many, or by a timer).
        self._filling: tuple[int, asyncio.Future[None]] | None = None
        self._closed = False  # no new scans (shutting down)
        self._stopped = False  # no new flushes or connections either (shut down)
        # The loop whose tasks and connections these are (the server's one loop per worker).
        self.loop = asyncio.get_running_loop()

    def submit(self, item: Item, key: str) -> asyncio.Future[Any]:
        """Queue one item; the future is answered after its batch's COMMIT (on this loop)."""
        if self._closed:
            raise Unavailable(_BUSY)
        future: asyncio.Future[Any] = self.loop.create_future()
        self._waiting.append(_Waiting(item, key, future))
        if self._filling is not None and len(self._waiting) >= self._filling[0]:
            _settle(self._filling[1])
        self._start_flush()
        return future

    def _start_flush(self) -> None:
        """A flush for what waits: on a free connection when none is running, or beside the
        running ones when each has been on its batch for STALL_SECONDS (else a look again
        then, in case no other scan comes to ask)."""
        free = [slot for slot in range(len(self._connections)) if slot not in self._since]
        if self._stopped or not self._waiting or not free:
            return
        wait = self._until_stuck()
        if wait is not None:
            if self._nudge is None:
                self._nudge = self.loop.call_later(wait, self._nudged)
            return
        slot = free[0]  # the first connection writes; the others are spares
        self._since[slot] = self.loop.time()
        task = asyncio.create_task(self._flush(slot))
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    def _nudged(self) -> None:
        self._nudge = None
        self._start_flush()

    def _until_stuck(self, besides: int | None = None) -> float | None:
        """Seconds until the running flushes (but `besides`) all count as stuck; None when
        they already do, or none runs."""
        latest = max(
            (since for slot, since in self._since.items() if slot != besides), default=None
        )
        if latest is None:
            return None
        wait = latest + STALL_SECONDS - self.loop.time()
        return wait if wait > 0 else None

    async def _flush(self, slot: int) -> None:
        """Write batches on connection `slot` while scans are waiting, unless another flush
        that is not stuck can take them."""
        try:
            while self._waiting:
                if self._until_stuck(besides=slot) is not None:
                    break  # another flush is writing: it takes what waits
                self._since[slot] = self.loop.time()
                batch = self._waiting[:MAX_GROUP]
                del self._waiting[:MAX_GROUP]
                live = [waiting for waiting in batch if not waiting.future.done()]
                if not live:
                    continue
                live.sort(key=lambda waiting: waiting.key)
                try:
                    await self._write(slot, live)
                except BaseException as error:  # a fault here must not leave callers waiting
                    log.exception("scan writer failed on a batch of %d", len(live))
                    _fail_all(live, error)
                    await self._drop(slot)
                    if not isinstance(error, Exception):
                        raise
                else:
                    await self._fill(slot, answered=sum(map(_answered, live)))
        finally:
            del self._since[slot]
        # Handed over to a flush that may get stuck later: a look again (now or, if it is
        # still young, after STALL_SECONDS), since no new scan may come to ask.
        self._start_flush()

    async def _fill(self, slot: int, answered: int) -> None:
        """Under load, wait (FILL_SECONDS at most) until `answered` more scans wait than now
        (MAX_GROUP at most): the answered callers render their pages and their clients send
        the next scans meanwhile."""
        target = min(len(self._waiting) + answered, MAX_GROUP)
        if answered < FILL_FROM or self._closed or len(self._waiting) >= target:
            return
        filled: asyncio.Future[None] = self.loop.create_future()
        timer = self.loop.call_later(FILL_SECONDS, _settle, filled)
        self._filling = (target, filled)
        # Waiting to fill is not being stuck on a batch: the spare stays closed meanwhile.
        self._since[slot] = self.loop.time()
        try:
            await filled
        finally:
            timer.cancel()
            if self._filling is not None and self._filling[1] is filled:
                self._filling = None  # (the spare's flush may have started a wait of its own)

    async def _write(self, slot: int, live: list[_Waiting[Item]]) -> None:
        """Write the batch and answer each caller."""
        items = [waiting.item for waiting in live]
        connection: psycopg.AsyncConnection[Any] | None = None
        for attempt in (1, 2):
            try:
                connection = await self._connection(slot)
                async with connection.cursor() as cursor:
                    results = await self._write_batch(cursor, items)
            except Unavailable as error:  # no connection to be had
                _fail_all(live, error)
                return
            except Exception as error:
                await _rollback(connection)
                if _is_disconnect(connection):
                    await self._drop(slot)
                    if attempt == 1:
                        continue  # nothing was committed: write the batch again
                    _fail_all(live, error)
                    return
                if len(live) > 1:
                    for waiting in live:  # one bad scan must not fail its neighbours
                        await self._write(slot, [waiting])
                    return
                if attempt == 1 and getattr(error, "sqlstate", None) in _TRANSIENT:
                    continue  # a deadlock with a portal transaction: once more, alone
                _fail_all(live, error)  # the database refused this one scan: a 503
                return
            try:
                await connection.commit()
            except Exception as error:  # it may have landed: never retried
                if _is_disconnect(connection):
                    await self._drop(slot)
                _fail_all(live, error)
                return
            count_batch(len(live))
            await self._warm(results)
            for waiting, result in zip(live, results, strict=True):
                if not waiting.future.done():
                    waiting.future.set_result(result)
            return

    async def _connection(self, slot: int) -> psycopg.AsyncConnection[Any]:
        connection = self._connections[slot]
        if connection is None or connection.closed:
            if self._stopped:  # shut down: no connection is opened again
                raise Unavailable(_BUSY)
            try:
                connection = await psycopg.AsyncConnection.connect(
                    self._conninfo, connect_timeout=CONNECT_SECONDS
                )
            except Exception as error:  # the server is down: a clear 503, not a 500
                raise Unavailable(_BUSY) from error
            self._connections[slot] = connection
        return connection

    async def _drop(self, slot: int) -> None:
        connection, self._connections[slot] = self._connections[slot], None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()

    async def _warm(self, results: list[Any]) -> None:
        if self._after is None:
            return
        try:
            await self._after(results)
        except Exception:  # only a cache: the page reads it itself if it must
            log.debug("warming after a scan batch failed", exc_info=True)

    async def aclose(self) -> None:
        """The server's shutdown: the flushes in flight write everything queued behind them
        (up to CLOSE_SECONDS); whatever is left is answered 503; the connections close."""
        if self.loop is not asyncio.get_running_loop():
            self.abandon()  # another loop's tasks cannot be awaited here
            return
        self._closed = True
        if self._filling is not None:  # nobody else is coming: write what waits now
            _settle(self._filling[1])
        deadline = self.loop.time() + CLOSE_SECONDS
        # Again while flushes remain: a spare may start behind a stuck batch meanwhile.
        while self._flushes and (remaining := deadline - self.loop.time()) > 0:
            await asyncio.wait(list(self._flushes), timeout=remaining)
        self._stopped = True
        self._stop_nudging()
        # Batches still stuck (on a lock) are answered 503 before their connections close.
        for task in list(self._flushes):
            task.cancel()
        if self._flushes:
            await asyncio.wait(list(self._flushes), timeout=CONNECT_SECONDS)
        left, self._waiting = self._waiting, []
        _fail_all(left, RuntimeError("the server is stopping"))
        for slot in range(len(self._connections)):
            await self._drop(slot)

    def _stop_nudging(self) -> None:
        if self._nudge is not None:
            self._nudge.cancel()
            self._nudge = None

    def abandon(self) -> None:
        """Its loop has closed (a test's portal, never the server's): close the connections
        without it, and refuse what comes."""
        self._closed = self._stopped = True
        self._stop_nudging()
        for connection in self._connections:
            if connection is not None:
                with contextlib.suppress(Exception):
                    connection.pgconn.finish()
        self._connections = [None] * len(self._connections)


def _answered(waiting: _Waiting[Any]) -> bool:
    """Whether the caller got its result (not a 503): it may come back with its next scan."""
    future = waiting.future
    return future.done() and not future.cancelled() and future.exception() is None


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _is_disconnect(connection: psycopg.AsyncConnection[Any] | None) -> bool:
    return connection is None or connection.closed or connection.broken


async def _rollback(connection: psycopg.AsyncConnection[Any] | None) -> None:
    if connection is not None and not connection.closed:
        with contextlib.suppress(Exception):  # a dead connection cannot roll back
            await connection.rollback()


def _fail_all(live: list[_Waiting[Any]], cause: BaseException) -> None:
    if live:
        log.warning("scan batch of %d failed: %s", len(live), type(cause).__name__)
    for waiting in live:
        if not waiting.future.done():
            error = Unavailable(_BUSY)
            error.__cause__ = cause
            waiting.future.set_exception(error)


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
