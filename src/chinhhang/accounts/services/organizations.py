"""Organizations: created by the operator, or self-registered and approved by a regulator."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chinhhang.accounts.actor import Actor
from chinhhang.accounts.models import ORG_KINDS, Organization
from chinhhang.accounts.services.access import can_oversee, require
from chinhhang.accounts.services.audit import record

# A pure GS1 arithmetic module (no models, no I/O): the one mod-10 check digit of GTINs and
# GLNs, shared rather than written twice.
from chinhhang.check_digits import check_digit
from chinhhang.errors import Conflict, Forbidden, InvalidInput, NotFound, plain_text
from chinhhang.i18n import N_

# Who may register themselves; a regulator is created by the operator only.
SELF_REGISTERING_KINDS = ("manufacturer", "distributor", "retailer")


def create_organization(
    session: Session,
    *,
    name: str,
    kind: str,
    address: str | None = None,
    approved: bool = True,
) -> Organization:
    name = plain_text(name, "name").strip()
    if not name or len(name) > 200:
        raise InvalidInput(N_("An organization needs a name of 1 to 200 characters."))
    if kind not in ORG_KINDS:
        raise InvalidInput(
            N_("Unknown organization kind; choose one of: %(kinds)s."), kinds=", ".join(ORG_KINDS)
        )
    address = plain_text(address or "", "address").strip() or None
    if address is not None and len(address) > 300:
        raise InvalidInput(N_("The address is longer than 300 characters."))
    if find_organization(session, name) is not None:
        raise Conflict(N_("An organization named %(name)s already exists."), name=name)
    org = Organization(name=name, kind=kind, address=address, next_serial=1, approved=approved)
    session.add(org)
    try:
        with session.begin_nested():  # the check above can lose a race: say so clearly
            session.flush()  # the caller prints the new id
    except IntegrityError as error:
        raise Conflict(N_("An organization named %(name)s already exists."), name=name) from error
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


def list_organizations(
    session: Session,
    actor: Actor,
    *,
    pending_only: bool = False,
    after: int | None = None,
    limit: int | None = None,
) -> Sequence[Organization]:
    """Regulators and the operator see every organization; others see the approved ones they
    may ship to (name and kind only are shown to them).

    By name; keyset-paged by (name, id) after the organization `after` (all without a limit).
    """
    query = select(Organization).order_by(Organization.name, Organization.id).limit(limit)
    if after is not None:
        previous = session.get(Organization, after)
        if previous is None:
            raise InvalidInput(N_("This page cursor is not valid."))
        query = query.where(
            tuple_(Organization.name, Organization.id) > (previous.name, previous.id)
        )
    if can_oversee(session, actor):
        if pending_only:
            query = query.where(Organization.approved.is_(False))
        return session.scalars(query).all()
    require(session, actor, "view")
    return session.scalars(
        query.where(Organization.approved.is_(True), Organization.kind != "regulator")
    ).all()


def approve_organization(session: Session, actor: Actor, org_id: int) -> Organization:
    """A regulator's owner or admin, or the platform operator, approves a registration."""
    if not actor.platform_admin:
        require(session, actor, "approve_organizations")
    org = get_organization(session, org_id)
    if org.approved:
        raise Conflict(N_("%(name)s is already approved."), name=org.name)
    org.approved = True
    record(session, actor, "organization.approve", f"organization:{org.id}", org_id=org.id)
    return org


def update_organization(
    session: Session,
    actor: Actor,
    *,
    address: str | None = None,
    website: str | None = None,
    gln: str | None = None,
    gs1_company_prefix: str | None = None,
) -> Organization:
    """Change the given fields: None leaves a field as it is, an empty text clears it.

    Every field is checked before any is set, so a refusal changes nothing.
    """
    org = require(session, actor, "edit_organization")
    checks = {
        "address": _checked_address,
        "website": _checked_website,
        "gln": lambda value: parse_gln(value, "gln"),
        "gs1_company_prefix": _checked_company_prefix,
    }
    given = {
        "address": address,
        "website": website,
        "gln": gln,
        "gs1_company_prefix": gs1_company_prefix,
    }
    changes = {field: checks[field](value) for field, value in given.items() if value is not None}
    for field, value in changes.items():
        setattr(org, field, value)
    record(session, actor, "organization.edit", f"organization:{org.id}", fields=sorted(changes))
    return org


def _checked_address(value: str) -> str | None:
    address = plain_text(value, "address").strip() or None
    if address is not None and len(address) > 300:
        raise InvalidInput(N_("The address is longer than 300 characters."))
    return address


def _checked_website(value: str) -> str | None:
    website = plain_text(value, "website").strip() or None
    if website is not None and (
        len(website) > 500 or not website.startswith(("http://", "https://"))
    ):
        raise InvalidInput(N_("%(field)s must be an http:// or https:// address."), field="website")
    return website


def parse_gln(value: str, field: str) -> str | None:
    """A GS1 Global Location Number (13 digits, the last a mod-10 check digit), None for an
    empty text; InvalidInput naming `field` otherwise. Organizations and batch facilities
    (catalog) share it: EPCIS and Circular 02/2024 name places by it."""
    text = value.strip()
    if not text:
        return None
    if len(text) != 13 or not text.isascii() or not text.isdigit():
        raise InvalidInput(N_("%(field)s must be a GLN of 13 digits."), field=field)
    if check_digit(text[:-1]) != int(text[-1]):
        raise InvalidInput(
            N_("The check digit of %(field)s is wrong; check the number for a typing error."),
            field=field,
        )
    return text


def _checked_company_prefix(value: str) -> str | None:
    """6 to 12 digits: the part of a GTIN GS1 gave the company (it splits GTINs into EPC URIs)."""
    text = value.strip()
    if not text:
        return None
    if not 6 <= len(text) <= 12 or not text.isascii() or not text.isdigit():
        raise InvalidInput(N_("A GS1 company prefix has 6 to 12 digits."))
    return text
