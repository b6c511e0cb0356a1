"""Engine, sessions and the declarative base; the one place that knows SQLite from PostgreSQL.

SQLite runs in WAL mode with `synchronous=NORMAL`: a committed scan survives a process crash
(the WAL is written before COMMIT returns) and only an OS crash or power cut can lose the last
transactions, the usual trade for an embedded server. Write transactions start with
`BEGIN IMMEDIATE` so two writers never both hold a read lock and then deadlock on upgrade.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, Engine, MetaData, Select, create_engine, event, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from chinhhang.config import Settings

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLITE_BUSY_TIMEOUT_MS = 10_000
READ_ONLY = "chinhhang_read_only"
# The advisory lock key that serialises migrations on PostgreSQL ("chinhhang" in ASCII, cut).
MIGRATION_LOCK = 0x6368696E68


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, _dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def sqlite_timestamp(value: datetime) -> str:
    """The text SQLAlchemy's SQLite DATETIME stores, for the hand-written hot path."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def parse_sqlite_timestamp(value: str | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _sqlite_on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # Let us issue BEGIN ourselves (see _sqlite_on_begin); pysqlite's implicit BEGIN is deferred.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    # Read-only sessions (make_read_sessionmaker) take no write lock.
    read_only = conn.get_execution_options().get(READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_engine(settings: Settings, **kwargs: Any) -> Engine:
    """The application's engine. Statement parameters are hidden from SQLAlchemy's errors
    and logs (`hide_parameters`): they hold stamp codes, token hashes and e-mail addresses,
    and an error is logged with its message (SPEC: secrets never appear in logs)."""
    kwargs["hide_parameters"] = True
    url = settings.sqlalchemy_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 10}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


# Per table, how many committed ORM transactions of this process wrote it.
_table_writes: dict[str, int] = {}
_WRITTEN = "chinhhang_tables_written"


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context: Any) -> None:
    written = session.info.setdefault(_WRITTEN, set())
    for instance in (*session.new, *session.dirty, *session.deleted):
        table = getattr(instance, "__table__", None)
        if table is not None:
            written.add(table.name)


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: Any) -> None:
    """Bulk INSERT, UPDATE and DELETE statements run through a session change data too."""
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if table is not None:
            state.session.info.setdefault(_WRITTEN, set()).add(table.name)


@event.listens_for(Session, "after_commit")
def _count_commit(session: Session) -> None:
    for name in session.info.pop(_WRITTEN, ()):
        _table_writes[name] = _table_writes.get(name, 0) + 1


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_WRITTEN, None)


def table_writes(tables: frozenset[str]) -> int:
    """How many committed ORM writes this process has made to these tables: a page kept in
    memory since an earlier value may show data that changed since (scans/page_cache.py).
    Counted after COMMIT, so a page built before then is not taken for the new data. The scan
    path writes with raw SQL, so scans never move it."""
    return sum(_table_writes.get(name, 0) for name in tables)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def make_read_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that only read; on SQLite their transactions begin DEFERRED (no write lock)."""
    return sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Unit of work for the CLI and workers: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", "chinhhang:migrations")
    config.set_main_option("sqlalchemy.url", settings.sqlalchemy_url.replace("%", "%%"))
    return config


def upgrade_database(settings: Settings, revision: str = "head") -> None:
    """Apply migrations; safe to run at every start (SPEC: `serve` migrates first).

    On PostgreSQL several servers may start at once against one database: a transaction-level
    advisory lock lets one migrate while the others wait, then find nothing left to do (without
    it, the second failed on a duplicate key). SQLite's write lock does the same there.
    """
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            config = alembic_config(settings)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
    finally:
        engine.dispose()


def any_row(sessions: sessionmaker[Session], query: Select[Any]) -> bool:
    """Whether `query` finds a row, read without a write lock. Background workers poll every
    second; on SQLite their sessions' BEGIN IMMEDIATE would take the one write lock each time,
    so they look first and open a writing transaction only when there is work."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, Engine):
        return True
    with bind.execution_options(**{READ_ONLY: True}).connect() as connection:
        return connection.execute(query.limit(1)).first() is not None
