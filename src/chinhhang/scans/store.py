"""Scan reads and writes over raw DB-API connections (see scans/sql.py for the statements).

Scans from the event loop are group-committed on both databases. SQLite: on the loop itself
(scans/writer.py); writes from other threads (static-page scans, the CLI, tests) use a pooled
connection each, waiting for the write lock as long as the busy timeout allows; reads use one
connection of their own, guarded by a lock, short enough to run on the event loop (WAL readers
never wait for the writer). PostgreSQL: also on the loop, on a few asynchronous connections of
the writer's own, one statement for a batch's counts and events (scans/pg_writer.py,
sql.PG_CONSUME_BATCH); other calls (threads: the resolver's page views, the CLI, reads) take a
pooled connection each, so that network round trips overlap; a connection found dead is
replaced and the call retried once, when nothing can have been written yet.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar, cast

from anyio.to_thread import run_sync
from sqlalchemy import Engine

from chinhhang.db import sqlite_timestamp
from chinhhang.errors import Unavailable
from chinhhang.i18n import N_
from chinhhang.scans.pg_writer import PgGroupWriter, in_cursor
from chinhhang.scans.sql import (
    GENUINE,
    PG_CONSUME_BATCH,
    PG_STATIC_BATCH,
    Place,
    ScanContext,
    StampState,
    StaticView,
    blocked_outcome,
    described,
    for_driver,
    row_place,
    row_state,
)
from chinhhang.scans.steps import ALL, MANY, NONE, ONE, Steps, run_steps, run_steps_async
from chinhhang.scans.writer import LoopWriter, transaction
from chinhhang.ttl_cache import TtlCache

T = TypeVar("T")
Counted = tuple[str, StampState] | None
# Product pages change rarely and every genuine scan needs one: keep it this long per process.
DESCRIBE_TTL_SECONDS = 10.0
_DESCRIBE_CACHE_SIZE = 10_000
_BUSY = N_("The service is busy; please try again.")


@dataclass(frozen=True, slots=True)
class _Scan:
    code: str
    now: object
    context: ScanContext


@dataclass(frozen=True, slots=True)
class _Static:
    """A printed static code's page view, written in the scans' batches on PostgreSQL."""

    view: StaticView
    now: object
    context: ScanContext


class ScanStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._sql = for_driver("named" if self.is_sqlite else "pyformat")
        self._read_lock = threading.Lock()  # SQLite's one reading connection
        self._reader: Any = None
        self._writer: LoopWriter | None = None
        self._pg_group: PgGroupWriter[_Scan | _Static] | None = None
        self._described: TtlCache[dict[str, Any]] = TtlCache(
            DESCRIBE_TTL_SECONDS, _DESCRIBE_CACHE_SIZE
        )

    @property
    def runs_on_event_loop(self) -> bool:
        return self.is_sqlite

    # -- writes -----------------------------------------------------------------------------

    def consume(self, code: str, now: datetime, context: ScanContext) -> Counted:
        """Count one scan if the stamp allows it: (outcome, state), or None for no such stamp.

        `state` is after the increment for a genuine scan, as found otherwise. Every outcome but
        unknown is recorded as a scan event in the same transaction, committed before this
        returns. Raises Unavailable when the database cannot take it.
        """
        job = self._count_job(code, now, context)
        if self.is_sqlite:
            return self._sqlite_direct(job)
        return self._postgres(job, writes=True)

    async def consume_soon(self, code: str, now: datetime, context: ScanContext) -> Counted:
        """`consume` for the event loop: waits for the group commit without blocking it."""
        result: Counted
        if self.is_sqlite:
            result = await self._sqlite_writer().submit(self._count_job(code, now, context))
        else:
            scan = _Scan(code, self._now(now), context)
            result = await self._pg_writer().submit(scan, code)
        return result

    def record_static(self, view: StaticView, now: datetime, context: ScanContext) -> None:
        """One scan of a printed static code, committed before this returns (from a thread)."""
        item = _Static(view, self._now(now), context)
        if self.is_sqlite:
            self._sqlite_direct(self._static_job(item))
        else:
            self._postgres(self._static_job(item), writes=True)

    async def record_static_soon(
        self, view: StaticView, now: datetime, context: ScanContext
    ) -> None:
        """`record_static` for the event loop: a page served from memory is counted without a
        thread of the pool waiting for the COMMIT (a burst on one printed code would hold
        them all)."""
        item = _Static(view, self._now(now), context)
        if self.is_sqlite:
            await self._sqlite_writer().submit(self._static_job(item))
        else:
            await self._pg_writer().submit(item, "")

    def _static_job(self, item: _Static) -> Callable[[Any], None]:
        params = {
            "product_id": item.view.product_id,
            "batch_id": item.view.batch_id,
            "org_id": item.view.org_id,
            "now": item.now,
            "client_net": item.context.client_net,
            "user_agent": item.context.user_agent,
        }

        def job(cursor: Any) -> None:
            cursor.execute(self._sql["static_event"], params)

        return job

    async def record_guessing_soon(self, client_net: str | None, now: datetime) -> None:
        """One guessing alert's outbox row (scans/guessing.py decides when); committed before
        this returns. Raises Unavailable when the database cannot take it."""
        params = {"client_net": client_net, "now": self._now(now)}

        def job(cursor: Any) -> None:
            cursor.execute(self._sql["guessing"], params)

        if self.is_sqlite:
            await self._sqlite_writer().submit(job)
        else:
            await run_sync(partial(self._postgres, job, writes=True))

    def _count_job(
        self, code: str, now: datetime, context: ScanContext
    ) -> Callable[[Any], Counted]:
        params = {"code": code, "now": self._now(now)}

        def job(cursor: Any) -> Counted:
            counted = self._count(cursor, params)
            if counted is not None:
                row = _event_row(params, context, *counted)
                cursor.execute(self._sql["event"], row)
                if row["outcome"] != GENUINE:  # over limit, not activated, void: owner is told
                    cursor.execute(self._sql["outbox"], row)
            return counted

        return job

    def _batch_steps(self, items: Sequence[_Scan | _Static]) -> Steps[list[Counted]]:
        """PostgreSQL: `_count_job` for a whole batch in one statement for its page views and
        one for its scans that count (sql.PG_CONSUME_BATCH), instead of two per scan. A stamp
        scanned twice in one batch goes in a second statement, which sees the first's
        increment. A page view's result is None. Written as steps (scans/steps.py), run by the
        event loop's writer (scans/pg_writer.py); a single scan's steps run on a cursor too."""
        views = [item for item in items if isinstance(item, _Static)]
        if views:
            yield NONE, PG_STATIC_BATCH, _static_batch(views)
        results: list[Counted] = [None] * len(items)
        pending = [(index, item) for index, item in enumerate(items) if isinstance(item, _Scan)]
        events: list[dict[str, Any]] = []  # of scans the batch statement did not count
        # Codes the batch statement did not count, with why: their repeats in this batch get
        # the same answer without another statement (a copied code scanned 256 times at once
        # is one statement and one look, not 256 of each).
        refused: dict[str, Counted] = {}
        while pending:
            layer, pending = _distinct_codes(pending)
            rows = yield ALL, PG_CONSUME_BATCH, _scan_batch([scan for _, scan in layer])
            counted = {row[0]: row[1:] for row in rows}
            for position, (index, scan) in enumerate(layer, start=1):
                row = counted.get(position)
                if row is not None:
                    results[index] = (GENUINE, row_state(row))
                    continue
                # Not counted: not active, over its limit or no such stamp; a look says which
                # (and counts it after all if it was activated in between).
                found = yield from self._refused_steps(_params(scan))
                results[index] = refused[scan.code] = found
                if found is not None:
                    events.append(_event_row(_params(scan), scan.context, *found))
            for index, scan in [entry for entry in pending if entry[1].code in refused]:
                results[index] = found = refused[scan.code]
                if found is not None:
                    events.append(_event_row(_params(scan), scan.context, *found))
            pending = [entry for entry in pending if entry[1].code not in refused]
        if events:
            yield MANY, self._sql["event"], events
        outbox = [event for event in events if event["outcome"] != GENUINE]
        if outbox:
            yield MANY, self._sql["outbox"], outbox
        return results

    def _warm_descriptions(self, results: list[Counted]) -> None:
        """In the thread pool, after a PostgreSQL batch whose products the cache lacks: read
        them here, not on the event loop that renders the verdict pages."""
        for counted in results:
            if counted is not None:
                # Refreshed at half its age, so the loop's read (full age) never finds it stale.
                state = counted[1]
                self.describe(state.product_id, state.batch_id, DESCRIBE_TTL_SECONDS / 2)

    def _refused_steps(self, params: dict[str, Any]) -> Steps[Counted]:
        """Why a scan the batch statement just refused was refused: a look, and a count only
        if the stamp has become countable since (activated or re-limited in between)."""
        found = yield ONE, self._sql["peek"], params
        if found is None:
            return None
        state = row_state(found)
        if state.status == "active" and state.scan_count < state.scan_limit:
            return (yield from self._count_steps(params))
        return blocked_outcome(state), state

    def _count(self, cursor: Any, params: dict[str, Any]) -> Counted:
        return run_steps(cursor, self._count_steps(params))

    def _count_steps(self, params: dict[str, Any]) -> Steps[Counted]:
        for _attempt in range(2):
            row = yield ONE, self._sql["consume"], params
            if row is not None:
                return GENUINE, row_state(row)
            found = yield ONE, self._sql["peek"], params
            if found is None:
                return None
            state = row_state(found)
            # Activated (or re-limited) between the UPDATE and the SELECT: count it after all.
            if not (state.status == "active" and state.scan_count < state.scan_limit):
                return blocked_outcome(state), state
        return blocked_outcome(state), state

    # -- reads ------------------------------------------------------------------------------

    def peek(self, code: str) -> tuple[StampState, int] | None:
        """The stamp and its run's grace period in minutes, without counting anything."""

        def read(cursor: Any) -> tuple[StampState, int] | None:
            cursor.execute(self._sql["peek"], {"code": code})
            row = cursor.fetchone()
            if row is None:
                return None
            cursor.execute(self._sql["grace"], {"code": code})
            (grace,) = cursor.fetchone()
            return row_state(row), int(grace)

        return self._read(read)

    def first_place(self, code: str) -> Place | None:
        """Where the stamp's first genuine scan was, if its shopper shared it (one read by the
        stamp's code, for over-limit pages only; the genuine path never asks)."""

        def read(cursor: Any) -> Place | None:
            cursor.execute(self._sql["first_place"], {"code": code})
            return row_place(cursor.fetchone())

        return self._read(read)

    def describe(
        self, product_id: int | None, batch_id: int | None, max_age: float = DESCRIBE_TTL_SECONDS
    ) -> dict[str, Any]:
        """Product, manufacturer and batch as plain dicts for the verdict page and JSON.

        Cached for DESCRIBE_TTL_SECONDS: an edit shows on verdict pages within that time.
        Callers must not change the dicts they get.
        """
        if product_id is None:
            return described(None)
        key = (product_id, batch_id)
        hit = self._described.get(key, max_age)
        if hit is not None:
            return hit

        def read(cursor: Any) -> Any:
            cursor.execute(self._sql["describe"], {"product_id": product_id, "batch_id": batch_id})
            return cursor.fetchone()

        result = described(self._read(read))
        self._described.put(key, result)
        return result

    def _read(self, read: Callable[[Any], T]) -> T:
        if not self.is_sqlite:
            return self._postgres(read, writes=False)
        with self._read_lock:
            if self._reader is None:
                self._reader = self.engine.raw_connection()
            connection = self._reader.driver_connection
            cursor = connection.cursor()
            try:
                return read(cursor)
            finally:
                cursor.close()
                connection.rollback()

    # -- connections ------------------------------------------------------------------------

    def _sqlite_writer(self) -> LoopWriter:
        if self._writer is None:
            self._writer = LoopWriter(self.engine.raw_connection)
        return self._writer

    def _pg_writer(self) -> PgGroupWriter[_Scan | _Static]:
        """The running loop's writer; made at its first scan (a test's client may bring a loop
        of its own: the old one's writer is let go)."""
        writer = self._pg_group
        if writer is None or writer.loop is not asyncio.get_running_loop():
            if writer is not None:
                writer.abandon()
            conninfo = self.engine.url.set(drivername="postgresql").render_as_string(
                hide_password=False
            )
            writer = self._pg_group = PgGroupWriter(
                conninfo, self._count_batch_async, after=self._warm_descriptions_soon
            )
        return writer

    async def _count_batch_async(
        self, cursor: Any, items: Sequence[_Scan | _Static]
    ) -> list[Counted]:
        return await run_steps_async(cursor, self._batch_steps(items))

    async def _warm_descriptions_soon(self, results: list[Counted]) -> None:
        """After a batch on the loop: if the verdict pages will need a product the cache lacks,
        it is read in the thread pool, not on the loop that renders them."""
        half_age = DESCRIBE_TTL_SECONDS / 2
        if any(
            self._described.get((counted[1].product_id, counted[1].batch_id), half_age) is None
            for counted in results
            if counted is not None
        ):
            await run_sync(self._warm_descriptions, results)

    def _sqlite_direct(self, job: Callable[[Any], T]) -> T:
        """One job in its own transaction, off the event loop (it may wait for the lock)."""
        pooled = self.engine.raw_connection()
        try:
            connection = cast("sqlite3.Connection", pooled.driver_connection)
            result: T = transaction(connection, [job])[0]
            return result
        except sqlite3.OperationalError as error:
            raise Unavailable(_BUSY) from error
        finally:
            pooled.close()

    def _postgres(self, work: Callable[[Any], T], *, writes: bool) -> T:
        """Run `work` in a transaction; once more on a fresh pool if the connection was dead.

        A disconnect before COMMIT was sent means nothing was written: safe to retry. After a
        server restart every pooled connection is dead, so the whole pool is replaced, not just
        the one that failed. A failure during COMMIT is not retried (the COMMIT may have landed
        and a retry could count a scan twice) and ends as Unavailable.
        """
        for attempt in (1, 2):
            with self._pg_connection() as pooled:
                connection = pooled.driver_connection
                try:
                    result = in_cursor(connection, work)
                except Exception as error:
                    if not self._is_disconnect(error, connection):
                        raise
                    self._drop_pool(pooled)
                    if attempt == 2:
                        raise Unavailable(_BUSY) from error
                    continue
                try:
                    connection.commit() if writes else connection.rollback()
                except Exception as error:
                    if self._is_disconnect(error, connection):
                        self._drop_pool(pooled)
                        raise Unavailable(_BUSY) from error
                    raise
                return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _drop_pool(self, pooled: Any) -> None:
        """After a server restart all pooled connections are dead, not just this one."""
        pooled.invalidate()
        self.engine.dispose()  # idle connections closed; those in use are dropped on return

    @contextmanager
    def _pg_connection(self) -> Iterator[Any]:
        try:
            pooled = self.engine.raw_connection()
        except Exception as error:  # the server is down: a clear 503, not a 500
            raise Unavailable(_BUSY) from error
        try:
            yield pooled
        finally:
            if pooled.is_valid:
                pooled.close()

    def _is_disconnect(self, error: Exception, connection: Any) -> bool:
        dbapi = self.engine.dialect.loaded_dbapi
        return isinstance(error, dbapi.Error) and bool(
            self.engine.dialect.is_disconnect(error, connection, None)
        )

    def _now(self, now: datetime) -> object:
        return sqlite_timestamp(now) if self.is_sqlite else now

    async def aclose(self) -> None:
        """`close` from the event loop (the server's shutdown): the writer's batches in flight
        and everything queued behind them are committed and answered first."""
        if self._pg_group is not None:
            await self._pg_group.aclose()
            self._pg_group = None
        self.close()

    def close(self) -> None:
        if self._pg_group is not None:
            self._pg_group.abandon()
            self._pg_group = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        with self._read_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None


