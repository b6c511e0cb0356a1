"""Organization rules. Permission checks join these once accounts exist (portal issue)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from chinhhang.accounts.models import ORG_KINDS, Organization
from chinhhang.errors import Conflict, Forbidden, InvalidInput, NotFound
from chinhhang.i18n import N_


def create_organization(
    session: Session, *, name: str, kind: str, address: str | None = None
) -> Organization:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput(N_("An organization needs a name of 1 to 200 characters."))
    if kind not in ORG_KINDS:
        raise InvalidInput(
            N_("Unknown organization kind; choose one of: %(kinds)s."), kinds=", ".join(ORG_KINDS)
        )
    if find_organization(session, name) is not None:
        raise Conflict(N_("An organization named %(name)s already exists."), name=name)
    org = Organization(name=name, kind=kind, address=address, next_serial=1)
    session.add(org)
    session.flush()  # the caller prints the new id
    return org


def get_organization(session: Session, org_id: int) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound(N_("No such organization."))
    return org


def get_manufacturer(session: Session, org_id: int) -> Organization:
    """Only manufacturers (brand owners) register products and issue stamps (SPEC section 1):
    a distributor or a regulator that could would be able to impersonate a brand."""
    org = get_organization(session, org_id)
    if org.kind != "manufacturer":
        raise Forbidden(
            N_("Only a manufacturer can do this; %(name)s is a %(kind)s."),
            name=org.name,
            kind=org.kind,
        )
    return org


def find_organization(session: Session, name: str) -> Organization | None:
    return session.scalars(select(Organization).where(Organization.name == name)).first()


def reserve_serials(session: Session, org_id: int, quantity: int) -> int:
    """Atomically take `quantity` serial sequence numbers; returns the first.

    One UPDATE … RETURNING, so two runs issued at once never share a serial, on either database.
    """
    first = session.execute(
        update(Organization)
        .where(Organization.id == org_id)
        .values(next_serial=Organization.next_serial + quantity)
        .returning(Organization.next_serial)
    ).scalar_one()
    return int(first) - quantity
