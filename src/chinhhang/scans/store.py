"""The scan hot path's SQL, written by hand on purpose.

DESIGN.md allows the scan path to be hand-tuned: one UPDATE … RETURNING on one stamp row by its
primary key does the limit check and the count increment atomically, so there is no
read-then-write race on any database. On SQLite the writer lock makes it exact; on PostgreSQL a
second UPDATE of the same row waits for the first to commit and re-checks `scan_count <
scan_limit` against the new row (READ COMMITTED re-evaluation), so exactly `limit` scans win.
The scan event goes in the same transaction, so an acknowledged scan is never lost and a crash
before COMMIT counts nothing. Raw DB-API connections skip the ORM, whose per-call cost would be
several times the database's. The benchmark for this module is bench/scan_throughput.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Engine

if TYPE_CHECKING:
    import sqlite3

from chinhhang.db import parse_sqlite_timestamp, sqlite_timestamp

_RETURNED = (
    "status, scan_count, scan_limit, sequence, product_id, batch_id, org_id, first_scanned_at"
)

_CONSUME = """
UPDATE stamps
   SET scan_count = scan_count + 1,
       first_scanned_at = COALESCE(first_scanned_at, :now)
 WHERE code = :code AND status = 'active' AND scan_count < scan_limit
RETURNING status, scan_count, scan_limit, sequence, product_id, batch_id, org_id,
          first_scanned_at
"""
_PEEK = """
SELECT status, scan_count, scan_limit, sequence, product_id, batch_id, org_id, first_scanned_at
  FROM stamps WHERE code = :code
"""
_GRACE = (
    "SELECT r.grace_minutes FROM stamps s JOIN stamp_runs r ON r.id = s.run_id WHERE s.code = :code"
)
_EVENT = """
INSERT INTO scan_events
    (kind, outcome, stamp_code, product_id, batch_id, org_id, scan_number, scanned_at,
     client_net, user_agent)
VALUES (:kind, :outcome, :code, :product_id, :batch_id, :org_id, :scan_number, :now,
        :client_net, :user_agent)
"""
_DESCRIBE = """
SELECT p.id, p.name, p.gtin, p.brand, p.description, p.origin, p.image_url, p.standards,
       p.shelf_life, p.warranty_months, p.website, p.withdrawn,
       o.id, o.name, o.address, o.website,
       b.id, b.lot, b.production_date, b.expiry_date, b.facility
  FROM products p
  JOIN organizations o ON o.id = p.org_id
  LEFT JOIN batches b ON b.id = :batch_id AND b.product_id = p.id
 WHERE p.id = :product_id
"""
CHECKPOINT_INTERVAL_SECONDS = 0.5
log = logging.getLogger(__name__)
# Scans written in one group commit at most; bounds how long one batch holds the write lock.
MAX_GROUP = 256
# Product pages change rarely and every genuine scan needs one: keep it this long per process.
DESCRIBE_TTL_SECONDS = 10.0
_DESCRIBE_CACHE_SIZE = 10_000


class _StaleConnection(Exception):
    """The connection failed before COMMIT: nothing was written, the scan can be retried."""


@dataclass(frozen=True, slots=True)
class StampState:
    status: str
    scan_count: int
    scan_limit: int
    sequence: int
    product_id: int | None
    batch_id: int | None
    org_id: int
    first_scanned_at: datetime | None


@dataclass(frozen=True, slots=True)
class ScanContext:
    """What we keep of the client: truncated network and user agent, never the full address."""

    client_net: str | None
    user_agent: str | None


def _pyformat(sql: str) -> str:
    """`:name` placeholders to psycopg's `%(name)s`."""
    return re.sub(r":([a-z_]+)", r"%(\1)s", sql)