def _distinct_codes(
    scans: list[tuple[int, _Scan]],
) -> tuple[list[tuple[int, _Scan]], list[tuple[int, _Scan]]]:
    """The first scan of each code (in order), and the repeats for the next statement."""
    first: list[tuple[int, _Scan]] = []
    repeats: list[tuple[int, _Scan]] = []
    seen: set[str] = set()
    for entry in scans:
        if entry[1].code in seen:
            repeats.append(entry)
        else:
            seen.add(entry[1].code)
            first.append(entry)
    return first, repeats


def _params(scan: _Scan) -> dict[str, Any]:
    return {"code": scan.code, "now": scan.now}


def _scan_batch(scans: list[_Scan]) -> dict[str, str]:
    """sql.PG_CONSUME_BATCH's parameter: [code, time, network, user agent] per scan."""
    rows = [
        [scan.code, _iso(scan.now), scan.context.client_net, scan.context.user_agent]
        for scan in scans
    ]
    return {"batch": json.dumps(rows)}


def _static_batch(views: list[_Static]) -> dict[str, str]:
    """sql.PG_STATIC_BATCH's parameter: one array per page view."""
    rows = [
        [
            item.view.product_id,
            item.view.batch_id,
            item.view.org_id,
            _iso(item.now),
            item.context.client_net,
            item.context.user_agent,
        ]
        for item in views
    ]
    return {"batch": json.dumps(rows)}


def _iso(now: object) -> str:
    """An aware datetime in the form PostgreSQL reads back to the microsecond."""
    return cast("datetime", now).isoformat()


def _event_row(
    params: dict[str, Any], context: ScanContext, outcome: str, state: StampState
) -> dict[str, Any]:
    """The scan event (and, for a suspicious outcome, the outbox row) of one counted scan."""
    return {
        **params,
        "kind": "dynamic",
        "outcome": outcome,
        "product_id": state.product_id,
        "batch_id": state.batch_id,
        "org_id": state.org_id,
        "scan_number": state.scan_count if outcome == GENUINE else None,
        "client_net": context.client_net,
        "user_agent": context.user_agent,
    }
