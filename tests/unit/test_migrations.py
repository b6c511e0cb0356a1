"""Models and migrations do not drift, on either database (DESIGN: `alembic check`)."""

from __future__ import annotations

from alembic import command

from chinhhang.db import alembic_config, make_engine, upgrade_database


def test_models_match_migrations(settings) -> None:
    engine = make_engine(settings)
    with engine.connect() as connection:
        config = alembic_config(settings)
        config.attributes["connection"] = connection
        command.check(config)  # raises if autogenerate would emit anything
    engine.dispose()


def test_migrations_run_down_and_up(settings) -> None:
    engine = make_engine(settings)
    with engine.connect() as connection:
        config = alembic_config(settings)
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        connection.commit()
    engine.dispose()
    upgrade_database(settings)
