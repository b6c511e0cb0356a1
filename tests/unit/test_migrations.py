"""Models and migrations do not drift, on either database (DESIGN: `alembic check`)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text

from chinhhang.accounts.services import add_membership, create_organization, create_user
from chinhhang.db import (
    alembic_config,
    make_engine,
    make_sessionmaker,
    session_scope,
    upgrade_database,
)


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


def test_the_lockout_columns_go_and_come_back_with_users_in_place(settings) -> None:
    """Downgrading 0007 on a database with members: SQLite must not rebuild `users` (its
    memberships' foreign keys would refuse the drop)."""
    engine = make_engine(settings)
    with session_scope(make_sessionmaker(engine)) as session:
        org = create_organization(session, name="Giữ lại", kind="manufacturer")
        user = create_user(session, email="kept@example.vn", password="kept password 1")
        add_membership(session, user_id=user.id, org_id=org.id, role="owner")
    with engine.connect() as connection:
        config = alembic_config(settings)
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
        connection.commit()
        columns = {c["name"] for c in sa_inspect(connection).get_columns("users")}
        assert "locked_until" not in columns
        assert connection.execute(text("SELECT count(*) FROM memberships")).scalar() == 1
    engine.dispose()
    upgrade_database(settings)
    engine = make_engine(settings)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT failed_logins FROM users")).scalar() == 0
    engine.dispose()


def test_scan_events_lose_their_foreign_keys_and_keep_their_rows(settings) -> None:
    """0008 drops the four foreign keys of `scan_events` (one lookup and one shared lock on the
    brand's rows per scan) without touching its rows; downgrading puts them back."""
    engine = make_engine(settings)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO scan_events (kind, outcome, scanned_at) "
                "VALUES ('static', 'product', '2026-11-28 10:00:00+00:00')"
            )
        )
    with engine.connect() as connection:
        assert sa_inspect(connection).get_foreign_keys("scan_events") == []
        config = alembic_config(settings)
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
        connection.commit()
        kept = {fk["name"] for fk in sa_inspect(connection).get_foreign_keys("scan_events")}
        assert kept == {
            "fk_scan_events_batch_id_batches",
            "fk_scan_events_org_id_organizations",
            "fk_scan_events_product_id_products",
            "fk_scan_events_stamp_code_stamps",
        }
        assert connection.execute(text("SELECT count(*) FROM scan_events")).scalar() == 1
    engine.dispose()
    upgrade_database(settings)
    engine = make_engine(settings)
    with engine.connect() as connection:
        assert sa_inspect(connection).get_foreign_keys("scan_events") == []
        assert connection.execute(text("SELECT count(*) FROM scan_events")).scalar() == 1
    engine.dispose()
