"""The SQLite group-commit writer: batches, isolation of a bad job, cancelled callers."""

from __future__ import annotations

import sqlite3
from concurrent.futures import Future
from pathlib import Path

import pytest

from chinhhang.errors import Unavailable
from chinhhang.scans.writer import GroupWriter


class Pooled:
    """Stands in for SQLAlchemy's pooled wrapper around a real sqlite3 connection."""

    def __init__(self, path: Path) -> None:
        self.driver_connection = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False
        )
        self.driver_connection.execute("PRAGMA busy_timeout=200")

    def close(self) -> None:
        self.driver_connection.close()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "w.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)")
    return path


def insert(value: int):
    def job(cursor: sqlite3.Cursor) -> int:
        cursor.execute("INSERT INTO t (v) VALUES (?)", (value,))
        return value

    return job


def values(path: Path) -> list[int]:
    with sqlite3.connect(path) as conn:
        return [v for (v,) in conn.execute("SELECT v FROM t ORDER BY v")]


def test_every_job_is_committed_and_answered(database: Path) -> None:
    writer = GroupWriter(lambda: Pooled(database))
    futures = [writer.submit(insert(i)) for i in range(50)]
    assert [f.result(timeout=10) for f in futures] == list(range(50))
    writer.close()
    assert values(database) == list(range(50))


def test_one_bad_job_does_not_fail_its_neighbours(database: Path) -> None:
    writer = GroupWriter(lambda: Pooled(database))
    writer._write(
        writer_connection := Pooled(database).driver_connection,
        [(insert(1), f1 := Future()), (insert(1), f2 := Future()), (insert(2), f3 := Future())],
    )
    writer_connection.close()
    writer.close()
    assert f1.result() == 1
    assert f3.result() == 2
    with pytest.raises(sqlite3.IntegrityError):
        f2.result()
    assert values(database) == [1, 2]


def test_a_cancelled_caller_is_not_written(database: Path) -> None:
    writer = GroupWriter(lambda: Pooled(database))
    gone: Future[int] = Future()
    gone.cancel()
    kept: Future[int] = Future()
    connection = Pooled(database).driver_connection
    writer._write(connection, [(insert(7), gone), (insert(8), kept)])
    connection.close()
    writer.close()
    assert kept.result() == 8
    assert values(database) == [8]


def test_a_locked_database_fails_the_batch_fast_with_unavailable(database: Path) -> None:
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    writer = GroupWriter(lambda: Pooled(database))
    futures = [writer.submit(insert(i)) for i in range(3)]
    for future in futures:
        with pytest.raises(Unavailable):
            future.result(timeout=10)
    holder.rollback()
    holder.close()
    assert writer.submit(insert(9)).result(timeout=10) == 9
    writer.close()
