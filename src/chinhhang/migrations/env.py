"""Alembic environment: the same migrations run on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

import chinhhang.models  # noqa: F401 - registers every table on Base.metadata
from chinhhang.db import Base

config = context.config
connection = config.attributes.get("connection")


def run(connection_: object) -> None:
    context.configure(
        connection=connection_,  # type: ignore[arg-type]
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:
    # Parameters hidden from errors, as in db.make_engine: a failing data migration must not
    # write a stamp's code into a deployment log.
    engine = create_engine(
        config.get_main_option("sqlalchemy.url") or "",
        poolclass=pool.NullPool,
        hide_parameters=True,
    )
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
