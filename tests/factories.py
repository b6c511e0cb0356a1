"""Arrange helpers: an organization, a product, a run of stamps in a given state."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.services import create_organization
from chinhhang.catalog.gtin import check_digit
from chinhhang.catalog.services import create_product
from chinhhang.config import Settings
from chinhhang.db import session_scope
from chinhhang.stamps.models import Stamp
from chinhhang.stamps.services import Selection, activate, create_run, fill_run, void

_counter = iter(range(1, 10**9))


def gtin(n: int | None = None) -> str:
    body = f"02{n if n is not None else next(_counter):011d}"
    return body + str(check_digit(body))


@dataclass
class RunFixture:
    org_id: int
    product_id: int
    run_id: int
    codes: list[str]


def make_run(
    settings: Settings,
    engine: Engine,
    sessions: sessionmaker[Session],
    *,
    quantity: int = 3,
    scan_limit: int = 1,
    grace_minutes: int = 30,
    state: str = "active",
    lot: str | None = "L001",
) -> RunFixture:
    """An organization with one product and a run of `quantity` stamps in `state`."""
    with session_scope(sessions) as session:
        org = create_organization(session, name=f"Org {next(_counter)}", kind="manufacturer")
        product = create_product(
            session,
            Actor.command_line(org.id),
            name="Nước mắm thử nghiệm",
            gtin=gtin(),
            brand="Thử",
        )
        run = create_run(
            session,
            Actor.command_line(org.id),
            quantity=quantity,
            scan_limit=scan_limit,
            grace_minutes=grace_minutes,
            key_id=settings.keyring.current,
        )
        ids = (org.id, product.id)
    fill_run(engine, run, settings.keyring)
    with session_scope(sessions) as session:
        if state in ("active", "void"):
            activate(
                session,
                Actor.command_line(ids[0]),
                selection=Selection(run_id=run.id),
                product_id=ids[1],
                lot=lot,
            )
        if state == "void":
            void(session, Actor.command_line(ids[0]), selection=Selection(run_id=run.id))
        codes = list(
            session.scalars(
                select(Stamp.code).where(Stamp.run_id == run.id).order_by(Stamp.sequence)
            )
        )
    return RunFixture(ids[0], ids[1], run.id, codes)
