"""The embedded database runs the way docs/architecture.md says it does."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from chinhhang.db import make_engine, make_read_sessionmaker, make_sessionmaker


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_settings) -> None:
    engine = make_engine(sqlite_settings)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    engine.dispose()


def test_read_sessions_take_no_write_lock_and_write_sessions_do(sqlite_settings) -> None:
    """A reader never holds up the scan writer; a writer takes the lock at BEGIN."""
    engine = make_engine(sqlite_settings)
    with make_read_sessionmaker(engine)() as reader, make_sessionmaker(engine)() as writer:
        reader.execute(text("SELECT count(*) FROM stamps"))
        writer.execute(text("SELECT count(*) FROM stamps"))  # BEGIN IMMEDIATE: has the lock
        other = engine.raw_connection()
        try:
            other.driver_connection.execute("PRAGMA busy_timeout=0")
            locked = False
            try:
                other.driver_connection.execute("BEGIN IMMEDIATE")
            except Exception:  # the write session holds the lock
                locked = True
            assert locked
        finally:
            other.close()
        writer.rollback()
        other = engine.raw_connection()
        try:
            other.driver_connection.execute("PRAGMA busy_timeout=0")
            other.driver_connection.execute("BEGIN IMMEDIATE")  # the reader alone holds none
            other.driver_connection.rollback()
        finally:
            other.close()
    engine.dispose()


def test_errors_do_not_carry_statement_parameters(sqlite_settings) -> None:
    """A stamp's code is a bound parameter of the scan and journey statements, and errors are
    logged with their message: the engine keeps parameters out of it."""
    secret = "SECRET-STAMP-CODE-4711"
    engine = make_engine(sqlite_settings)
    try:
        with engine.connect() as conn, pytest.raises(SQLAlchemyError) as caught:
            conn.execute(
                text("SELECT code FROM stamps WHERE code = :code AND nope = 1"), {"code": secret}
            )
    finally:
        engine.dispose()
    assert secret not in str(caught.value)
    assert "hidden" in str(caught.value)  # SQLAlchemy says it left them out