class ScanStore:
    """Scan reads and writes over raw DB-API connections.

    SQLite: one connection per process, guarded by a lock; calls are short enough to run on the
    event loop (see scans/views.py). PostgreSQL: pooled connections, one per call, run in the
    thread pool so the network round trips overlap.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        convert = (lambda s: s) if self.is_sqlite else _pyformat
        self._sql = {
            name: convert(sql)
            for name, sql in {
                "consume": _CONSUME,
                "peek": _PEEK,
                "grace": _GRACE,
                "event": _EVENT,
                "describe": _DESCRIBE,
            }.items()
        }
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self._waiting: list[
            tuple[tuple[str, datetime, ScanContext], asyncio.Future[tuple[str, StampState] | None]]
        ] = []
        self._described: dict[tuple[int, int | None], tuple[float, dict[str, Any]]] = {}
        self._sqlite_connection: Any = None

    @property
    def runs_on_event_loop(self) -> bool:
        return self.is_sqlite

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        if self.is_sqlite:
            with self._lock:
                if self._sqlite_connection is None:
                    self._sqlite_connection = self._open_sqlite()
                yield self._sqlite_connection.driver_connection
            return
        pooled = self.engine.raw_connection()
        try:
            yield pooled.driver_connection
        except (_StaleConnection, self.engine.dialect.loaded_dbapi.OperationalError):
            pooled.invalidate()  # a dead connection must not go back to the pool
            raise
        finally:
            pooled.close()

    def _open_sqlite(self) -> Any:
        """The scan connection never checkpoints the WAL itself: a checkpoint fsyncs the
        database file, and on the event loop that stalls every request for its duration.
        A daemon thread checkpoints instead (PASSIVE: it never blocks the writer)."""
        connection = self.engine.raw_connection()
        cast("sqlite3.Connection", connection.driver_connection).execute(
            "PRAGMA wal_autocheckpoint=0"
        )
        self._checkpointer = threading.Thread(
            target=self._checkpoint_forever, name="sqlite-checkpoint", daemon=True
        )
        self._checkpointer.start()
        return connection

    def _checkpoint_forever(self) -> None:
        while not self._closing.wait(CHECKPOINT_INTERVAL_SECONDS):
            try:
                pooled = self.engine.raw_connection()  # autocommit: no BEGIN around the PRAGMA
                try:
                    driver = cast("sqlite3.Connection", pooled.driver_connection)
                    driver.execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    pooled.close()
            except Exception:  # a busy or closed database: try again next time
                log.debug("WAL checkpoint skipped", exc_info=True)

    def _now(self, now: datetime) -> object:
        return sqlite_timestamp(now) if self.is_sqlite else now

    def consume(
        self, code: str, now: datetime, context: ScanContext
    ) -> tuple[str, StampState] | None:
        """Count one scan if the stamp allows it. Returns (outcome, state), None if no stamp.

        `state` is after the increment for a genuine scan, as found otherwise. Every outcome
        but unknown is recorded as a scan event in the same transaction.
        """
        return self._transaction([(code, now, context)])[0]

    async def consume_soon(
        self, code: str, now: datetime, context: ScanContext
    ) -> tuple[str, StampState] | None:
        """`consume`, committed together with the other scans waiting on this event loop.

        Group commit for SQLite, whose cost per scan is mostly BEGIN and COMMIT: scans that
        arrive while a batch is being written wait for the next one, and each caller gets its
        answer only after the COMMIT that recorded its scan (SPEC: recorded before answered).
        The batch runs in one transaction, so a crash loses all of it or none, and each
        UPDATE still sees the ones before it: the limit stays exact.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[str, StampState] | None] = loop.create_future()
        self._waiting.append(((code, now, context), future))
        if len(self._waiting) == 1:
            loop.call_soon(self._write_waiting)
        return await future

    def _write_waiting(self) -> None:
        batch, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
        if self._waiting:
            asyncio.get_running_loop().call_soon(self._write_waiting)
        try:
            results = self._transaction([scan for scan, _ in batch])
        except Exception:  # one bad scan must not fail its neighbours: retry each alone
            for scan, future in batch:
                try:
                    future.set_result(self._transaction([scan])[0])
                except Exception as error:
                    future.set_exception(error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.cancelled():
                future.set_result(result)

    def _transaction(
        self, scans: list[tuple[str, datetime, ScanContext]]
    ) -> list[tuple[str, StampState] | None]:
        """Count `scans` in one transaction.

        A pooled PostgreSQL connection may have died while idle (server restart, network
        cut). A connection error before COMMIT was sent means nothing was written, so the
        transaction is retried once on a fresh connection. An error during COMMIT is raised:
        the COMMIT may have landed, and a retry could count a scan twice.
        """
        try:
            return self._run(scans)
        except _StaleConnection:
            return self._run(scans)

    def _run(
        self, scans: list[tuple[str, datetime, ScanContext]]
    ) -> list[tuple[str, StampState] | None]:
        lost = () if self.is_sqlite else (self.engine.dialect.loaded_dbapi.OperationalError,)
        with self._connection() as connection:
            cursor = connection.cursor()
            try:
                if self.is_sqlite:
                    cursor.execute("BEGIN IMMEDIATE")
                try:
                    results = [self._count(cursor, *scan) for scan in scans]
                except lost as error:
                    raise _StaleConnection from error
                connection.commit()
            except BaseException:
                # A dead connection cannot roll back; the original error is the one to raise.
                with contextlib.suppress(Exception):
                    connection.rollback()
                raise
            finally:
                cursor.close()
        return results

    def _count(
        self, cursor: Any, code: str, now: datetime, context: ScanContext
    ) -> tuple[str, StampState] | None:
        sql = self._sql
        params = {"code": code, "now": self._now(now)}
        cursor.execute(sql["consume"], params)
        row = cursor.fetchone()
        if row is not None:
            state, outcome = self._state(row), "genuine"
        else:
            cursor.execute(sql["peek"], params)
            found = cursor.fetchone()
            if found is None:
                return None
            state = self._state(found)
            outcome = blocked_outcome(state)
        cursor.execute(
            sql["event"],
            {
                **params,
                "kind": "dynamic",
                "outcome": outcome,
                "product_id": state.product_id,
                "batch_id": state.batch_id,
                "org_id": state.org_id,
                "scan_number": state.scan_count if outcome == "genuine" else None,
                "client_net": context.client_net,
                "user_agent": context.user_agent,
            },
        )
        return outcome, state

    def peek(self, code: str) -> tuple[StampState, int] | None:
        """The stamp and its run's grace period in minutes, without counting anything."""
        with self._connection() as connection:
            cursor = connection.cursor()
            try:
                cursor.execute(self._sql["peek"], {"code": code})
                row = cursor.fetchone()
                if row is None:
                    return None
                cursor.execute(self._sql["grace"], {"code": code})
                (grace,) = cursor.fetchone()
            finally:
                cursor.close()
                connection.rollback()
        return self._state(row), int(grace)

    def describe(self, product_id: int | None, batch_id: int | None) -> dict[str, Any]:
        """Product, manufacturer and batch as plain dicts for the verdict page and JSON.

        Cached for DESCRIBE_TTL_SECONDS: an edit shows on verdict pages within that time.
        Callers must not change the dicts they get.
        """
        if product_id is None:
            return {"product": None, "manufacturer": None, "batch": None}
        key = (product_id, batch_id)
        now = time.monotonic()
        hit = self._described.get(key)
        if hit is not None and now - hit[0] < DESCRIBE_TTL_SECONDS:
            return hit[1]
        with self._connection() as connection:
            cursor = connection.cursor()
            try:
                cursor.execute(
                    self._sql["describe"], {"product_id": product_id, "batch_id": batch_id}
                )
                row = cursor.fetchone()
            finally:
                cursor.close()
                connection.rollback()
        described = _described(row)
        if len(self._described) >= _DESCRIBE_CACHE_SIZE:
            self._described.clear()
        self._described[key] = (now, described)
        return described

    def _state(self, row: Any) -> StampState:
        status, count, limit, sequence, product_id, batch_id, org_id, first = row
        return StampState(
            status,
            int(count),
            int(limit),
            int(sequence),
            product_id,
            batch_id,
            int(org_id),
            parse_sqlite_timestamp(first),
        )

    def close(self) -> None:
        self._closing.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=5)
        with self._lock:
            if self._sqlite_connection is not None:
                self._sqlite_connection.close()
                self._sqlite_connection = None


def _described(row: Any) -> dict[str, Any]:
    if row is None:
        return {"product": None, "manufacturer": None, "batch": None}
    product = dict(zip(_PRODUCT_KEYS, row[:12], strict=True))
    product["withdrawn"] = bool(product["withdrawn"])
    manufacturer = dict(zip(("id", "name", "address", "website"), row[12:16], strict=True))
    batch = dict(zip(_BATCH_KEYS, row[16:], strict=True)) if row[16] is not None else None
    if batch:
        for key in ("production_date", "expiry_date"):
            batch[key] = str(batch[key]) if batch[key] is not None else None
    return {"product": product, "manufacturer": manufacturer, "batch": batch}


_PRODUCT_KEYS = (
    "id",
    "name",
    "gtin",
    "brand",
    "description",
    "origin",
    "image_url",
    "standards",
    "shelf_life",
    "warranty_months",
    "website",
    "withdrawn",
)
_BATCH_KEYS = ("id", "lot", "production_date", "expiry_date", "facility")


def blocked_outcome(state: StampState) -> str:
    """Why a stamp that exists did not count a scan."""
    if state.status == "issued":
        return "not_activated"
    if state.status == "void":
        return "void"
    return "over_limit"
