"""SQLite's group-commit writer on the event loop: batches, isolation of a bad job, cancelled
callers, and a held write lock that is waited out without blocking the loop."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from chinhhang.errors import Unavailable
from chinhhang.observability.metrics import batch_totals
from chinhhang.scans import writer as writer_module
from chinhhang.scans.writer import LoopWriter


class Pooled:
    """Stands in for SQLAlchemy's pooled wrapper around a real sqlite3 connection."""

    def __init__(self, path: Path) -> None:
        self.driver_connection = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False
        )

    def close(self) -> None:
        self.driver_connection.close()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "w.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)")
    conn.close()
    return path


def insert(value: int):
    def job(cursor: sqlite3.Cursor) -> int:
        cursor.execute("INSERT INTO t (v) VALUES (?)", (value,))
        return value

    return job


def values(path: Path) -> list[int]:
    conn = sqlite3.connect(path)
    try:
        return [v for (v,) in conn.execute("SELECT v FROM t ORDER BY v")]
    finally:
        conn.close()


def run(coroutine):
    return asyncio.run(coroutine)


def test_every_job_is_committed_and_answered(database: Path) -> None:
    writer = LoopWriter(lambda: Pooled(database))

    async def scans() -> list[int]:
        return list(await asyncio.gather(*(writer.submit(insert(i)) for i in range(50))))

    assert run(scans()) == list(range(50))
    writer.close()
    assert values(database) == list(range(50))


def test_one_bad_job_does_not_fail_its_neighbours(database: Path) -> None:
    writer = LoopWriter(lambda: Pooled(database))

    async def scans() -> list[object]:
        jobs = [writer.submit(insert(1)), writer.submit(insert(1)), writer.submit(insert(2))]
        return list(await asyncio.gather(*jobs, return_exceptions=True))

    before = batch_totals()
    first, duplicate, third = run(scans())
    writer.close()
    assert (first, third) == (1, 2)
    assert isinstance(duplicate, sqlite3.IntegrityError)
    assert values(database) == [1, 2]
    # The failed batch is not measured (chinhhang_scan_batch_size); the two good jobs were
    # committed one by one.
    count, total = batch_totals()
    assert (count - before[0], total - before[1]) == (2, 2)


def test_a_cancelled_caller_is_not_written(database: Path) -> None:
    writer = LoopWriter(lambda: Pooled(database))

    async def scans() -> int:
        gone = writer.submit(insert(7))
        kept = writer.submit(insert(8))
        gone.cancel()
        return await kept

    assert run(scans()) == 8
    writer.close()
    assert values(database) == [8]


def test_a_held_lock_is_waited_out_while_the_loop_keeps_serving(database: Path) -> None:
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    writer = LoopWriter(lambda: Pooled(database))
    ticks = 0

    async def scans() -> list[int]:
        nonlocal ticks
        pending = asyncio.gather(*(writer.submit(insert(i)) for i in range(3)))
        for _ in range(20):  # the loop is free while the writer waits for the lock
            await asyncio.sleep(0.005)
            ticks += 1
        holder.rollback()
        return list(await pending)

    assert run(scans()) == [0, 1, 2]
    assert ticks == 20
    holder.close()
    writer.close()


def test_a_lock_held_past_the_deadline_fails_the_batch_with_unavailable(
    database: Path, monkeypatch
) -> None:
    monkeypatch.setattr(writer_module, "BUSY_DEADLINE_SECONDS", 0.1)
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    writer = LoopWriter(lambda: Pooled(database))

    async def scans() -> list[object]:
        jobs = [writer.submit(insert(i)) for i in range(3)]
        return list(await asyncio.gather(*jobs, return_exceptions=True))

    outcomes = run(scans())
    holder.rollback()
    holder.close()
    writer.close()
    assert all(isinstance(outcome, Unavailable) for outcome in outcomes)
    assert values(database) == []
