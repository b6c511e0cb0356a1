"""Arrange helpers for the JSON API: a small world of organizations, users and API tokens.

`build_world(sessions, keyring)` makes, through the services, two manufacturers (each with a
product, a batch and a filled, activated run of a few stamps), a distributor, a retailer, a
regulator and a manufacturer still waiting for approval; in every one of them a user and an
API token for each role. Tests (and the authorization matrix) then act over HTTP with
`bearer(world.maker.tokens["owner"])`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import ROLES, AuditEntry, User
from chinhhang.accounts.passwords import hash_password
from chinhhang.accounts.services import add_membership, create_organization, issue_token
from chinhhang.catalog.models import Product
from chinhhang.catalog.services import create_product, save_batch
from chinhhang.db import session_scope
from chinhhang.stamps.codes import Keyring
from chinhhang.stamps.serials import grouped, serial_for
from chinhhang.stamps.services import Selection, activate, codes_of_run, create_run, fill_run
from tests.factories import gtin

PASSWORD = "api-helpers-password"
STAMPS_PER_RUN = 5
LOT = "L001"


@dataclass
class OrgFixture:
    id: int
    name: str
    kind: str
    approved: bool = True
    # role → the API token's secret, and its id
    tokens: dict[str, str] = field(default_factory=dict)
    token_ids: dict[str, int] = field(default_factory=dict)
    # role → (user id, membership id) of a member with that role
    users: dict[str, int] = field(default_factory=dict)
    memberships: dict[str, int] = field(default_factory=dict)
    # Manufacturers only: a product, its batch, and an activated run of STAMPS_PER_RUN stamps.
    product_id: int | None = None
    gtin: str | None = None
    batch_id: int | None = None
    lot: str | None = None
    run_id: int | None = None
    serials: list[str] = field(default_factory=list)  # grouped, in order
    codes: list[str] = field(default_factory=list)  # for scanning in tests; never in the API

    def auth(self, role: str = "owner") -> dict[str, str]:
        return bearer(self.tokens[role])


@dataclass
class ApiWorld:
    maker: OrgFixture
    other_maker: OrgFixture
    distributor: OrgFixture
    retailer: OrgFixture
    regulator: OrgFixture
    pending: OrgFixture

    @property
    def organizations(self) -> list[OrgFixture]:
        return [
            self.maker,
            self.other_maker,
            self.distributor,
            self.retailer,
            self.regulator,
            self.pending,
        ]


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@cache
def _password_hash() -> str:
    """Hashed once: argon2 takes ~0.2 s a hash, and a world has two dozen users."""
    return hash_password(PASSWORD)


_counter = iter(range(1, 10**9))


def build_world(sessions: sessionmaker[Session], keyring: Keyring) -> ApiWorld:
    """The world on the database behind `sessions`; `keyring` must be the app's
    (`settings.keyring`) for the stamps' codes to verify when scanned."""
    n = next(_counter)
    with session_scope(sessions) as session:
        orgs = [
            _org(session, f"Maker A {n}", "manufacturer"),
            _org(session, f"Maker B {n}", "manufacturer"),
            _org(session, f"Distributor {n}", "distributor"),
            _org(session, f"Retailer {n}", "retailer"),
            _org(session, f"Regulator {n}", "regulator"),
            _org(session, f"Pending maker {n}", "manufacturer", approved=False),
        ]
        for org in orgs[:2]:
            _catalog(session, org)
        runs = [
            create_run(session, Actor.command_line(o.id), quantity=STAMPS_PER_RUN) for o in orgs[:2]
        ]
    engine = sessions.kw["bind"]
    for org, run in zip(orgs, runs, strict=False):
        fill_run(engine, run, keyring)
        with session_scope(sessions) as session:
            activate(
                session,
                Actor.command_line(org.id),
                selection=Selection(run_id=run.id),
                product_id=org.product_id or 0,
                lot=org.lot,
            )
            org.run_id = run.id
            org.serials = [grouped(serial_for(run.first_sequence + i)) for i in range(run.quantity)]
            org.codes = [code for _seq, code in codes_of_run(session, run.id)]
    return ApiWorld(*orgs)


def _org(session: Session, name: str, kind: str, *, approved: bool = True) -> OrgFixture:
    org = create_organization(session, name=name, kind=kind, approved=approved)
    fixture = OrgFixture(org.id, name, kind, approved)
    for role in ROLES:
        user = User(email=f"{role}.{org.id}@{kind}.test", password_hash=_password_hash())
        session.add(user)
        session.flush()
        membership = add_membership(session, user_id=user.id, org_id=org.id, role=role)
        made = issue_token(
            session, org, role=role, name=f"{role} token", actor=Actor.command_line(org.id)
        )
        fixture.users[role] = user.id
        fixture.memberships[role] = membership.id
        fixture.tokens[role] = made.secret
        fixture.token_ids[role] = made.token.id
    return fixture


def _catalog(session: Session, org: OrgFixture) -> None:
    actor = Actor.command_line(org.id)
    org.gtin = gtin()
    product = create_product(session, actor, name=f"Product of {org.name}", gtin=org.gtin)
    batch = save_batch(session, actor, product_id=product.id, lot=LOT, facility="Line 1")
    org.product_id, org.batch_id, org.lot = product.id, batch.id, LOT


def wait_for_run(
    client: Any,
    headers: dict[str, str],
    run_id: int,
    *,
    active: int | None = None,
    timeout: float = 20.0,
) -> dict[str, Any]:
    """GET /runs/{id} until it is ready (and, with `active`, has that many active stamps)."""
    deadline = time.monotonic() + timeout
    while True:
        run = client.get(f"/api/v1/runs/{run_id}", headers=headers).json()
        if run["status"] == "ready" and (active is None or run["counts"]["active"] == active):
            return dict(run)
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} not ready after {timeout} s: {run}")
        time.sleep(0.05)


def table_counts(sessions) -> tuple:
    """Rows that any change would add to, and the first product's editable state."""
    with session_scope(sessions) as session:
        audit = session.scalar(select(func.count()).select_from(AuditEntry))
        products = session.execute(
            select(Product.id, Product.name, Product.brand, Product.image_file).order_by(Product.id)
        ).all()
        return audit, products
